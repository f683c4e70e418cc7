"""Text normalisation shared by the index and the query parser, so both sides agree on terms.

Pipeline: NFKC + casefold, one spelling per letter in every script (`app.search.scripts`:
Arabic and Persian letter forms, niqqud, nukta, ё, native digits...), apostrophes dropped
("men's" -> "mens"), split on anything that is not a letter, digit or combining mark (the
vowel signs and viramas of Devanagari are part of a word). A hyphenated word also yields its
joined form ("t-shirt" -> "t", "shirt", "tshirt") so "tshirt", "t shirt" and "t-shirt" all meet.

`fold` stems words of Cyrillic, Devanagari, Arabic and Hebrew script by their language
(`app.search.stemming`). For Latin it is a deliberately small plural folder, not a stemmer
(English ranking was tuned with it): it only undoes English plurals and is applied
identically to documents and queries, so a fold that is "wrong" in English (hoodie -> hoody)
still matches. Rules, first match wins (words of 3 letters or fewer are kept):
- irregular forms: men -> man, women -> woman, scarves -> scarf, ...
- "ies" -> "y" (accessories -> accessory) and "ie" -> "y" (hoodie -> hoody, so hoodies meets it);
- "sses", "shes", "ches", "xes", "zes" drop "es" (dresses -> dress, watches -> watch);
- "ss" and "us" endings are kept (dress, status);
- any other final "s" is dropped (lehengas -> lehenga, shoes -> shoe, kurtis -> kurti).
"""

from __future__ import annotations

import re
import unicodedata

from app.search.scripts import MARKS, unify
from app.search.stemming import script_of, stem

# Words that carry no product meaning; neither indexed nor searched (in their normalised
# spelling): English, Hindi, Persian (with the plural suffix written apart), Russian, Hebrew.
# The word "colour" is among them where shoppers name a colour with it ("платье красного
# цвета", "लाल रंग की साड़ी", "שמלה בצבע אדום"): it names the attribute, not a value, and a
# description that says "... цвета" would otherwise match it.
STOPWORDS: frozenset[str] = frozenset(
    "a an and are as at be by for from in into is it its of on or our that the this to "
    "with your you "
    "और के का की को में से है हैं पर लिए ही भी तक एक या रंग "
    "و در به از با برای که را این آن یا تا ها های رنگ "
    "и в во на с со для по из к у о об от до или не это цвет цвета цвете цветом "
    "של עם על את או גם זה זו צבע בצבע".split()
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
_CHUNK = re.compile(rf"[\w{MARKS}]+(?:-[\w{MARKS}]+)*")  # over text without "_"
_ASCII_CHUNK = re.compile(r"[^\W_]+(?:-[^\W_]+)*")  # the same on ASCII text, 1.5x as fast


def normalize(text: str) -> str:
    """NFKC + casefold, one spelling per letter, apostrophes removed; the form every other
    step starts from."""
    return _APOSTROPHES.sub("", unify(unicodedata.normalize("NFKC", text).casefold()))


def _chunks(text: str) -> list[str]:
    """Runs of letters, digits and marks of the normalised text, hyphenated words whole."""
    normal = normalize(text)
    if normal.isascii():
        return _ASCII_CHUNK.findall(normal)
    return _CHUNK.findall(normal.replace("_", " "))


def words(text: str) -> list[str]:
    """Alphanumeric runs of the normalised text: no folding, no joined compounds."""
    return [part for chunk in _chunks(text) for part in chunk.split("-")]


def tokens(text: str) -> list[str]:
    """`words` plus the joined form of each hyphenated word, in text order; not folded."""
    out: list[str] = []
    for chunk in _chunks(text):
        if "-" in chunk:
            parts = chunk.split("-")
            out.extend(parts)
            out.append("".join(parts))
        else:
            out.append(chunk)
    return out


def fold(word: str) -> str:
    """Stem `word` in its script's language, or undo an English plural (module docstring);
    `word` must already be normalised."""
    if not word.isascii() and script_of(word) is not None:
        return stem(word)
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
