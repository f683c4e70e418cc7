"""A request the server cancels to exit gets an answer, not a dropped connection.

At the end of the shutdown grace uvicorn cancels the requests still running (app/server.py:
a JSON answer that would run for STREAMING_TIMEOUT, say). Left alone, the cancellation
reaches uvicorn, which logs "Exception in ASGI application" with a traceback and drops the
connection. This middleware catches that one cancellation (only while the platform is
shutting down) and answers 503 `SERVER_SHUTTING_DOWN` with `Retry-After`, or, when the
response had already started, ends it; the producer's own cleanup has run by then (a chat
answer cut short is stored as `interrupted`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]

BODY = json.dumps({"status": 503, "error": "The server is restarting; send the request again shortly",
                   "code": "SERVER_SHUTTING_DOWN"}).encode()


class AnswerWhenCancelled:
    def __init__(self, app: Any, *, closing: Callable[[], bool]) -> None:
        self.app = app
        self.closing = closing

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = {"started": False, "complete": False}

        async def tracked(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["started"] = True
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                state["complete"] = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except asyncio.CancelledError:
            if not self.closing():
                raise
            await self.answer(send, started=state["started"], complete=state["complete"])

    @staticmethod
    async def answer(send: Any, *, started: bool, complete: bool = False) -> None:
        """503 SERVER_SHUTTING_DOWN if nothing was sent yet, else the end of the body."""
        try:
            await AnswerWhenCancelled._send(send, started, complete)
        except Exception:  # noqa: BLE001 - the client may be gone already
            pass

    @staticmethod
    async def _send(send: Any, started: bool, complete: bool) -> None:
        if not started:
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode()),
                       (b"retry-after", b"2"), (b"connection", b"close")]
            await send({"type": "http.response.start", "status": 503, "headers": headers})
            await send({"type": "http.response.body", "body": BODY})
        elif not complete:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
