"""Speech for a streamed answer: each finished sentence is synthesised while text keeps
streaming; the `audio` events come out in sentence order (`seq`), each chunk a complete MP3.

A failing engine never stops the text: the first failure becomes one
`error{code: "TTS_UNAVAILABLE", fatal: false}` and the speaker goes quiet.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections import deque

from app.streams import events as ev
from app.streams.events import Code, Event
from app.tts.engine import TTSEngine
from app.tts.sentences import SentenceSplitter
from app.tts.speech import speakable_text

log = logging.getLogger("storestream.tts")


class Speaker:
    def __init__(self, engine: TTSEngine, lang: str, *, parallel: int = 2) -> None:
        self.engine = engine
        self.lang = lang
        self._splitter = SentenceSplitter()
        self._pending: deque[tuple[str, asyncio.Task[bytes]]] = deque()
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
            self._pending.append((spoken, asyncio.create_task(self._render(spoken))))

    async def _render(self, sentence: str) -> bytes:
        async with self._limit:
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
            log.warning("speech failed (%s): %s", type(exc).__name__, exc)
            self.failed = True
            self.cancel()
            return [ev.error(Code.TTS_UNAVAILABLE, "Speech is unavailable; the answer continues as text",
                             retryable=False, fatal=False)]
        self._seq += 1
        return [ev.audio(base64.b64encode(mp3).decode("ascii"), self._seq, sentence, lang=self.lang,
                         engine=self.engine.name)]

    def cancel(self) -> None:
        for _, task in self._pending:
            task.cancel()
        if self.failed:
            self._pending.clear()
