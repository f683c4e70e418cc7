"""Which language a message is in, offline, from its script.

Enough for answering in the shopper's language: Persian and Arabic share a script and are
told apart by letters only Persian uses; romanised Hindi ("shaadi ke liye") is Latin script
and is answered in English.
"""

from __future__ import annotations

SUPPORTED = ("en", "hi", "fa", "ar", "ru", "he")
RTL = frozenset({"fa", "ar", "he"})
_PERSIAN_ONLY = set("پچژگکی")  # noqa: RUF001 - Persian letters (keheh and farsi yeh included)


def _script(ch: str) -> str | None:
    code = ord(ch)
    if 0x0600 <= code <= 0x06FF or 0x0750 <= code <= 0x077F or 0xFB50 <= code <= 0xFEFF:
        return "arabic"
    if 0x0590 <= code <= 0x05FF:
        return "he"
    if 0x0900 <= code <= 0x097F:
        return "hi"
    if 0x0400 <= code <= 0x04FF:
        return "ru"
    if ch.isascii() and ch.isalpha():
        return "en"
    return None


def detect_language(text: str, default: str = "en") -> str:
    counts: dict[str, int] = {}
    for ch in text:
        script = _script(ch)
        if script is not None:
            counts[script] = counts.get(script, 0) + 1
    if not counts:
        return default
    script = max(counts, key=counts.__getitem__)
    if script == "arabic":
        return "fa" if any(ch in _PERSIAN_ONLY for ch in text) else "ar"
    return script


def direction(language: str) -> str:
    return "rtl" if language in RTL else "ltr"
