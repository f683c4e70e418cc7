"""A protocol's encoder writes nothing for an event its protocol has no place for (OpenAI's
chunks for `progress`, AG-UI after `RUN_FINISHED`): such an event takes no seq, no place in
the run's frames and none in the replay buffer, so a long agent turn full of them keeps its
resumability as long as one without them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

from app.streams import events as ev
from app.streams.engine import StreamContext
from app.streams.events import EVENT_TYPES, Event
from app.streams.replay import MemoryReplayBuffer
from app.streams.resume import Binding, new_token, stream_id_of
from app.streams.runs import Run
from app.streams.signals import LocalSignals

STEPS = 40


async def chatty(ctx: StreamContext) -> AsyncGenerator[Event, None]:
    for n in range(STEPS):
        yield ev.progress("tool", f"step {n}")
    yield ev.text("word", "word")


def skipping_progress(event: Event, event_id: str, *, retry_ms: int | None = None) -> bytes:
    return b"" if event.type == "progress" else f"id: {event_id}\ndata: {event.type}\n\n".encode()


async def test_empty_frames_take_no_seq_and_no_room_in_the_replay_bounds() -> None:
    token = new_token()
    stream_id = stream_id_of(token)
    replay = MemoryReplayBuffer(max_events=5, max_bytes=100_000, max_streams=10, ttl_s=60)
    run = Run(chatty, StreamContext(stream="t", stream_id=stream_id, client="c"), token=token,
              binding=Binding("t", "c"), replay=replay, signals=LocalSignals(), timeout_s=10, chunk_size=1000,
              retry_ms=1000, detach_s=None, max_events=5, max_bytes=100_000, encode=skipping_progress)
    run.start()
    assert run.task is not None
    await asyncio.wait_for(run.task, 10)
    written = [frame for _, frame in run.frames]
    # connected, text, complete, close: the 40 progress events left no frame and no seq
    assert [f.split(b"data: ")[1].strip() for f in written] == [b"connected", b"text", b"complete", b"close"]
    assert run.seq == 4 and run.first_seq == 1 and run.can_resume(0)
    assert [seq for seq, _ in run.frames] == [1, 2, 3, 4]
    assert all(f.startswith(f"id: {token}-{seq}\n".encode()) for seq, f in run.frames)
    held = await replay.read(stream_id, 0)  # a resume from the start is still possible
    assert held is not None and held.finished and [seq for seq, _ in held.frames] == [1, 2, 3, 4]
    assert run.counts[EVENT_TYPES.index("progress")] == STEPS  # produced (the metrics count it), not written
