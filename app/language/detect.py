"""Which language a message is in, offline, from its script: the one detector the chat, the
agent and search use.

Enough for answering in the shopper's language. Persian and Arabic share a script: a letter
only Persian uses makes it Persian, else a letter only an Arabic keyboard types makes it
Arabic, else (a word both write alike, "قرمز") Persian, the language of the shops served in
that script. Romanised Hindi ("shaadi ke liye") is Latin script and is answered in English.
"""

from __future__ import annotations

SUPPORTED = ("en", "hi", "fa", "ar", "ru", "he")
RTL = frozenset({"fa", "ar", "he"})
_PERSIAN_ONLY = set("پچژگکی")  # noqa: RUF001 - Persian letters (keheh and farsi yeh included)
_ARABIC_ONLY = set("ةيكىأإ")  # letters a Persian keyboard does not type


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
    """The language of the script most of `text`'s letters are in (module docstring); `default`
    when it has no letters."""
    counts: dict[str, int] = {}
    for ch in text:
        script = _script(ch)
        if script is not None:
            counts[script] = counts.get(script, 0) + 1
    if not counts:
        return default
    script = max(counts, key=counts.__getitem__)
    if script == "arabic":
        letters = set(text)
        return "ar" if letters & _ARABIC_ONLY and not letters & _PERSIAN_ONLY else "fa"
    return script


def direction(language: str) -> str:
    return "rtl" if language in RTL else "ltr"
