"""What every speech engine offers: MP3 bytes for a sentence in a language."""

from __future__ import annotations

from typing import Protocol


class TTSError(Exception):
    """Speech failed; the message is safe to log (never shown with internals)."""


class TTSEngine(Protocol):
    name: str

    async def synthesize(self, text: str, lang: str) -> bytes:
        """One sentence as a complete MP3 stream that decodes on its own."""
        ...
