"""uvicorn's server with one deadline: the process exits within SHUTDOWN_GRACE_S of SIGTERM
(plus the database's own shutdown), whatever its clients do.

On SIGTERM the platform ends every open stream first (`Platform.hook_sigterm`, within the
grace), then hands the signal to uvicorn, which stops accepting and waits for the remaining
connections: with no limit unless `timeout_graceful_shutdown` is set, so one JSON answer
running for STREAMING_TIMEOUT (or an upload's for UPLOAD_TIMEOUT_S) would hold the process
that long. Here uvicorn's wait is what is left of the grace when the platform hands over
(at least MIN_WAIT_S, so requests in flight get a moment even after a long drain); then
uvicorn cancels the requests still running and the app shuts down. A body still arriving
gives way to the shutdown by itself (app/routes/body.py).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import uvicorn

MIN_WAIT_S = 0.5


class Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, *, grace_s: float, sigterm_at: Callable[[], float | None]) -> None:
        """`grace_s`: SHUTDOWN_GRACE_S; `sigterm_at`: the `time.monotonic()` of SIGTERM, once
        the app has had it (`Platform.hook_sigterm`)."""
        super().__init__(config)
        self.grace_s = grace_s
        self.sigterm_at = sigterm_at

    def remaining_grace(self) -> float:
        """Seconds uvicorn may still wait for connections: the grace runs from SIGTERM (or
        from now, when uvicorn was stopped another way, e.g. Ctrl+C)."""
        since = self.sigterm_at()
        used = 0.0 if since is None else time.monotonic() - since
        return max(MIN_WAIT_S, self.grace_s - used)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # uvicorn declares an int, and waits with asyncio.wait_for, which takes any seconds.
        self.config.timeout_graceful_shutdown = self.remaining_grace()  # type: ignore[assignment]
        await super().shutdown(sockets)
