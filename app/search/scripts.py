"""One spelling per letter in every script, so a shopper's keyboard does not decide what matches.

Applied to NFKC-normalised, casefolded text by `app.search.text.normalize`, for documents
and queries alike:
- Arabic script: Arabic yeh and alef maksura -> Persian yeh (ي ى -> ی), Arabic kaf -> keheh
  (ك -> ک), teh marbuta and heh with yeh above -> heh (ة ۀ -> ه), hamza-carrying alefs -> alef
  (أ إ ٱ -> ا; آ is its own letter in Persian and is kept); harakat, Quranic marks and
  tatweel removed. Persian and Arabic shops type the same words on either keyboard layout.
- Devanagari: nukta dropped (ज़ -> ज: many shoppers never type it, and NFKC already splits
  the precomposed nukta letters), chandrabindu -> anusvara (साड़ियाँ and साड़ियां are one word).
- Hebrew: the vowels that unpointed spelling writes as a letter become that letter (qubuts,
  and holam not on a vav -> ו: אֲדֻמָּה, שְׁחֹרָה -> אדומה, שחורה, as shops write them), then
  the other niqqud and cantillation removed, geresh and gershayim dropped like apostrophes
  (ג׳ינס, ג'ינס -> גינס; an ASCII `"` between Hebrew letters is gershayim), maqaf -> hyphen.
- Cyrillic: ё -> е (most Russian text never writes the dots).
- Digits of every script -> ASCII (۲۰۰۰, ٢٠٠٠ and २००० are 2000).
- Invisible format characters removed (ZWNJ and ZWJ, which sit inside Persian and Devanagari
  words; bidi marks pasted with right-to-left text; soft hyphens); a zero-width space is a space.

`MARKS` is the character class of combining marks: vowel signs and viramas are part of a word,
though `\\w` does not match them.
"""

from __future__ import annotations

import re
import unicodedata

_LETTERS = {
    "ي": "ی", "ى": "ی", "ك": "ک", "ة": "ه", "ۀ": "ه", "ە": "ه", "أ": "ا", "إ": "ا", "ٱ": "ا",
    "ँ": "ं", "ё": "е", "־": "-", "\u200b": " ",
}
_DROPPED_RANGES = [
    (0x0610, 0x061A), (0x064B, 0x065F), (0x0670, 0x0670), (0x06D6, 0x06ED), (0x0640, 0x0640),  # harakat, tatweel
    (0x0591, 0x05BD), (0x05BF, 0x05BF), (0x05C1, 0x05C2), (0x05C4, 0x05C5), (0x05C7, 0x05C7),  # niqqud
    (0x05F3, 0x05F4),  # geresh, gershayim
    (0x093C, 0x093C),  # nukta
]
_GERSHAYIM = re.compile(r'(?<=[\u05d0-\u05ea])"(?=[\u05d0-\u05ea])')
_VAV_VOWEL = re.compile("\u05bb|(?<!\u05d5)\u05b9")  # qubuts; holam not on a vav


def _tables() -> tuple[dict[int, str | None], str]:
    """The translation table (letters, digits, dropped marks and format characters) and the
    ranges of combining marks as a regex class body; built once from the Unicode database."""
    table: dict[int, str | None] = {ord(k): v for k, v in _LETTERS.items()}
    for lo, hi in _DROPPED_RANGES:
        table.update(dict.fromkeys(range(lo, hi + 1)))
    marks: list[list[int]] = []
    for cp in range(0xA0, 0x20000):
        char = chr(cp)
        category = unicodedata.category(char)
        if category == "Nd":
            table[cp] = str(unicodedata.digit(char))
        elif category == "Cf" and cp not in table:
            table[cp] = None
        elif category[0] == "M":
            if marks and marks[-1][1] == cp - 1:
                marks[-1][1] = cp
            else:
                marks.append([cp, cp])
    ranges = "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in marks)
    return table, ranges


_TABLE, MARKS = _tables()


def unify(text: str) -> str:
    """`text` (NFKC, casefolded) with every letter in its one spelling; see the module docstring."""
    if text.isascii():
        return text
    return _VAV_VOWEL.sub("\u05d5", _GERSHAYIM.sub("", text)).translate(_TABLE)
