"""Sentence boundaries in a stream of tokens, so speech can start before the answer ends.

A sentence ends at `.`, `!`, `?`, the Devanagari danda `।`, the Arabic question mark `؟` or
a line break, followed by whitespace. "Rs. 1,299" and "e.g. silk" are not ends; a run of
text with no end at all is cut at a space after `max_chars`.
"""

from __future__ import annotations

import re

_END = re.compile(r"[.!?।؟]+[\"'”’)\]]*(?=\s)|\n+")
_ABBREVIATIONS = frozenset({"rs", "mr", "mrs", "ms", "dr", "st", "no", "vs", "etc", "e.g", "i.e", "approx"})


class SentenceSplitter:
    def __init__(self, max_chars: int = 300) -> None:
        self.max_chars = max_chars
        self._buffer = ""

    def feed(self, token: str) -> list[str]:
        """Sentences completed by this token (the tail waits for more)."""
        self._buffer += token
        out: list[str] = []
        start = 0
        for match in _END.finditer(self._buffer):
            end = match.end()
            if match.group().startswith(".") and self._is_abbreviation(self._buffer[start:match.start()]):
                continue
            sentence = self._buffer[start:end].strip()
            if sentence:
                out.append(sentence)
            start = end
        self._buffer = self._buffer[start:]
        while len(self._buffer) > self.max_chars:
            cut = self._buffer.rfind(" ", 0, self.max_chars)
            cut = cut if cut > 0 else self.max_chars
            out.append(self._buffer[:cut].strip())
            self._buffer = self._buffer[cut:]
        return [s for s in out if _speakable(s)]

    def flush(self) -> str | None:
        rest, self._buffer = self._buffer.strip(), ""
        return rest if _speakable(rest) else None

    @staticmethod
    def _is_abbreviation(text: str) -> bool:
        last = text.rsplit(None, 1)[-1].lower() if text.strip() else ""
        return last in _ABBREVIATIONS


def _speakable(text: str) -> bool:
    return any(ch.isalnum() for ch in text)
