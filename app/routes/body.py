"""Reading a request body within bounds: its size, the time between its bytes, shutdown.

Starlette's `request.body()` reads the whole body whatever its size (one anonymous 200 MB
POST raised RSS by 226 MB) and waits for a client that stopped sending for as long as the
connection lives. Every route that reads a body reads it here instead, from the ASGI
`receive` channel:

- a `Content-Length` over the route's limit is refused before a byte is read; a body without
  one (chunked) is counted as it arrives and refused as soon as it passes the limit. So at
  most `limit` bytes (plus one read of 64 KB, uvicorn's buffer) are ever held;
- `idle_s` (`REQUEST_BODY_TIMEOUT_S`) is the longest wait for the next bytes, not for the
  whole body, like nginx's `client_body_timeout`: a large upload over a slow link that keeps
  sending is read however long it takes, a client that stops is refused with 408;
- a server shutting down (SIGTERM) stops waiting within `POLL_S` and refuses with 503, so a
  half-sent body cannot keep the process alive;
- a client that leaves mid-body gets 400 (nobody reads it; what matters is that it is not a
  500 logged as an error).

Every refusal here closes the connection (`Connection: close`): the rest of an unread body
cannot be told from a next request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.types import Message, Receive

from app.errors import BadRequest

POLL_S = 0.25  # how often a wait for body bytes looks whether the server is shutting down
DRAIN_S = 2.0  # after a size refusal mid-body, read on this long so the client sees the 413
DRAIN_IDLE_S = 0.2  # ... but no longer than this without a byte: a quiet client waits for our answer
CLOSE = {"Connection": "close"}


def too_large(limit: int) -> BadRequest:
    return BadRequest(f"the request body is larger than the {limit} byte limit of this route", status=413,
                      code="BODY_TOO_LARGE", field="body", headers=dict(CLOSE))


def timed_out(idle_s: float) -> BadRequest:
    return BadRequest(f"the request body stopped arriving (nothing for {idle_s:g} s)", status=408,
                      code="BODY_TIMEOUT", field="body", headers=dict(CLOSE))


def shutting_down() -> BadRequest:
    return BadRequest("The server is shutting down; send the request again shortly", status=503,
                      code="SERVER_SHUTTING_DOWN", headers={"Retry-After": "2", **CLOSE})


def cut_short() -> BadRequest:
    return BadRequest("the request body ended before its end (the client left)", code="BODY_INCOMPLETE",
                      field="body", headers=dict(CLOSE))


class BodyReader:
    """The body of one request, in the pieces it arrives in, within the bounds above.

    `limit` is the route's; `refuse_size` makes its 413 (the upload route names its own
    limit); `closing` says whether the server is shutting down."""

    def __init__(
        self,
        request: Request,
        *,
        limit: int,
        idle_s: float,
        closing: Callable[[], bool] = lambda: False,
        refuse_size: Callable[[], BadRequest] | None = None,
    ) -> None:
        self.request = request
        self.limit = limit
        self.idle_s = idle_s
        self.closing = closing
        self.refuse_size = refuse_size or (lambda: too_large(limit))
        self.received = 0
        self.ended = False

    def check_declared_length(self) -> None:
        raw = self.request.headers.get("content-length")
        if raw is None:
            return
        if not raw.strip().isdigit():
            raise BadRequest("Content-Length is not a number", field="Content-Length", headers=dict(CLOSE))
        if int(raw) > self.limit:
            raise self.refuse_size()

    async def chunks(self) -> AsyncIterator[bytes]:
        """Each piece as it arrives; raises the refusals above."""
        self.check_declared_length()
        while not self.ended:
            message = await self._next()
            if message["type"] == "http.disconnect":
                raise cut_short()
            piece = message.get("body", b"")
            self.ended = not message.get("more_body", False)
            self.received += len(piece)
            if self.received > self.limit:
                raise self.refuse_size()
            if piece:
                yield piece

    async def read(self) -> bytes:
        """The whole body (at most `limit` bytes)."""
        out = bytearray()
        try:
            async for piece in self.chunks():
                out += piece
        except BadRequest as exc:
            if exc.status == 413:
                await self.drain()
            raise
        return bytes(out)

    async def _next(self) -> Message:
        """The next ASGI message: waiting at most `idle_s`, and not past a shutdown."""
        receive = asyncio.ensure_future(self.request.receive())
        deadline = time.monotonic() + self.idle_s
        try:
            while not receive.done():
                if self.closing():
                    raise shutting_down()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise timed_out(self.idle_s)
                await asyncio.wait({receive}, timeout=min(POLL_S, remaining))
            return receive.result()
        finally:
            if not receive.done():
                receive.cancel()

    async def drain(self, seconds: float = DRAIN_S) -> None:
        """Read (and drop) up to `limit` more bytes for at most `seconds` after a refusal: a
        client still sending when the connection closes would get a reset, not our answer.
        A client that sends nothing for DRAIN_IDLE_S is waiting for that answer (one that
        announced a length too large and holds its body back, as Expect: 100-continue
        clients do): it gets it then, not after `seconds`."""
        if self.ended:
            return
        deadline = time.monotonic() + seconds
        dropped = 0
        while dropped <= self.limit and (remaining := deadline - time.monotonic()) > 0:
            try:
                message = await asyncio.wait_for(self.request.receive(), min(remaining, DRAIN_IDLE_S))
            except Exception:  # noqa: BLE001 - the time is up, or the client is gone
                return
            if message["type"] != "http.request" or not message.get("more_body", False):
                return
            dropped += len(message.get("body", b""))


@dataclass(frozen=True, slots=True)
class Bodies:
    """The bounds every body is read within on this app: `idle_s` (REQUEST_BODY_TIMEOUT_S)
    and whether the server is shutting down."""

    idle_s: float
    closing: Callable[[], bool]

    def reader(self, request: Request, limit: int, *,
               refuse_size: Callable[[], BadRequest] | None = None) -> BodyReader:
        return BodyReader(request, limit=limit, idle_s=self.idle_s, closing=self.closing, refuse_size=refuse_size)


def replayed(body: bytes, receive: Receive) -> Receive:
    """`receive` for an app that reads the body itself (the MCP SDK) once we have read it
    within bounds: the body as one message, then the connection's own messages (its
    disconnect)."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def again() -> Message:
        return pending.pop() if pending else await receive()

    return again
