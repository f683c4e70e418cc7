"""The SSE transport: ASGI responses that write a stream's frames to one connection.

- `LiveResponse` serves a `Run` of this instance (app/streams/runs.py): the connection that
  started it, or a resume that reached the instance running it.
- `ReplayResponse` serves a stream from the replay buffer: one that has ended, or one still
  running on another instance, followed (polling) until it ends.

Both own what only a live connection has:
- keep-alive comments (`: ping`) whenever nothing was sent for `STREAMING_PING_S`;
- disconnect detection: they listen for `http.disconnect` themselves (not relying on the
  server's ASGI spec version), so a run learns at once that its reader is gone;
- write coalescing: frames that are ready together go out in one `send`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from app.streams import events as ev
from app.streams import wire
from app.streams.events import Code
from app.streams.replay import Replay, ReplayBuffer
from app.streams.resume import ResumePoint, event_id
from app.streams.runs import Reader, Run, Runs
from app.streams.signals import FOLLOW_RENEW_S, StreamSignals

_REPLAY_POLL_S = 0.05


async def _watch_disconnect(receive: Receive, gone: Callable[[], None]) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    gone()


class EventStreamResponse(Response):
    """What both transports share: a Starlette `Response` (so middleware such as the rate limiter
    sets headers on it as on any other, `response.headers[...] = ...`) whose body its own
    `__call__` writes frame by frame. Not `Response.__init__`: there is no body to render and
    no content-length."""

    media_type = "text/event-stream"

    def __init__(self, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        self.status_code = 200
        self.background = None
        self.raw_headers = wire.HEADERS + (headers or [])

    async def _start(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        self.raw_headers = []  # sent: not kept for the life of the stream


class LiveResponse(EventStreamResponse):
    """One connection reading a run of this instance.

    Its request task is the only task it adds to the run's: while there is nothing to write
    it waits on the connection itself (`receive()`, which says `http.disconnect` when the
    client goes) under a deadline that is the keep-alive interval, and the run wakes it by
    moving that deadline to now. A second task per stream listening for the disconnect
    costs memory and admission time (docs/benchmarks.md, "Stream engine")."""

    def __init__(
        self,
        run: Run,
        reader: Reader,
        *,
        runs: Runs,
        ping_s: float,
        headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        super().__init__(headers)
        self.run = run
        self.reader = reader
        self.runs = runs
        self.ping_s = ping_s

    def shut_down(self) -> None:
        self.run.cancel("shutdown")  # its last frames reach this connection, then it ends

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        run, reader = self.run, self.reader
        self.runs.connections.add(self)
        try:
            await self._start(send)
            while True:
                frames = run.take(reader)
                if frames:
                    # Taken is as good as sent: the producer may go on while this is written
                    # (a frame lost with the socket is in the buffer for the client's resume).
                    run.delivered(reader, frames[-1][0])
                    body = frames[0][1] if len(frames) == 1 else b"".join(f for _, f in frames)
                    await send({"type": "http.response.body", "body": body, "more_body": True})
                if run.ended and reader.after >= run.seq:
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                    break
                if reader.gone or reader.displaced:
                    break
                if run.ready(reader):
                    continue
                if await _wait(run, reader, receive, self.ping_s):
                    reader.gone = True
                elif not run.ready(reader):
                    await send({"type": "http.response.body", "body": wire.KEEPALIVE, "more_body": True})
        except OSError:
            reader.gone = True  # the socket went away while writing
        finally:
            self.runs.connections.discard(self)
            run.detach(reader)


async def _wait(run: Run, reader: Reader, receive: Receive, timeout: float) -> bool:
    """Until the run has something for `reader`, or `timeout`: False; the client left: True."""
    try:
        async with asyncio.timeout(timeout) as deadline:
            def wake() -> None:
                _expire(deadline)

            run.on_ready(wake)
            try:
                while (await receive())["type"] != "http.disconnect":
                    pass
                return True
            finally:
                # Only our own: a resume may have displaced this reader and registered the
                # new one's wake-up before this one got here.
                run.off_ready(wake)
    except TimeoutError:
        return False


def _expire(deadline: asyncio.Timeout) -> None:
    if not deadline.expired():
        deadline.reschedule(-1)  # now: the `async with` ends with TimeoutError at once


class ReplayResponse(EventStreamResponse):
    """Answers a resume from the replay buffer: the frames after the client's last event;
    a stream still running on another instance is followed until it ends (and the owner is
    told, so it does not give up on a detached stream being read here). If the owner died,
    the stream is sealed with `STREAM_INTERRUPTED` for every resumer."""

    def __init__(
        self,
        replay: ReplayBuffer,
        signals: StreamSignals,
        point: ResumePoint,
        held: Replay,
        *,
        runs: Runs,
        timeout_s: float,
        ping_s: float,
        headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        super().__init__(headers)
        self.replay = replay
        self.signals = signals
        self.point = point
        self.held = held
        self.runs = runs
        self.timeout_s = timeout_s
        self.ping_s = ping_s
        self._over = False

    def shut_down(self) -> None:
        self._over = True  # no `close`: the client resumes again, from another instance

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        def gone() -> None:
            self._over = True

        watcher = asyncio.create_task(_watch_disconnect(receive, gone))
        self.runs.connections.add(self)
        try:
            await self._serve(send)
        except OSError:
            pass
        finally:
            watcher.cancel()
            self.runs.connections.discard(self)

    async def _serve(self, send: Send) -> None:
        stream_id = self.point.stream_id
        await self._start(send)
        now = time.monotonic()
        deadline = now + self.timeout_s
        last_sent = now
        last_follow = 0.0
        after = self.point.seq
        held: Replay | None = self.held
        while held is not None and not self._over:
            now = time.monotonic()
            if held.frames:
                after = held.frames[-1][0]
                body = b"".join(frame for _, frame in held.frames)
                await send({"type": "http.response.body", "body": body, "more_body": True})
                last_sent = now
            if held.finished:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            if now > deadline:
                break
            if held.orphaned:
                await self._seal(held.next_seq)
            else:
                if now - last_follow >= FOLLOW_RENEW_S:
                    await self.signals.follow(stream_id)
                    last_follow = now
                if now - last_sent >= self.ping_s:
                    await send({"type": "http.response.body", "body": wire.KEEPALIVE, "more_body": True})
                    last_sent = now
                await asyncio.sleep(_REPLAY_POLL_S)
            held = await self.replay.read(stream_id, after)
        # Expired meanwhile, the deadline, a shutdown or the client gone: no `close`, so a
        # client that is still there resumes again.
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _seal(self, next_seq: int) -> None:
        """The owner died: end the stream under the next ids, which only we (holding the
        token) can write."""
        tail = [
            ev.error(Code.STREAM_INTERRUPTED, "The stream was interrupted before it finished", retryable=True),
            ev.close(),
        ]
        frames = [(next_seq + i, wire.encode(event, event_id(self.point.token, next_seq + i)))
                  for i, event in enumerate(tail)]
        await self.replay.seal(self.point.stream_id, next_seq, frames)
