"""Where an in-memory index is in its life. Each index (`SearchService`, `ContextIndex`) moves
its own state (`IndexLife`); others read it (`/healthz`) or tell the index what happened
(`failed()`)."""

from __future__ import annotations

from enum import StrEnum


class IndexState(StrEnum):
    """empty -> building -> ready, or failed (its build or upkeep stopped on an error; the
    next build starts again). A StrEnum: `/healthz` shows the same strings as before."""

    EMPTY = "empty"
    BUILDING = "building"
    READY = "ready"
    FAILED = "failed"


class IndexLife:
    """The state an index owns: it moves `_state` itself; others read `state` and `ready`, or
    say that its upkeep failed."""

    def __init__(self) -> None:
        self._state = IndexState.EMPTY

    @property
    def state(self) -> IndexState:
        return self._state

    @property
    def ready(self) -> bool:
        """Searches work (the text side at least) once a build has finished."""
        return self._state is IndexState.READY

    def failed(self) -> None:
        """Building or keeping the index current stopped on an error: not ready (`/healthz`
        says so) until the next build."""
        self._state = IndexState.FAILED
