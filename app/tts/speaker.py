"""Speech for a streamed answer: each finished sentence is synthesised while text keeps
streaming; the `audio` events come out in sentence order (`seq`), each chunk a complete MP3.

Speech never stops or delays the text, and lags it by TTS_QUEUE_WAIT_S at most: a sentence
must get a synthesis slot (app/tts/slots.py) within that long of its text being streamed,
so speech cannot push a stream past its deadline. When speech fails, or cannot keep up (a
sentence not started in time), the sentences already spoken keep their audio,
one `error{code: "TTS_UNAVAILABLE", fatal: false}` takes the place of the first sentence not
spoken (`reason`: `failed` or `busy`), and the speaker goes quiet for the rest of the answer:
no gaps in the middle of what is heard.

Every synthesis task is awaited: `aclose()` cancels what is still running and waits for it
to end (an engine's cleanup included, e.g. killing its espeak-ng process), so nothing
outlives the stream and nothing is left for the garbage collector to report.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections import deque

from app.streams import events as ev
from app.streams.events import Code, Event
from app.tts.engine import TTSEngine
from app.tts.sentences import SentenceSplitter
from app.tts.slots import SpeechBusy, SpeechSlots
from app.tts.speech import speakable_text

log = logging.getLogger("storestream.tts")

CLOSE_WAIT_S = 2.0  # the longest `aclose` waits for cancelled syntheses to end


class Speaker:
    def __init__(
        self, engine: TTSEngine, lang: str, *, parallel: int = 2, slots: SpeechSlots | None = None
    ) -> None:
        self.engine = engine
        self.lang = lang
        self.slots = slots
        self.started = time.monotonic()  # its place in the process-wide queue: older answers first
        self._splitter = SentenceSplitter()
        self._pending: deque[tuple[str, asyncio.Task[bytes]]] = deque()
        self._running: set[asyncio.Task[bytes]] = set()  # every synthesis until it has ended
        self._limit = asyncio.Semaphore(parallel)
        self._seq = 0
        self.failed = False

    def feed(self, token: str) -> None:
        for sentence in self._splitter.feed(token):
            self._start(sentence)

    def finish(self) -> None:
        rest = self._splitter.flush()
        if rest:
            self._start(rest)

    def _start(self, sentence: str) -> None:
        if self.failed:
            return
        spoken = speakable_text(sentence, self.lang)
        if spoken:
            task = asyncio.create_task(self._render(spoken, time.monotonic()))
            self._running.add(task)
            task.add_done_callback(self._ended)
            self._pending.append((spoken, task))

    def _ended(self, task: asyncio.Task[bytes]) -> None:
        self._running.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved here: a failure after the speaker went quiet is not an error to log

    async def _render(self, sentence: str, ready: float) -> bytes:
        """Synthesise `sentence`, whose text was streamed at `ready` (monotonic seconds)."""
        async with self._limit:
            if self.slots is None:
                return await self.engine.synthesize(sentence, self.lang)
            left = self.slots.max_wait_s - (time.monotonic() - ready)
            async with self.slots.slot(self.started, left):
                return await self.engine.synthesize(sentence, self.lang)

    def ready(self) -> list[Event]:
        """Audio finished so far, in order, without waiting."""
        out: list[Event] = []
        while self._pending and self._pending[0][1].done():
            out += self._take()
        return out

    async def drain(self) -> list[Event]:
        """Wait for every sentence still being synthesised."""
        out: list[Event] = []
        while self._pending:
            await asyncio.wait({self._pending[0][1]})
            out += self._take()
        return out

    def _take(self) -> list[Event]:
        sentence, task = self._pending.popleft()
        if self.failed:
            return []
        try:
            mp3 = task.result()
        except asyncio.CancelledError:
            return []
        except Exception as exc:  # noqa: BLE001 - speech is optional; the text goes on
            return [self._quiet(exc)]
        self._seq += 1
        return [ev.audio(base64.b64encode(mp3).decode("ascii"), self._seq, sentence, lang=self.lang,
                         engine=self.engine.name)]

    def _quiet(self, exc: Exception) -> Event:
        """The first sentence not spoken: one non-fatal error, then no more speech."""
        self.failed = True
        self._cancel()
        if isinstance(exc, SpeechBusy):
            log.info("speech busy after %d sentences: the rest of this answer is text only", self._seq)
            return ev.error(Code.TTS_UNAVAILABLE, "Speech is busy; the rest of the answer is text only",
                            retryable=False, fatal=False, reason="busy", spoken=self._seq)
        log.warning("speech failed (%s): %s", type(exc).__name__, exc)
        return ev.error(Code.TTS_UNAVAILABLE, "Speech is unavailable; the answer continues as text",
                        retryable=False, fatal=False, reason="failed", spoken=self._seq)

    def _cancel(self) -> None:
        for _, task in self._pending:
            task.cancel()
        self._pending.clear()

    async def aclose(self) -> None:
        """Cancel the syntheses still running and wait (at most CLOSE_WAIT_S) for them to end."""
        self.failed = True
        self._cancel()
        running = set(self._running)
        if running:
            _, late = await asyncio.wait(running, timeout=CLOSE_WAIT_S)
            if late:
                log.warning("%d speech syntheses still ending %.0f s after their answer", len(late), CLOSE_WAIT_S)
