"""The database as routes, producers and `/healthz` use it: the store once connected, and
whether it can be used now (app/store/state.py).

The store exists only once the platform has started (the embedded server's address is known
then), while routes are built before: they hold this object, and the platform `attach`es the
store to it at start-up.
"""

from __future__ import annotations

from app.store.embedded import EmbeddedMongo
from app.store.mongo import Store
from app.store.state import DatabaseState


class Database:
    def __init__(self, state: DatabaseState) -> None:
        self.state = state
        self._store: Store | None = None
        self._embedded: EmbeddedMongo | None = None

    def attach(self, store: Store, embedded: EmbeddedMongo | None) -> None:
        """The platform's, at start-up: the store, and the embedded server behind it if any."""
        self._store = store
        self._embedded = embedded

    @property
    def backend(self) -> str:
        return self.state.backend

    @property
    def connected(self) -> Store | None:
        """The store, or None before start-up."""
        return self._store

    @property
    def store(self) -> Store:
        """The store, for work whose request already passed `require()` (a stream's producer):
        a failure then surfaces as the engine's `DB_UNAVAILABLE` event."""
        if self._store is None:
            raise RuntimeError("the database is not connected yet (the app has not started)")
        return self._store

    def require(self) -> Store:
        """The store, or `DatabaseUnavailable` (503 DB_UNAVAILABLE with Retry-After, app/errors.py)
        while the database is known to be unreachable: refused at once, not after a timeout."""
        self.state.require()
        return self.store

    @property
    def error(self) -> str | None:
        """Why the database cannot be used now, or None."""
        return self.state.reason if self.state.down else None

    def failed(self, reason: str) -> None:
        """A ping failed: the outage begins (said once). When the embedded server's process
        is gone, the supervisor says so itself, naming how it ended, within its poll."""
        if self._embedded is not None and not self._embedded.alive():
            return
        if self.state.down and self.state.reason.startswith("the embedded server"):
            return  # the supervisor's account (died, being restarted) says more than a failed ping
        self.state.failed(reason)
