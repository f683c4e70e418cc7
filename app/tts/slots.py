"""The process-wide limit on speech synthesis: at most `limit` sentences at once, whatever
the number of speaking streams, and a bounded wait for the rest.

Without it every speaking stream ran up to two espeak-ng processes: 200 speaking chat
streams ran about 130 at once on 2 cores, and 155 of 192 streams hit STREAM_TIMEOUT waiting
for their audio. espeak-ng (with the MP3 encoding) peaks at about 43 sentences/s with 2 at
once on 2 cores and gains nothing from more (bench/speech.py), so more only adds latency.

Waiters are served oldest answer first (the speaker's start time), so under load the
answers already speaking finish their audio and the newest wait. A wait is bounded (a
sentence must start within TTS_QUEUE_WAIT_S of its text: app/tts/speaker.py): a sentence
that gets no slot in time raises `SpeechBusy`, and its speaker goes quiet for the rest of
that answer (the text goes on; the speaker says so once, non-fatally).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections.abc import AsyncIterator

from app.tts.engine import TTSError


class SpeechBusy(TTSError):
    """No synthesis slot within the wait bound: speech cannot keep up right now."""


class SpeechSlots:
    def __init__(self, limit: int, max_wait_s: float) -> None:
        self.limit = limit
        self.max_wait_s = max_wait_s  # how far speech may lag its text (TTS_QUEUE_WAIT_S)
        self.busy = 0  # slots held
        self.peak = 0  # most slots ever held at once (for tests and benchmarks)
        self.refused = 0  # sentences that got no slot in time
        self._waiters: list[tuple[float, int, asyncio.Future[None]]] = []  # heap: oldest answer first
        self._order = itertools.count()

    @property
    def waiting(self) -> int:
        return sum(1 for _, _, future in self._waiters if not future.done())

    @contextlib.asynccontextmanager
    async def slot(self, priority: float, wait_s: float | None = None) -> AsyncIterator[None]:
        """Hold one slot for the block; `priority` is the answer's start time (lower first).
        Raises `SpeechBusy` when none is free within `wait_s` (default `max_wait_s`)."""
        await self._acquire(priority, self.max_wait_s if wait_s is None else wait_s)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, priority: float, wait_s: float) -> None:
        if self.busy < self.limit and not self.waiting:
            self._take()
            return
        if wait_s <= 0:
            self.refused += 1
            raise SpeechBusy("speech is already too far behind its text")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._order), future))
        try:
            async with asyncio.timeout(wait_s):
                await future  # resolved by `_release`, which hands its slot over
        except BaseException as exc:
            if future.done() and not future.cancelled():
                self._release()  # handed a slot just as the wait ended: pass it on
            else:
                future.cancel()
            if isinstance(exc, TimeoutError):
                self.refused += 1
                raise SpeechBusy(f"no speech slot within {wait_s:.1f} s") from None
            raise

    def _take(self) -> None:
        self.busy += 1
        self.peak = max(self.peak, self.busy)

    def _release(self) -> None:
        while self._waiters:
            _, _, future = heapq.heappop(self._waiters)
            if not future.done():
                future.set_result(None)  # the slot goes straight to the oldest waiter
                return
        self.busy -= 1
