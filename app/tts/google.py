"""gTTS: Google Translate's speech. Needs Google's service; offline it fails in milliseconds
(no DNS) or at the connect timeout. gTTS requests 100-character pieces one after another, so
a sentence costs at least one round trip."""

from __future__ import annotations

import asyncio
import io

from app.tts.engine import TTSError

LANGS = {"en": "en", "hi": "hi", "fa": "fa", "ar": "ar", "ru": "ru", "he": "iw", "ur": "ur"}


class GoogleEngine:
    name = "gtts"

    def __init__(self, timeout_s: float = 1.0) -> None:
        self.timeout_s = timeout_s

    def _render(self, text: str, lang: str) -> bytes:
        from gtts import gTTS
        from gtts.tts import gTTSError

        buffer = io.BytesIO()
        try:
            gTTS(text, lang=LANGS.get(lang, "en"), timeout=self.timeout_s).write_to_fp(buffer)
        except (gTTSError, AssertionError, ValueError, OSError) as exc:
            raise TTSError(f"gTTS failed: {type(exc).__name__}") from None
        return buffer.getvalue()

    async def synthesize(self, text: str, lang: str) -> bytes:
        audio = await asyncio.to_thread(self._render, text, lang)
        if not audio:
            raise TTSError("gTTS returned no audio")
        return audio
