"""A stream's producer runs on its own, apart from the connection that asked for it.

    request -> Run: task(run_stream -> frames) -> replay buffer
                     ^ read by one connection at a time (a Reader), or by none (detached)

A `Run` encodes every event once, under its id `<token>-<seq>` (app/streams/resume.py; an
event a protocol's encoder writes nothing for takes no seq and no room in the bounds),
keeps the frames (bounded like the replay buffer, but never dropping what its reader has not
read yet) and records them in the replay buffer. The connection that started it reads it
as a `Reader`; a resume on this instance becomes its new reader.

How a run ends, besides by itself (`complete` or an error):
- its reader's connection drops: a detachable run (chat, agent, upload: `detach_s` set)
  goes on, detached, for `STREAM_DETACH_S`; a resume within that window, here or on any
  instance (which follows it through the replay buffer and says so: app/streams/signals.py),
  gets every remaining event, and the work runs once. When the window ends with nobody
  reading or following, the producer is cancelled (its `finally` stores the partial answer
  as `interrupted`) and the stream ends with `error{STREAM_INTERRUPTED}` + `close`. A run
  that is not detachable (search: cheaper to run again) is cancelled at once, likewise.
- `stop()`, asked for by the client (`POST /api/streams/{id}/stop`): cancelled at once,
  ends with `error{STREAM_STOPPED, retryable: false}` + `close`.
- the instance shuts down: `error{SERVER_SHUTTING_DOWN, retryable: true}` + `close`.

A detached run keeps its concurrent-stream slot (released when the run ends, whatever the
connections do) and its frames count against the replay buffer's bounds like any other.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from app.streams import events as ev
from app.streams import wire
from app.streams.engine import Producer, StreamContext, run_stream
from app.streams.events import EVENT_TYPES, Code, Event
from app.streams.metrics import StreamMetrics
from app.streams.replay import ReplayBuffer, trim
from app.streams.resume import Binding, event_id
from app.streams.signals import FOLLOW_RENEW_S, STOP_POLL_S, LocalSignals, StreamSignals

log = logging.getLogger("storestream.streams")

_BACKLOG = 256  # frames a reader may lag behind before the producer waits for it
_TYPE_INDEX = {kind: i for i, kind in enumerate(EVENT_TYPES)}

# Why a run was cancelled -> how its stream ends.
_ENDINGS: dict[str, tuple[str, str, bool]] = {
    "interrupted": (Code.STREAM_INTERRUPTED, "The stream was interrupted before it finished", True),
    "stopped": (Code.STREAM_STOPPED, "The stream was stopped", False),
    "shutdown": (Code.SERVER_SHUTTING_DOWN, "The server is restarting; reconnect shortly", True),
}


class Reader:
    """One connection reading a run: where it is, and whether it went away."""

    __slots__ = ("after", "gone", "displaced")

    def __init__(self, after: int) -> None:
        self.after = after  # the last seq it has sent
        self.gone = False  # its client disconnected
        self.displaced = False  # a newer resume took over the run


class Run:
    __slots__ = (
        "producer", "ctx", "token", "binding", "replay", "signals", "timeout_s", "chunk_size", "retry_ms",
        "detach_s", "max_events", "max_bytes", "connected_context", "path", "on_end", "encode", "frames",
        "first_seq", "seq", "size", "ended", "outcome", "counts", "error_codes", "reader", "detached_at", "_reason",
        "_wakeup", "_drained", "_timer", "task",
    )

    def __init__(
        self,
        producer: Producer,
        ctx: StreamContext,
        *,
        token: str,
        binding: Binding,
        replay: ReplayBuffer,
        signals: StreamSignals,
        timeout_s: float,
        chunk_size: int,
        retry_ms: int,
        detach_s: float | None,
        max_events: int,
        max_bytes: int,
        connected_context: dict[str, Any] | None = None,
        path: str = "",
        on_end: Callable[[Run], None] | None = None,
        encode: wire.Encoder = wire.encode,
    ) -> None:
        self.producer = producer
        self.ctx = ctx
        self.token = token
        self.binding = binding
        self.replay = replay
        self.signals = signals
        self.timeout_s = timeout_s
        self.chunk_size = chunk_size
        self.retry_ms = retry_ms
        self.detach_s = detach_s
        self.max_events = max_events
        self.max_bytes = max_bytes
        self.connected_context = connected_context
        self.path = path  # the route it was opened on, for logs
        self.on_end = on_end
        self.encode = encode  # an event as its frame: our SSE, or a protocol's (app/protocols/)
        self.frames: list[tuple[int, bytes]] = []
        self.first_seq = 1
        self.seq = 0
        self.size = 0
        self.ended = False  # its last frame (`close`) is written
        self.outcome = ""
        self.counts = [0] * len(EVENT_TYPES)  # events sent, by type (EVENT_TYPES order)
        self.error_codes: tuple[str, ...] = ()
        self.reader: Reader | None = None
        self.detached_at: float | None = None
        self._reason: str | None = None
        self._wakeup: Callable[[], None] | None = None  # wakes the connection waiting for frames
        self._drained: asyncio.Future[None] | None = None  # the producer waiting for its reader
        self._timer: asyncio.TimerHandle | None = None
        self.task: asyncio.Task[None] | None = None

    @property
    def stream_id(self) -> str:
        return self.ctx.stream_id

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(
            self._main(), name=f"stream-{self.ctx.stream}-{self.stream_id}"
        )
        self.task.add_done_callback(self._done)

    # --- the producer side ---------------------------------------------------------------

    async def _main(self) -> None:
        await self.replay.open(self.stream_id, self.binding)
        try:
            context, self.connected_context = self.connected_context, None  # sent once: not kept
            self.outcome = await run_stream(
                self.producer, self.ctx, self._emit, timeout_s=self.timeout_s,
                chunk_size=self.chunk_size, connected_context=context,
            )
        except asyncio.CancelledError:
            reason = self._reason or "interrupted"
            self.outcome = reason
            code, message, retryable = _ENDINGS[reason]
            await self._record([ev.error(code, message, retryable=retryable), ev.close()])
        finally:
            try:
                await self.replay.finish(self.stream_id)
            finally:
                self._finish()

    async def _emit(self, event: Event) -> None:
        await self._record([event])
        reader = self.reader
        while reader is not None and reader is self.reader and self.seq - reader.after >= _BACKLOG:
            self._drained = asyncio.get_running_loop().create_future()
            await self._drained

    async def _record(self, events: list[Event]) -> None:
        frames = []
        for event in events:
            # The seq advances only with its frame: `take` relies on every seq up to
            # `self.seq` being in `self.frames` (a gap would leave a reader waiting forever).
            seq = self.seq + 1
            retry = self.retry_ms if event.type == "connected" else None
            frame = self.encode(event, event_id(self.token, seq), retry_ms=retry)
            self.counts[_TYPE_INDEX[event.type]] += 1
            if event.type == "error":
                self.error_codes += (str(event.data.get("code", "")),)
            if not frame:  # a protocol's encoder wrote nothing: no seq, no room in the bounds
                continue
            frames.append((seq, frame))
            self.seq = seq
        if not frames:
            return
        self.frames.extend(frames)
        self.size += sum(len(f) for _, f in frames)
        self._trim()
        self._wake()
        await self.replay.append(self.stream_id, frames)

    def _trim(self) -> None:
        """Within the replay bounds, but never past what the reader has not sent yet."""
        keep_after = self.reader.after if self.reader is not None else self.seq
        self.size, first = trim(self.frames, self.size, max_events=self.max_events, max_bytes=self.max_bytes,
                                keep_after=keep_after)
        if first is not None:
            self.first_seq = first

    def _finish(self) -> None:
        if self.ended:
            return
        self.ended = True
        if self._timer is not None:
            self._timer.cancel()
        self._release_producer()
        self._wake()
        if self.on_end is not None:
            self.on_end(self)

    def _done(self, task: asyncio.Task[None]) -> None:
        # A task cancelled before its first step never runs `_main`'s finally.
        self._finish()
        if not task.cancelled() and task.exception() is not None:
            log.error("%s run failed", self.ctx.tag, exc_info=task.exception())

    # --- ending it -----------------------------------------------------------------------

    def cancel(self, reason: str) -> bool:
        """End the run now; `reason` ("stopped", "shutdown", "interrupted") picks its last
        event. False when it had already ended."""
        if self.ended or self.task is None or self.task.done():
            return False
        if self._reason is None:
            self._reason = reason
        self.task.cancel()
        return True

    def stop(self) -> bool:
        return self.cancel("stopped")

    # --- the connection side -------------------------------------------------------------

    def can_resume(self, after_seq: int) -> bool:
        """Are the frames right after `after_seq` still held (no gap)?"""
        return after_seq + 1 >= self.first_seq and after_seq <= self.seq

    def exhausted(self, after_seq: int) -> bool:
        """Ended, and nothing after `after_seq`: a resume has nothing to get."""
        return self.ended and after_seq >= self.seq

    def attach(self, after_seq: int) -> Reader:
        """A connection reading from after `after_seq` (check `can_resume` first). A reader
        already attached is displaced: one connection reads a run at a time."""
        if self.reader is not None:
            self.reader.displaced = True
        self.reader = reader = Reader(after_seq)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.detached_at is not None:
            log.info("%s resumed after %.1f s detached", self.ctx.tag, time.monotonic() - self.detached_at,
                     extra={"event": "stream_resumed", "stream_id": self.stream_id})
            self.detached_at = None
        self._wake()
        return reader

    def detach(self, reader: Reader) -> None:
        """`reader`'s connection is over (its client left, or it was refused or cancelled).
        If it was the run's reader and the run goes on: detach (and start the window), or
        cancel it when it is not detachable."""
        if reader is not self.reader:
            return
        self.reader = None
        self._release_producer()
        if self.ended:
            return
        if self.detach_s is None:
            self.cancel("interrupted")
            return
        self.detached_at = time.monotonic()
        log.info("%s detached: its client left; running on for up to %.0f s", self.ctx.tag, self.detach_s,
                 extra={"event": "stream_detached", "stream_id": self.stream_id})
        self._arm(self.detach_s)

    def take(self, reader: Reader) -> list[tuple[int, bytes]]:
        start = reader.after + 1 - self.first_seq
        return self.frames[max(0, start):]

    def delivered(self, reader: Reader, seq: int) -> None:
        reader.after = seq
        if reader is self.reader and self.seq - seq < _BACKLOG:
            self._release_producer()

    def ready(self, reader: Reader) -> bool:
        """Is there something for `reader`: frames, the end, or its own end?"""
        return self.seq > reader.after or self.ended or reader.gone or reader.displaced

    def on_ready(self, wake: Callable[[], None]) -> None:
        """`wake` is called (once) when there may be something for the waiting connection
        (`off_ready` when it stops waiting). One connection waits at a time."""
        self._wakeup = wake

    def off_ready(self, wake: Callable[[], None]) -> None:
        """`wake`'s connection no longer waits (a newer reader's wake-up is left alone)."""
        if self._wakeup is wake:
            self._wakeup = None

    def _wake(self) -> None:
        wake, self._wakeup = self._wakeup, None
        if wake is not None:
            wake()

    def _release_producer(self) -> None:
        drained, self._drained = self._drained, None
        if drained is not None and not drained.done():
            drained.set_result(None)

    # --- the detach window ---------------------------------------------------------------

    def _arm(self, delay: float) -> None:
        self._timer = asyncio.get_running_loop().call_later(delay, self._window_over)

    def _window_over(self) -> None:
        self._timer = None
        if self.ended or self.reader is not None:
            return
        asyncio.get_running_loop().create_task(self._unless_followed())

    async def _unless_followed(self) -> None:
        """The window is over: cancel, unless a connection on another instance follows it
        (then look again a little later)."""
        if await self.signals.followed(self.stream_id):
            if not self.ended and self.reader is None and self._timer is None:
                self._arm(FOLLOW_RENEW_S)
            return
        if self.reader is None:
            self.cancel("interrupted")


class Runs:
    """The streams this instance runs (read or detached), by stream id, and the connections
    serving them, so that a shutdown can end each one cleanly."""

    def __init__(self, *, signals: StreamSignals, metrics: StreamMetrics) -> None:
        self.signals = signals
        self.metrics = metrics
        self._releases: dict[str, Callable[[], None]] = {}
        self._runs: dict[str, Run] = {}
        self.connections: set[Any] = set()  # responses serving streams: each has shut_down()
        self.closing = False
        self._poller: asyncio.Task[None] | None = None
        metrics.detached.set_function(self.detached)

    def __len__(self) -> int:
        return len(self._runs)

    def get(self, stream_id: str) -> Run | None:
        return self._runs.get(stream_id)

    def detached(self) -> int:
        return sum(1 for run in self._runs.values() if run.reader is None and not run.ended)

    def start(self, run: Run, release: Callable[[], None]) -> None:
        """Run it; `release` (its concurrent-stream slot) is called when the run ends."""
        ctx = run.ctx
        self._runs[run.stream_id] = run
        self._releases[run.stream_id] = release
        run.on_end = self._ended
        self.metrics.child(self.metrics.open_streams, ctx.stream).inc()
        if log.isEnabledFor(logging.INFO):
            log.info("%s start client=%s", ctx.tag, ctx.client,
                     extra={"event": "stream_start", "stream": ctx.stream, "stream_id": ctx.stream_id,
                            "route": run.path, "client": ctx.client})
        run.start()
        if self.closing:
            run.cancel("shutdown")
        remote = not isinstance(self.signals, LocalSignals)
        if remote and (self._poller is None or self._poller.done()):
            self._poller = asyncio.get_running_loop().create_task(self._take_stops(), name="stream-stops")

    def _ended(self, run: Run) -> None:
        self._runs.pop(run.stream_id, None)
        release = self._releases.pop(run.stream_id, None)
        if release is not None:
            release()
        ctx, metrics = run.ctx, self.metrics
        sent = 0
        for kind, n in zip(EVENT_TYPES, run.counts):
            if n:
                metrics.child(metrics.events, ctx.stream, kind).inc(n)
                sent += n
        for code in run.error_codes:
            metrics.child(metrics.errors, ctx.stream, code).inc()
        metrics.child(metrics.open_streams, ctx.stream).dec()
        duration = time.perf_counter() - ctx.started
        outcome = run.outcome or "cancelled"
        metrics.child(metrics.duration, ctx.stream, outcome).observe(duration)
        if not log.isEnabledFor(logging.INFO):
            return
        log.info(
            "%s end outcome=%s events=%d duration_ms=%.1f", ctx.tag, outcome, sent, duration * 1000,
            extra={"event": "stream_end", "transport": "sse", "stream": ctx.stream,
                   "stream_id": ctx.stream_id, "route": run.path, "client": ctx.client,
                   "outcome": outcome, "events": sent, "duration_ms": round(duration * 1000, 1)},
        )

    async def _take_stops(self) -> None:
        """While this instance runs streams: stops asked for on other instances."""
        while self._runs:
            for stream_id in await self.signals.stop_requests():
                run = self._runs.get(stream_id)
                if run is not None:
                    run.stop()
            await asyncio.sleep(STOP_POLL_S)

    async def close_all(self, grace_s: float) -> int:
        """End every run (SERVER_SHUTTING_DOWN) and every connection; wait up to `grace_s`
        for them. Returns how many were still open when the grace ran out."""
        self.closing = True
        for run in list(self._runs.values()):
            run.cancel("shutdown")
        for connection in list(self.connections):
            connection.shut_down()
        deadline = time.monotonic() + grace_s
        while (self._runs or self.connections) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return len(self._runs) + len(self.connections)

