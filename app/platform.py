"""The running platform: the shared parts every route uses, built once per app.

Routes reach it as `request.app.state.platform`; nothing is a module-level global, so tests
and benchmarks can run several apps in one process.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import signal
import threading
from pathlib import Path
from typing import Any

from app import ingest
from app.ingest import upload
from app.ingest.context_index import ContextIndex
from app.ratelimit.limiter import StreamLimiter
from app.redis_link import RedisLinks
from app.agent.intents import IntentClassifier
from app.catalog.demo import generate_catalog
from app.search.embedder import MODEL_ID, Embedder
from app.llm.base import LanguageModel
from app.llm.grounded import GroundedProvider
from app.search.service import SearchService
from app.tts.auto import build_engine
from app.tts.engine import TTSEngine
from app.store.embedded import EmbeddedMongo
from app.store.mongo import Store
from app.streams.metrics import StreamMetrics
from app.streams.replay import MemoryReplayBuffer, ReplayBuffer
from app.streams.runs import Runs
from app.streams.signals import LocalSignals, StreamSignals
from config.settings import Settings

log = logging.getLogger("storestream")

_INDEX_RETRY_S = 5.0
ANSWER_MARGIN_S = 30.0


class Platform:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.metrics = StreamMetrics()
        # Redis servers shared with other instances (limiter, stream leases, replay), if any.
        self.instance_id = secrets.token_hex(6)
        self.redis = RedisLinks(
            timeout_ms=settings.redis_timeout_ms, lease_s=settings.redis_lease_s,
            instance_id=self.instance_id,
        )
        self.limiter = StreamLimiter(settings, self.metrics, self.redis)
        self.replay: ReplayBuffer = _replay_buffer(settings, self.redis)
        self.signals: StreamSignals = _signals(settings, self.redis)
        # The streams this instance runs, attached or detached (app/streams/runs.py).
        self.runs = Runs(signals=self.signals, metrics=self.metrics)
        self.stream_endpoints: dict[str, Any] = {}  # name -> StreamEndpoint, filled by stream_routes
        self.embedded: EmbeddedMongo | None = None
        self.store: Store | None = None
        self.db_error: str | None = "not started"
        self.models: dict[str, str] = {}  # name -> what it is; filled as models load
        self.embedder: Embedder | None = (
            Embedder(
                threads=settings.torch_threads,
                model_path=settings.embedding_model_path,
                cache_size=settings.embedding_cache_size,
            )
            if settings.search_embeddings
            else None
        )
        self.search = SearchService(self.embedder, exact_max=settings.vector_exact_max)
        # Uploaded context files (app/ingest/): chunk vectors for retrieval.
        self.context = ContextIndex(self.embedder, exact_max=settings.vector_exact_max)
        # The sales agent's intent classifier (config/intents.toml); rules and n-grams until
        # the sentence model is loaded, embeddings too after.
        self.intents = IntentClassifier(embedder=self.embedder)
        self.llm: LanguageModel = _language_model(settings)
        self.tts: TTSEngine | None = build_engine(settings.tts_engine, retry_after_s=settings.tts_retry_s)
        self._index_task: asyncio.Task[None] | None = None
        self._search_task: asyncio.Task[None] | None = None

    @property
    def answer_lifetime_s(self) -> float:
        """The longest an answer can be streaming: its deadline, the detach window, and a
        margin for the final write and for clocks of other instances running a little
        apart (`expires_at` is written by one instance and read by another)."""
        settings = self.settings
        return settings.streaming_timeout / 1000 + settings.stream_detach_s + ANSWER_MARGIN_S

    @property
    def db_backend(self) -> str:
        return "embedded nx-27017" if self.settings.embedded_db else "mongodb"

    def hook_sigterm(self) -> None:
        """On SIGTERM: refuse new streams (503 SERVER_SHUTTING_DOWN), end every open one with
        `error{SERVER_SHUTTING_DOWN, retryable}` + `close` within SHUTDOWN_GRACE_S, then hand
        the signal to the server's own handler (uvicorn then drains and exits)."""
        if threading.current_thread() is not threading.main_thread():
            return
        loop = asyncio.get_running_loop()
        previous = signal.getsignal(signal.SIGTERM)

        def pass_on(_: object = None) -> None:
            if callable(previous):
                previous(signal.SIGTERM, None)
            else:
                signal.signal(signal.SIGTERM, previous)
                signal.raise_signal(signal.SIGTERM)

        def drain() -> None:
            if self.runs.closing:
                return
            log.info("SIGTERM: closing %d open streams", len(self.runs))
            task = loop.create_task(self.runs.close_all(self.settings.shutdown_grace_s))
            task.add_done_callback(pass_on)

        signal.signal(signal.SIGTERM, lambda signum, frame: loop.call_soon_threadsafe(drain))

    async def start(self) -> None:
        self.hook_sigterm()
        url = self.settings.mongodb_url
        if not url:
            self.embedded = EmbeddedMongo(self.settings.data_dir)
            url = await asyncio.to_thread(self.embedded.start)
        self.store = Store.connect(
            url, self.settings.mongodb_db, self.settings.mongodb_timeout_ms,
            instance_id=self.instance_id, answer_lifetime_s=self.answer_lifetime_s,
        )
        self.context.store = self.store  # uploads index into it even before the build runs
        if await self._prepare_db():
            self._search_task = asyncio.create_task(self._prepare_search())
        else:
            # A real server may come up later: keep trying in the background; requests meanwhile
            # get DB_UNAVAILABLE quickly rather than waiting.
            self._index_task = asyncio.create_task(self._retry_prepare())

    async def _prepare_db(self) -> bool:
        assert self.store is not None
        try:
            await self.store.ping()
            await self.store.ensure_indexes()
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready yet"
            self.db_error = f"{type(exc).__name__}: cannot reach the database"
            log.warning("database not ready (%s)", self.db_error)
            return False
        self.db_error = None
        log.info("database ready (%s), indexes created", self.db_backend)
        return True

    async def _retry_prepare(self) -> None:
        while not await self._prepare_db():
            await asyncio.sleep(_INDEX_RETRY_S)
        self._search_task = asyncio.create_task(self._prepare_search())

    async def _prepare_search(self) -> None:
        """In the background, so the app answers at once: load the demo catalog into an empty
        store, build the text index (search works within seconds), then load the model and
        embed what has no embedding yet (semantic ranking joins in)."""
        assert self.store is not None
        try:
            size = self.settings.demo_catalog_size
            if size and await self.store.products.count() == 0:
                log.info("empty catalog: loading %d demo products", size)
                await self.store.products.insert_many(generate_catalog(size))
            await self.search.build(self.store.products)
            if self.embedder is not None:
                await self.embedder.aload()
                if self.embedder.ready:
                    self.models["embeddings"] = MODEL_ID
                    await self.intents.warm()  # the agent's prototype vectors, before its first message
                await self.search.embed_missing(self.store.products)
            await self._prepare_context()
            await self.search.follow(self.store.products, self.settings.search_sync_s)
        except Exception:  # noqa: BLE001 - health says so, and the build is tried again
            log.exception("search index build failed; trying again in %.0f s", _INDEX_RETRY_S)
            self.search.state = "failed"
            await asyncio.sleep(_INDEX_RETRY_S)
            self._search_task = asyncio.create_task(self._prepare_search())

    async def _prepare_context(self) -> None:
        """After the products index: the context-chunk index, the tokenizer, stale spools."""
        assert self.store is not None
        try:
            await asyncio.to_thread(ingest.preload)
            await asyncio.to_thread(upload.sweep, self.upload_dir, self.settings.upload_timeout_s + 3600)
            await self.context.build(self.store)
        except Exception:  # noqa: BLE001 - context search stays unavailable; products go on
            log.exception("context index build failed")
            self.context.state = "failed"

    @property
    def upload_dir(self) -> Path:
        """Where uploads are spooled while they are validated and processed."""
        return self.settings.data_dir / "uploads"

    async def stop(self) -> None:
        close = getattr(self.llm, "aclose", None)
        if close is not None:
            await close()
        for task in (self._index_task, self._search_task):
            if task is not None:
                task.cancel()
        if self.embedder is not None:
            self.embedder.close()
        if self.store is not None:
            await self.store.close()
        if self.embedded is not None:
            await asyncio.to_thread(self.embedded.stop)
        flush = getattr(self.replay, "aclose", None)  # the Redis buffer writes behind
        if flush is not None:
            await flush()
        await self.redis.close()


def _replay_buffer(settings: Settings, redis: RedisLinks) -> ReplayBuffer:
    bounds = dict(
        max_events=settings.stream_replay_events,
        max_bytes=settings.stream_replay_bytes,
        max_streams=settings.stream_replay_streams,
        ttl_s=settings.stream_replay_ttl_s,
    )
    if settings.stream_replay_url:
        from app.streams.replay_redis import RedisReplayBuffer

        return RedisReplayBuffer(redis.get(settings.stream_replay_url), **bounds)
    return MemoryReplayBuffer(**bounds)


def _signals(settings: Settings, redis: RedisLinks) -> StreamSignals:
    """Follow and stop signals go where the shared replay buffer is: a resume or a stop can
    only reach another instance when that buffer is shared."""
    if settings.stream_replay_url:
        from app.streams.signals import RedisSignals

        return RedisSignals(redis.get(settings.stream_replay_url))
    return LocalSignals()


def _language_model(settings: Settings) -> LanguageModel:
    if settings.llm_provider == "openai":
        from app.llm.openai import OpenAIProvider

        return OpenAIProvider(
            base_url=settings.llm_base_url,
            api_key=settings.llm_api_key,
            model=settings.llm_model,
            connect_timeout_s=settings.llm_connect_timeout_s,
            read_timeout_s=settings.llm_read_timeout_s,
        )
    return GroundedProvider()
