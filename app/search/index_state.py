"""Where an in-memory index is in its life. Each index (`SearchService`, `ContextIndex`) moves
its own state; others read it (`/healthz`) or tell the index what happened (`failed()`)."""

from __future__ import annotations

from enum import StrEnum


class IndexState(StrEnum):
    """empty -> building -> ready, or failed (its build or upkeep stopped on an error; the
    next build starts again). A StrEnum: `/healthz` shows the same strings as before."""

    EMPTY = "empty"
    BUILDING = "building"
    READY = "ready"
    FAILED = "failed"
