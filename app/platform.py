"""The running platform: the composition root and lifecycle owner of one app.

It builds the shared services once (stream engine, limiter, database, search and retrieval
indexes, models, speech), starts and supervises them (the database, the background index
builds) and stops them. It is no service locator: the app factory (app/main.py) hands each
route group the typed services it uses, and nothing else reads the platform. Nothing is a
module-level global, so tests and benchmarks can run several apps in one process.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import signal
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from app import ingest
from app.analytics.recorder import Recorder
from app.analytics.report import impressions, popular_searches
from app.ingest import upload
from app.ingest.context_index import ContextIndex
from app.ratelimit.limiter import StreamLimiter
from app.routes.body import Bodies
from app.redis_link import RedisLinks
from app.agent.intents import IntentClassifier
from app.catalog.demo import generate_catalog
from app.search.embedder import MODEL_ID, Embedder
from app.search.clicks import learn
from app.search.merchandising import Book
from app.search.suggest import Suggestions
from app.llm.base import LanguageModel, ToolChooser
from app.llm.grounded import GroundedProvider
from app.search.service import SearchService
from app.search.vocabulary import load_vocabulary
from app.tts.auto import build_engine
from app.tts.engine import TTSEngine
from app.tts.slots import SpeechSlots
from app.store.database import Database
from app.store.embedded import EmbeddedMongo
from app.store.mongo import Store
from app.store.repositories import Products
from app.store.state import PROBE_S, DatabaseState
from app.streams.metrics import StreamMetrics
from app.streams.replay import MemoryReplayBuffer, ReplayBounds, ReplayBuffer
from app.streams.runs import Runs
from app.streams.services import StreamServices
from app.streams.signals import LocalSignals, StreamSignals
from config.settings import Settings

log = logging.getLogger("storestream")

_INDEX_RETRY_S = 5.0
ANSWER_MARGIN_S = 30.0
CHILD_POLL_S = 0.25  # how often the supervisor looks at the embedded server's process
_SWEEP_POLL_S = 5.0
_RESTART_RETRY_S = 1.0  # a failed restart is tried again after this, doubling up to the max
_RESTART_RETRY_MAX_S = 30.0
_RETRY_AFTER_EMBEDDED_S = 2  # Retry-After of a 503 DB_UNAVAILABLE: a restart takes about a second
_RETRY_AFTER_S = 5
POPULAR_DAYS = 30  # the popular searches the suggestions offer: of the last month
POPULAR_SEARCHES = 2000
STORE_CLOSE_S = 1.0  # at shutdown: closing the connection to a database that no longer answers (it takes ms)
CLICK_IMPRESSIONS = 500_000  # the newest views click learning reads (and as many clicks)


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
        # POST /api/events: the same limiter, a budget of its own (never the search budget).
        self.events_limiter = StreamLimiter(settings, self.metrics, self.redis,
                                            budget=settings.analytics_rate_limit, scope="events")
        # GET /api/products/suggest: a budget of its own too (a shopper typing).
        self.suggest_limiter = StreamLimiter(settings, self.metrics, self.redis,
                                             budget=settings.suggest_rate_limit, scope="suggest")
        self.replay: ReplayBuffer = _replay_buffer(settings, self.redis)
        self.signals: StreamSignals = _signals(settings, self.redis)
        # The streams this instance runs, attached or detached (app/streams/runs.py).
        self.runs = Runs(signals=self.signals, metrics=self.metrics)
        # What every stream route shares (app/streams/services.py).
        self.streams = StreamServices(
            settings=settings, limiter=self.limiter, runs=self.runs, replay=self.replay, signals=self.signals,
            bodies=Bodies(idle_s=settings.request_body_timeout_s, closing=lambda: self.runs.closing),
        )
        self.embedded: EmbeddedMongo | None = None
        # Reachable or not, as this process sees it (app/store/state.py); `_watch_db` keeps it.
        self.db = DatabaseState(
            backend=self.db_backend, retry_after_s=_RETRY_AFTER_EMBEDDED_S if settings.embedded_db else _RETRY_AFTER_S
        )
        # The store (attached at start) and its state, as routes and producers hold them.
        self.database = Database(self.db)
        # Searches and shopper events, buffered and written in bulk (app/analytics/recorder.py).
        self.analytics = Recorder(self.database, self.metrics, capacity=settings.analytics_buffer_size,
                                  flush_s=settings.analytics_flush_ms / 1000)
        self._db_url = ""
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
        self.search = SearchService(
            self.embedder, exact_max=settings.vector_exact_max,
            default_vocabulary=load_vocabulary(Path(settings.search_vocabulary)) if settings.search_vocabulary else None,
        )
        # The merchant's synonyms and search rules, read from the store into the search.
        self.merchandise = Book(self.search.use)
        # Completions as a shopper types: the catalog's phrases and the popular searches.
        self.suggestions = Suggestions(self.search, self._popular_searches, refresh_s=settings.suggest_refresh_s)
        # Uploaded context files (app/ingest/): chunk vectors for retrieval.
        self.context = ContextIndex(self.embedder, exact_max=settings.vector_exact_max)
        # The sales agent's intent classifier (config/intents.toml); rules and n-grams until
        # the sentence model is loaded, embeddings too after.
        self.intents = IntentClassifier(embedder=self.embedder, vocabulary=lambda: self.search.vocabulary)
        # The answering model, and the same when it can choose the agent's tools.
        self.llm, self.tool_chooser = _language_model(settings)
        self.tts: TTSEngine | None = build_engine(settings.tts_engine, retry_after_s=settings.tts_retry_s)
        self.speech_slots = SpeechSlots(settings.tts_max_concurrent, settings.tts_queue_wait_s)
        self._watch_task: asyncio.Task[None] | None = None
        self._search_task: asyncio.Task[None] | None = None
        self._merchandise_task: asyncio.Task[None] | None = None
        self._clicks_task: asyncio.Task[None] | None = None
        self.sigterm_at: float | None = None  # time.monotonic() of SIGTERM: the grace runs from it

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

    @property
    def store(self) -> Store | None:
        """The store, once started."""
        return self.database.connected

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
            self.sigterm_at = time.monotonic()
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
        self._db_url = url
        store = Store.connect(
            url, self.settings.mongodb_db, self.settings.mongodb_timeout_ms,
            instance_id=self.instance_id, answer_lifetime_s=self.answer_lifetime_s,
            analytics_retention_s=self.settings.analytics_retention_days * 86400,
        )
        self.database.attach(store, self.embedded)
        self.analytics.start()
        # Not reachable yet (a real server may come up later): the supervisor keeps trying;
        # requests meanwhile get DB_UNAVAILABLE at once rather than waiting.
        await self._prepare_db()
        self._watch_task = asyncio.create_task(self._watch_db(), name="db-supervisor")

    async def _prepare_db(self) -> bool:
        """Ping (and create the indexes the first time): up, then the work that waited for it
        (the search build at first, deferred answer ends and stale answers after an outage)."""
        assert self.store is not None
        try:
            await self.store.ping()
            if not self.store.indexes_ready:
                await self.store.ensure_indexes()
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready yet"
            reason = f"{type(exc).__name__}: cannot reach the database"
            if self.db.ever_up:
                self.db.failed(reason)
            else:
                if reason != self.db.reason:  # once per kind of failure, not once per probe
                    log.warning("database not ready (%s); trying again every %.1f s", reason, PROBE_S)
                self.db.reason = reason
            return False
        first = not self.db.ever_up
        self.db.ok()
        if first:
            log.info("database ready (%s), indexes created", self.db_backend)
        await self._end_stale_answers()
        if self._search_task is None:
            self._search_task = asyncio.create_task(self._prepare_search())
        if self._merchandise_task is None:
            store = self.store
            self._merchandise_task = asyncio.create_task(self.merchandise.follow(
                lambda: None if self.db.down else store.merchandising, self.settings.search_sync_s))
        if self._clicks_task is None and self.settings.click_learning:
            self._clicks_task = asyncio.create_task(self._learn_clicks(), name="click-learning")
        return True

    async def _end_stale_answers(self) -> None:
        """Answer ends deferred through an outage, then answers left `streaming` by a stream
        that is over (a crash, or an end that could not be written): `interrupted`."""
        assert self.store is not None
        try:
            flushed = await self.store.flush_deferred()
            ended = await self.store.conversations.end_stale_answers(alone=self.settings.embedded_db)
        except Exception as exc:  # noqa: BLE001 - the next recovery or sweep tries again
            log.warning("could not end stale answers now (%s)", type(exc).__name__)
            return
        if flushed:
            log.info("%d answer ends written after the outage", flushed)
        if ended:
            log.info("%d answers left 'streaming' by a stream that is over marked 'interrupted'", ended)

    async def _watch_db(self) -> None:
        """The database's supervisor, for as long as the app runs:
        - the embedded server's process died (`kill -9`, a crash): restart it on the same data
          (`_revive`) at once; it is polled every CHILD_POLL_S;
        - the database is down (or never came up): ping it every PROBE_S until it answers;
        - a request met a connection failure (`DatabaseState.suspect`): ping it now; if that
          fails, the outage begins;
        - every answer lifetime, end the answers left `streaming` that no stream can still
          be writing (another instance that died, with a shared MONGODB_URL)."""
        next_sweep = time.monotonic() + self.answer_lifetime_s
        restart_wait = _RESTART_RETRY_S
        while True:
            try:
                if self.embedded is not None and not self.embedded.alive():
                    if await self._revive():
                        restart_wait = _RESTART_RETRY_S
                    else:
                        await asyncio.sleep(restart_wait)
                        restart_wait = min(restart_wait * 2, _RESTART_RETRY_MAX_S)
                    continue
                if self.db.down:
                    if not await self._prepare_db():
                        await asyncio.sleep(PROBE_S)
                    continue
                poll = CHILD_POLL_S if self.embedded is not None else _SWEEP_POLL_S
                if await self.db.wait_suspect(poll):
                    await self._check_db()
                elif time.monotonic() >= next_sweep:
                    next_sweep = time.monotonic() + self.answer_lifetime_s
                    await self._end_stale_answers()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the supervisor must outlive any one failure
                log.exception("database supervisor: unexpected failure; going on")
                await asyncio.sleep(1.0)

    async def _check_db(self) -> None:
        assert self.store is not None
        try:
            await self.store.ping()
        except Exception as exc:  # noqa: BLE001 - whatever it is, the database is not answering
            self.database.failed(f"{type(exc).__name__}: cannot reach the database")

    async def _revive(self) -> bool:
        """The embedded server is gone: a new one on the same data (and port, if free). Its
        outage lasts until the new server answers a ping (the supervisor's next probe)."""
        embedded = self.embedded
        assert embedded is not None and self.store is not None
        if embedded.pid is not None:
            self.db.failed(f"the embedded server (nx-27017 pid {embedded.pid}) {embedded.exit_reason()}; "
                           "restarting it on the same data")
        started = time.monotonic()
        try:
            url = await asyncio.to_thread(embedded.restart)
        except Exception as exc:  # noqa: BLE001 - said, and tried again with back-off
            self.db.reason = "the embedded server could not be restarted yet; trying again"
            log.error("embedded MongoDB: restart failed (%s); trying again", exc)
            return False
        self.db.restarts += 1
        if url != self._db_url:
            self._db_url = url
            self.store.rebind(url)
        log.info("embedded MongoDB: restarted in %.1f s (pid=%s port=%s)", time.monotonic() - started,
                 embedded.pid, embedded.port)
        return True

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
            await self.suggestions.rebuild()  # ready with the index: a shopper's first keys get some
            if self.embedder is not None:
                await self.embedder.aload()
                if self.embedder.ready:
                    self.models["embeddings"] = MODEL_ID
                    await self.intents.warm()  # the agent's prototype vectors, before its first message
                await self.search.embed_missing(self.store.products)
            await self._prepare_context()
            await self.search.follow(_WhileUp(self.store.products, self.db), self.settings.search_sync_s)
        except Exception:  # noqa: BLE001 - health says so, and the build is tried again
            log.exception("search index build failed; trying again in %.0f s", _INDEX_RETRY_S)
            self.search.failed()
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
            self.context.failed()

    async def _learn_clicks(self) -> None:
        """What shoppers clicked, learned again every CLICK_LEARNING_S (app/search/clicks.py)."""
        settings = self.settings
        while True:
            store = self.database.connected
            if store is not None and not self.db.down:
                try:
                    seen = await impressions(store, settings.click_learning_days, CLICK_IMPRESSIONS)
                    scores = await asyncio.to_thread(learn, seen, min_searches=settings.click_min_searches)
                    self.search.use_clicks(scores)
                    log.info("click learning: %d impressions, %d queries learned", len(seen), len(scores.by_query))
                except Exception as exc:  # noqa: BLE001 - the database may be down: keep what was learned
                    log.warning("click learning skipped: %s", type(exc).__name__)
            await asyncio.sleep(settings.click_learning_s)

    async def _popular_searches(self) -> dict[str, int]:
        """What shoppers searched most in the last `POPULAR_DAYS` and found something for."""
        store = self.database.connected
        return await popular_searches(store, POPULAR_DAYS, POPULAR_SEARCHES) if store is not None else {}

    @property
    def upload_dir(self) -> Path:
        """Where uploads are spooled while they are validated and processed."""
        return self.settings.data_dir / "uploads"

    async def stop(self) -> None:
        await self.llm.aclose()
        for task in (self._watch_task, self._search_task, self._merchandise_task, self._clicks_task):
            if task is not None:
                task.cancel()
        if self.embedder is not None:
            self.embedder.close()
        await self.analytics.stop()  # what is buffered is written while the database still runs
        if self.store is not None:
            try:  # it says goodbye to the server: bounded, for one that no longer answers
                await asyncio.wait_for(self.store.close(), STORE_CLOSE_S)
            except TimeoutError:
                log.warning("the database connection did not close within %.0f s; leaving it", STORE_CLOSE_S)
        if self.embedded is not None:
            await asyncio.to_thread(self.embedded.stop)  # bounded too (embedded.STOP_WAIT_S), then killed
        await self.replay.aclose()  # the Redis buffer writes behind
        await self.redis.close()


class _WhileUp:
    """The products repository as the search's background sync sees it: while the database is
    known to be down nothing has changed (the sync catches up from its watermark once it is
    back), rather than a failed read and a warning every SEARCH_SYNC_S through an outage."""

    def __init__(self, products: Products, state: DatabaseState) -> None:
        self._products = products
        self._state = state

    async def changed_since(self, since: float, limit: int = 5000) -> list[dict[str, Any]]:
        if self._state.down:
            return []
        return await self._products.changed_since(since, limit)

    async def upsert_many(self, products: Iterable[dict[str, Any]]) -> int:
        return await self._products.upsert_many(products)


def _replay_buffer(settings: Settings, redis: RedisLinks) -> ReplayBuffer:
    bounds = ReplayBounds(
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


def _language_model(settings: Settings) -> tuple[LanguageModel, ToolChooser | None]:
    """The configured model, and the same again when it can choose tools."""
    if settings.llm_provider == "openai":
        from app.llm.openai import OpenAIProvider

        provider = OpenAIProvider(
            base_url=settings.llm_base_url,
            api_key=settings.llm_api_key,
            model=settings.llm_model,
            connect_timeout_s=settings.llm_connect_timeout_s,
            read_timeout_s=settings.llm_read_timeout_s,
            max_tokens=settings.llm_max_tokens,
        )
        return provider, provider
    return GroundedProvider(), None
