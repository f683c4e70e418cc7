"""The stem of a word in the language its script stands for, so inflected forms meet.

Russian, Hindi and Persian inflect where English only adds a plural: "красное платье" must
meet "красный" and "платья", "नीली" meet "नीला", "کفش‌ها" meet "کفش". Their words go through
Snowball's stemmers (PyStemmer): Cyrillic as Russian, Devanagari as Hindi, Arabic script as
Persian (the shops this serves; Arabic text is still unified and split right, only its
suffixes are left alone by Persian rules). Hebrew has no Snowball stemmer: `hebrew_stem` folds
final letters and strips one gender, number or construct-state ending of nouns and adjectives
(אדום, אדומה, אדומים, אדומות -> אדומ; שמלה, שמלות, שמלת -> שמל; נעליים, נעלי -> נעל),
leaving prefixes alone (ה, ו, ב, ... are too often part of the word). Words in other scripts
are returned unchanged.

Stems are index terms, never shown: documents and queries are stemmed alike, so an odd stem
still matches. Expects words already normalised by `app.search.text.normalize`.
"""

from __future__ import annotations

import threading

import Stemmer  # PyStemmer

SNOWBALL = {"cyrillic": "russian", "devanagari": "hindi", "arabic": "persian"}
_BLOCKS = (
    (0x0400, 0x052F, "cyrillic"),
    (0x0590, 0x05FF, "hebrew"),
    (0x0600, 0x06FF, "arabic"),
    (0x0750, 0x077F, "arabic"),
    (0x0900, 0x097F, "devanagari"),
)
_FINALS = str.maketrans("ךםןףץ", "כמנפצ")
_HEBREW_ENDINGS = ("יימ", "ימ", "ות", "ה", "ת", "י")  # after final letters are folded
_HEBREW_MIN_STEM = 3


def script_of(word: str) -> str | None:
    """The script of the word's first character, when a stemmer knows it."""
    cp = ord(word[0]) if word else 0
    for lo, hi, name in _BLOCKS:
        if lo <= cp <= hi:
            return name
    return None


class _Stemmers(threading.local):
    """PyStemmer's stemmers are not thread-safe (an index may be built in a worker thread)."""

    def __init__(self) -> None:
        self.by_script = {script: Stemmer.Stemmer(language) for script, language in SNOWBALL.items()}


_stemmers = _Stemmers()


def hebrew_stem(word: str) -> str:
    """Final letters folded, then one ending removed if 3 letters remain (module docstring)."""
    word = word.translate(_FINALS)
    for ending in _HEBREW_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= _HEBREW_MIN_STEM:
            return word[: -len(ending)]
    return word


def stem(word: str) -> str:
    """The stem of a normalised word by its script's language; unchanged in other scripts."""
    script = script_of(word)
    if script == "hebrew":
        return hebrew_stem(word)
    if script is None:
        return word
    stemmed: str = _stemmers.by_script[script].stemWord(word)
    return stemmed
