"""The running platform: the shared parts every route uses, built once per app.

Routes reach it as `request.app.state.platform`; nothing is a module-level global, so tests
and benchmarks can run several apps in one process.
"""

from __future__ import annotations

import asyncio
import logging

from app.ratelimit.limiter import StreamLimiter
from app.store.embedded import EmbeddedMongo
from app.store.mongo import Store
from app.streams.metrics import StreamMetrics
from app.streams.replay import MemoryReplayBuffer, ReplayBuffer
from config.settings import Settings

log = logging.getLogger("storestream")

_INDEX_RETRY_S = 5.0


class Platform:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.metrics = StreamMetrics()
        self.limiter = StreamLimiter(settings, self.metrics)
        self.replay: ReplayBuffer = MemoryReplayBuffer(
            max_events=settings.stream_replay_events,
            max_bytes=settings.stream_replay_bytes,
            max_streams=settings.stream_replay_streams,
            ttl_s=settings.stream_replay_ttl_s,
        )
        self.embedded: EmbeddedMongo | None = None
        self.store: Store | None = None
        self.db_error: str | None = "not started"
        self.models: dict[str, str] = {}  # name -> what it is; filled as models load
        self._index_task: asyncio.Task[None] | None = None

    @property
    def db_backend(self) -> str:
        return "embedded nx-27017" if self.settings.embedded_db else "mongodb"

    async def start(self) -> None:
        url = self.settings.mongodb_url
        if not url:
            self.embedded = EmbeddedMongo(self.settings.data_dir)
            url = await asyncio.to_thread(self.embedded.start)
        self.store = Store.connect(url, self.settings.mongodb_db, self.settings.mongodb_timeout_ms)
        if not await self._prepare_db():
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

    async def stop(self) -> None:
        if self._index_task is not None:
            self._index_task.cancel()
        if self.store is not None:
            await self.store.close()
        if self.embedded is not None:
            await asyncio.to_thread(self.embedded.stop)
