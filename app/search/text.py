"""Text normalisation shared by the index and the query parser, so both sides agree on terms.

Pipeline: NFKC + casefold, apostrophes dropped ("men's" -> "mens"), split on anything that
is not a letter or digit. A hyphenated word also yields its joined form ("t-shirt" -> "t",
"shirt", "tshirt") so "tshirt", "t shirt" and "t-shirt" all meet.

`fold` is a deliberately small plural folder, not a stemmer: it only undoes English plurals
and is applied identically to documents and queries, so a fold that is "wrong" in English
(hoodie -> hoody) still matches. Rules, first match wins (words of 3 letters or fewer are kept):
- irregular forms: men -> man, women -> woman, scarves -> scarf, ...
- "ies" -> "y" (accessories -> accessory) and "ie" -> "y" (hoodie -> hoody, so hoodies meets it);
- "sses", "shes", "ches", "xes", "zes" drop "es" (dresses -> dress, watches -> watch);
- "ss" and "us" endings are kept (dress, status);
- any other final "s" is dropped (lehengas -> lehenga, shoes -> shoe, kurtis -> kurti).
"""

from __future__ import annotations

import re
import unicodedata

# Words that carry no product meaning; neither indexed nor searched.
STOPWORDS: frozenset[str] = frozenset(
    "a an and are as at be by for from in into is it its of on or our that the this to "
    "with your you".split()
)

IRREGULAR: dict[str, str] = {
    "men": "man",
    "women": "woman",
    "scarves": "scarf",
    "scarve": "scarf",
    "knives": "knife",
    "feet": "foot",
    "children": "child",
}

_APOSTROPHES = re.compile(r"['\u2019\u2018`]")
_CHUNK = re.compile(r"[^\W_]+(?:-[^\W_]+)*")


def normalize(text: str) -> str:
    """NFKC + casefold, apostrophes removed; the form every other step starts from."""
    return _APOSTROPHES.sub("", unicodedata.normalize("NFKC", text).casefold())


def words(text: str) -> list[str]:
    """Alphanumeric runs of the normalised text: no folding, no joined compounds."""
    return [part for chunk in _CHUNK.findall(normalize(text)) for part in chunk.split("-")]


def tokens(text: str) -> list[str]:
    """`words` plus the joined form of each hyphenated word, in text order; not folded."""
    out: list[str] = []
    for chunk in _CHUNK.findall(normalize(text)):
        if "-" in chunk:
            parts = chunk.split("-")
            out.extend(parts)
            out.append("".join(parts))
        else:
            out.append(chunk)
    return out


def fold(word: str) -> str:
    """Undo an English plural (see module docstring); `word` must already be normalised."""
    if word in IRREGULAR:
        return IRREGULAR[word]
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("ie"):
        word = word[:-2] + "y"
    elif word.endswith(("sses", "shes", "ches", "xes", "zes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us")):
        word = word[:-1]
    return IRREGULAR.get(word, word)


def indexable(token: str) -> bool:
    """Whether a token is worth a posting: not a stopword, not a lone letter."""
    if token in STOPWORDS:
        return False
    return len(token) > 1 or token.isdigit()


def terms(text: str) -> list[str]:
    """The folded, indexable terms of `text`, in order, repeats kept (they are term counts)."""
    return [fold(token) for token in tokens(text) if indexable(token)]
