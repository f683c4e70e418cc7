"""The SSE transport: an ASGI response that writes `run_stream`'s events to the socket.

It owns what only a live connection has:
- keep-alive comments at least every `STREAMING_PING_S`;
- disconnect detection: it listens for `http.disconnect` itself (not relying on the server's
  ASGI spec version) and cancels the producer task at once, so upstream work stops;
- write coalescing: events that are ready together go out in one `send`;
- recording every frame in the replay buffer, and replaying it for `Last-Event-ID`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from starlette.types import Receive, Scope, Send

from app.streams import events as ev
from app.streams import wire
from app.streams.engine import Producer, StreamContext, run_stream
from app.streams.events import Code, Event
from app.streams.metrics import StreamMetrics
from app.streams.replay import Replay, ReplayBuffer

log = logging.getLogger("storestream.streams")

_BACKLOG = 256  # events buffered between producer and socket; the producer waits beyond
_REPLAY_POLL_S = 0.05


class _Channel:
    """Producer task -> writer: a list and at most one waiting future on each side.

    Lighter than `asyncio.Queue` (three deques per stream): idle streams are the common case,
    and each one holds a channel.
    """

    __slots__ = ("items", "_reader", "_writer", "gone", "closing")

    def __init__(self) -> None:
        self.items: list[Event] = []
        self._reader: asyncio.Future[None] | None = None
        self._writer: asyncio.Future[None] | None = None
        self.gone = False  # the client disconnected
        self.closing = False  # the server is shutting down

    async def put(self, event: Event) -> None:
        self.items.append(event)
        self._wake_reader()
        if len(self.items) >= _BACKLOG:
            self._writer = asyncio.get_running_loop().create_future()
            await self._writer

    def take(self) -> list[Event]:
        items, self.items = self.items, []
        if self._writer is not None and not self._writer.done():
            self._writer.set_result(None)
        return items

    async def wait(self, timeout: float) -> bool:
        """Until events are there, the client is gone or the server closes: True; after
        `timeout`: False."""
        if self.items or self.gone or self.closing:
            return True
        loop = asyncio.get_running_loop()
        self._reader = waiter = loop.create_future()
        timer = loop.call_later(timeout, self._wake_reader)
        try:
            await waiter
        finally:
            timer.cancel()
            self._reader = None
        return bool(self.items) or self.gone or self.closing

    def disconnect(self) -> None:
        self.gone = True
        self._wake_reader()

    def shut_down(self) -> None:
        self.closing = True
        self._wake_reader()

    def _wake_reader(self) -> None:
        if self._reader is not None and not self._reader.done():
            self._reader.set_result(None)


class OpenStreams:
    """The streams this instance is serving, so that a shutdown can end each one cleanly:
    `error{code: "SERVER_SHUTTING_DOWN", retryable: true}` then `close`."""

    def __init__(self) -> None:
        self._channels: set[_Channel] = set()
        self.closing = False

    def __len__(self) -> int:
        return len(self._channels)

    def add(self, channel: _Channel) -> None:
        self._channels.add(channel)
        if self.closing:
            channel.shut_down()

    def discard(self, channel: _Channel) -> None:
        self._channels.discard(channel)

    async def close_all(self, grace_s: float) -> int:
        """Ask every open stream to end; wait up to `grace_s` for them. Returns how many were
        still open when the grace ran out."""
        self.closing = True
        for channel in list(self._channels):
            channel.shut_down()
        deadline = time.monotonic() + grace_s
        while self._channels and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return len(self._channels)


class EventStreamResponse:
    """Streams one producer's events as `text/event-stream`."""

    def __init__(
        self,
        producer: Producer,
        ctx: StreamContext,
        *,
        replay: ReplayBuffer,
        metrics: StreamMetrics,
        timeout_s: float,
        ping_s: float,
        retry_ms: int,
        chunk_size: int,
        headers: list[tuple[bytes, bytes]] | None = None,
        connected_context: dict[str, Any] | None = None,
        on_close: Callable[[], None] | None = None,
        open_streams: OpenStreams | None = None,
    ) -> None:
        self.open_streams = open_streams
        self.producer = producer
        self.ctx = ctx
        self.replay = replay
        self.metrics = metrics
        self.timeout_s = timeout_s
        self.ping_s = ping_s
        self.retry_ms = retry_ms
        self.chunk_size = chunk_size
        self.headers = wire.HEADERS + (headers or [])
        self.connected_context = connected_context
        self.on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ctx = self.ctx
        channel = _Channel()
        seq = 0
        counts: dict[str, int] = {}
        outcome = "complete"

        async def watch_disconnect() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            channel.disconnect()
            pump.cancel()

        pump = asyncio.create_task(
            run_stream(
                self.producer,
                ctx,
                channel.put,
                timeout_s=self.timeout_s,
                chunk_size=self.chunk_size,
                connected_context=self.connected_context,
            ),
            name=f"stream-{ctx.stream}-{ctx.stream_id}",
        )
        watcher = asyncio.create_task(watch_disconnect())
        if self.open_streams is not None:
            self.open_streams.add(channel)
        self.metrics.open_streams.labels(ctx.stream).inc()
        self.route = scope.get("path", "")
        log.info("%s start client=%s", ctx.tag, ctx.client,
                 extra={"event": "stream_start", "stream": ctx.stream, "stream_id": ctx.stream_id,
                        "route": self.route, "client": ctx.client})
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.headers})
            finished = False
            while not finished:
                if not await channel.wait(self.ping_s):
                    if pump.done():  # ended without `close`: only an engine bug gets here
                        break
                    await send({"type": "http.response.body", "body": wire.KEEPALIVE, "more_body": True})
                    continue
                if channel.gone:
                    break
                batch = channel.take()
                if channel.closing and not any(e.type == "close" for e in batch):
                    pump.cancel()  # the producer's `finally` runs (partial answers are kept)
                    batch += [
                        ev.error(Code.SERVER_SHUTTING_DOWN, "The server is restarting; reconnect shortly",
                                 retryable=True),
                        ev.close(),
                    ]
                frames: list[tuple[int, bytes]] = []
                for event in batch:
                    seq += 1
                    kind = event.type
                    retry = self.retry_ms if kind == "connected" else None
                    frames.append((seq, wire.encode(event, f"{ctx.stream_id}-{seq}", retry_ms=retry)))
                    counts[kind] = counts.get(kind, 0) + 1
                    if kind == "error":
                        self.metrics.errors.labels(ctx.stream, event.data.get("code", "")).inc()
                    elif kind == "close":
                        finished = True
                await self.replay.append(ctx.stream_id, frames)
                body = frames[0][1] if len(frames) == 1 else b"".join(f for _, f in frames)
                await send({"type": "http.response.body", "body": body, "more_body": True})
            if finished:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:
            channel.gone = True  # the socket went away while writing
        finally:
            watcher.cancel()
            if self.open_streams is not None:
                self.open_streams.discard(channel)
            if not pump.done():
                pump.cancel()
            try:
                outcome = await pump
            except BaseException:  # noqa: BLE001 - cancelled, or a bug already logged
                outcome = "cancelled"
            if channel.closing and not channel.gone:
                outcome = "shutdown"
            if channel.gone:
                outcome = "disconnected"
                seq = await self._record_interrupted(seq)
            await self.replay.finish(ctx.stream_id)
            self._finish_metrics(counts, outcome)
            if self.on_close is not None:
                self.on_close()

    async def _record_interrupted(self, seq: int) -> int:
        """A resumer of a stream cut short learns that it was, instead of waiting forever."""
        tail = [
            ev.error(Code.STREAM_INTERRUPTED, "The stream was interrupted before it finished", retryable=True),
            ev.close(),
        ]
        frames = []
        for event in tail:
            seq += 1
            frames.append((seq, wire.encode(event, f"{self.ctx.stream_id}-{seq}")))
        await self.replay.append(self.ctx.stream_id, frames)
        return seq

    def _finish_metrics(self, counts: dict[str, int], outcome: str) -> None:
        ctx = self.ctx
        duration = time.perf_counter() - ctx.started
        sent = 0
        for kind, n in counts.items():
            if kind in ev.EVENT_TYPES:
                self.metrics.events.labels(ctx.stream, kind).inc(n)
                sent += n
        self.metrics.open_streams.labels(ctx.stream).dec()
        self.metrics.duration.labels(ctx.stream, outcome).observe(duration)
        log.info(
            "%s end outcome=%s events=%d duration_ms=%.1f", ctx.tag, outcome, sent, duration * 1000,
            extra={"event": "stream_end", "transport": "sse", "stream": ctx.stream,
                   "stream_id": ctx.stream_id, "route": getattr(self, "route", ""),
                   "client": ctx.client, "outcome": outcome, "events": sent,
                   "duration_ms": round(duration * 1000, 1)},
        )


class ReplayResponse:
    """Answers a reconnect carrying `Last-Event-ID` with the frames after it, from the buffer.

    A stream still running (its old connection not yet noticed as gone, or on another
    instance) is followed until it ends. A finished stream with nothing left to send gets 204,
    which tells `EventSource` to stop reconnecting instead of re-running the work.
    """

    def __init__(
        self,
        replay: ReplayBuffer,
        stream_id: str,
        after_seq: int,
        held: Replay,
        *,
        timeout_s: float,
        headers: list[tuple[bytes, bytes]] | None = None,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.replay = replay
        self.stream_id = stream_id
        self.after_seq = after_seq
        self.held = held
        self.timeout_s = timeout_s
        self.headers = headers or []
        self.on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self._serve(send)
        except OSError:
            pass
        finally:
            if self.on_close is not None:
                self.on_close()

    async def _serve(self, send: Send) -> None:
        held: Replay | None = self.held
        if held.finished and not held.frames:
            await send({"type": "http.response.start", "status": 204, "headers": self.headers})
            await send({"type": "http.response.body", "body": b""})
            return
        await send(
            {"type": "http.response.start", "status": 200, "headers": wire.HEADERS + self.headers}
        )
        deadline = time.monotonic() + self.timeout_s
        after = self.after_seq
        while held is not None:
            if held.frames:
                after = held.frames[-1][0]
                body = b"".join(frame for _, frame in held.frames)
                await send({"type": "http.response.body", "body": body, "more_body": True})
            if held.finished or time.monotonic() > deadline:
                break
            await asyncio.sleep(_REPLAY_POLL_S)
            held = await self.replay.read(self.stream_id, after)
        await send({"type": "http.response.body", "body": b"", "more_body": False})
