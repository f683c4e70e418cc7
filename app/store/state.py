"""Is the database reachable, as this process sees it: one object the platform's supervisor,
the routes and `/healthz` share (through app/store/database.py).

- What "unreachable" is: PyMongo's `ConnectionFailure` and everything under it (PyMongo 4.20
  raises `ServerSelectionTimeoutError` when no server answers within MONGODB_TIMEOUT_MS,
  `AutoReconnect` when a connection in use breaks, `NetworkTimeout` when a reply does not
  come, `WaitQueueTimeoutError` when the pool is exhausted, `NotPrimaryError` during a
  failover), and `DatabaseUnavailable` below, which is one of them. Every HTTP route answers
  them with 503 `DB_UNAVAILABLE` and `Retry-After` (app/errors.py); inside a stream the
  engine turns them into `error{DB_UNAVAILABLE, retryable}` (app/streams/engine.py).
- An outage begins when the platform knows it: the embedded server's process died, or a
  ping failed (after a request met a failure, or from `/healthz`). It is logged once, with
  why and what happens meanwhile; its end is logged once, with how long it lasted.
- While it lasts, routes that need the database refuse at once (`require`), instead of each
  waiting MONGODB_TIMEOUT_MS for server selection, and the platform pings it every
  PROBE_S until it answers.
"""

from __future__ import annotations

import asyncio
import logging
import time

from pymongo.errors import ConnectionFailure

log = logging.getLogger("storestream.store")

PROBE_S = 0.5  # while down: how often the platform pings the database


class DatabaseUnavailable(ConnectionFailure):
    """The database is known to be unreachable (or not ready yet): refused without trying it."""


class DatabaseState:
    def __init__(self, *, backend: str, retry_after_s: int) -> None:
        self.backend = backend
        self.retry_after_s = retry_after_s  # what a 503 tells the client
        self.down_since: float | None = time.monotonic()  # down until the first ping answers
        self.reason: str = "not started"
        self.outages = 0  # outages that began after the database had been up
        self.restarts = 0  # embedded server restarts by the supervisor
        self.ever_up = False
        self._suspect = asyncio.Event()

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def down_for(self) -> float:
        return 0.0 if self.down_since is None else time.monotonic() - self.down_since

    def require(self) -> None:
        """Raise `DatabaseUnavailable` while the database is known to be down."""
        if self.down_since is not None:
            raise DatabaseUnavailable(f"the database is unavailable ({self.reason})")

    def suspect(self) -> None:
        """A request met a connection failure: have the platform ping the database now."""
        if self.down_since is None:
            self._suspect.set()

    async def wait_suspect(self, timeout: float) -> bool:
        """Until `suspect()` is called (True) or `timeout` passes (False)."""
        try:
            await asyncio.wait_for(self._suspect.wait(), timeout)
        except TimeoutError:
            return False
        self._suspect.clear()
        return True

    def failed(self, reason: str) -> None:
        """The database is down: the first call of an outage logs it, later ones only update
        the reason."""
        self.reason = reason
        if self.down_since is not None:
            return
        self.down_since = time.monotonic()
        self.outages += 1
        log.warning(
            "database unavailable (%s): %s. Until it is back: routes that need it answer 503 "
            "DB_UNAVAILABLE with Retry-After: %d, search answers from memory, /healthz is not ready; "
            "it is pinged every %.1f s",
            self.backend, reason, self.retry_after_s, PROBE_S,
            extra={"event": "db_down", "backend": self.backend},
        )

    def ok(self) -> None:
        """A ping answered: the outage (or start-up wait) is over."""
        if self.down_since is None:
            return
        lasted = time.monotonic() - self.down_since
        self.down_since = None
        self.reason = ""
        self._suspect.clear()
        if self.ever_up:
            log.warning("database available again (%s) after %.1f s", self.backend, lasted,
                        extra={"event": "db_up", "backend": self.backend, "outage_s": round(lasted, 1)})
        self.ever_up = True
