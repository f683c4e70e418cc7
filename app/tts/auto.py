"""`TTS_ENGINE=auto`: gTTS when Google answers, else the offline engine.

A failure of the primary is remembered for `retry_after_s`, so an offline server pays the
wait once, not on every sentence; the fallback starts within `primary_timeout_s` (1 s).
"""

from __future__ import annotations

import asyncio
import logging
import time

from app.tts.engine import TTSEngine, TTSError

log = logging.getLogger("storestream.tts")


class FallbackEngine:
    def __init__(
        self,
        primary: TTSEngine,
        fallback: TTSEngine,
        *,
        primary_timeout_s: float = 1.0,
        retry_after_s: float = 300.0,
    ) -> None:
        self.primary = primary
        self.fallback = fallback
        self.primary_timeout_s = primary_timeout_s
        self.retry_after_s = retry_after_s
        self._primary_down_until = 0.0
        self.name = f"{primary.name}|{fallback.name}"

    @property
    def primary_down(self) -> bool:
        return time.monotonic() < self._primary_down_until

    async def synthesize(self, text: str, lang: str) -> bytes:
        if not self.primary_down:
            try:
                async with asyncio.timeout(self.primary_timeout_s):
                    return await self.primary.synthesize(text, lang)
            except (TTSError, TimeoutError) as exc:
                self._primary_down_until = time.monotonic() + self.retry_after_s
                log.warning(
                    "%s unavailable (%s); using %s for %.0f s",
                    self.primary.name, type(exc).__name__, self.fallback.name, self.retry_after_s,
                )
        return await self.fallback.synthesize(text, lang)


def build_engine(name: str, *, primary_timeout_s: float = 1.0, retry_after_s: float = 300.0) -> TTSEngine | None:
    """`TTS_ENGINE`: auto (gTTS, falling back to espeak-ng), gtts, espeak, off."""
    from app.tts.espeak import EspeakEngine
    from app.tts.google import GoogleEngine

    match name:
        case "off":
            return None
        case "gtts":
            return GoogleEngine(timeout_s=primary_timeout_s)
        case "espeak":
            return EspeakEngine()
        case _:
            return FallbackEngine(
                GoogleEngine(timeout_s=primary_timeout_s), EspeakEngine(),
                primary_timeout_s=primary_timeout_s, retry_after_s=retry_after_s,
            )
