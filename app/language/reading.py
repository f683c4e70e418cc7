"""A message in Hindi (Devanagari), Persian, Russian or Hebrew read into the words the agent
understands: English and romanised Hindi, the languages of the intent examples and rules
(config/intents.toml) and of the query parser.

Why a lexicon and not the embedding model: MiniLM is English-only (a Hindi sentence and its
English translation score about 0 cosine), and the parser's vocabulary is English and
Hinglish; a word-by-word reading ("где мой заказ" -> "where my order") is enough for both, the
way the romanised Hindi glossary is for the embeddings. The words live in
config/languages.toml (its header says how they are matched); English and romanised Hindi
come back unchanged, so nothing the agent understood before reads differently.

Amounts keep their unit word ("2 میلیون" -> "2 million"; the parser multiplies, from the one
table of units, `app.language.amounts`); a rial amount is written out divided by 10: prices are
read in the store's currency, which in Iran is quoted in toman (config/languages.toml).

Search reads a query the same way (`app.search.service`), so a shopper typing in any of these
languages on an English catalog finds what an English query finds.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from app.language.amounts import UNITS, WORDS
from app.language.detect import detect_language
from app.search.scripts import MARKS
from app.search.text import fold, normalize

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "config" / "languages.toml"
READ = ("hi", "fa", "ru", "he")  # the languages with a reading in config/languages.toml
_WORD = re.compile(rf"(?:[^\W\d_]|[{MARKS}])+")
_HEBREW_PREFIXES = "והבלמשכ"
_RIAL = re.compile(rf"(?<![\d.,])(\d{{1,16}}(?:\.\d{{1,6}})?)\s*(?:({'|'.join(WORDS)})\s*)?rial\b")


@dataclass(frozen=True)
class Lexicon:
    """One language's reading: price patterns first, then words and phrases."""

    patterns: tuple[tuple[re.Pattern[str], str], ...]
    exact: dict[tuple[str, ...], str]  # normalised words -> reading
    stemmed: dict[tuple[str, ...], str]  # the same, by stems (app.search.text.fold)
    longest: int

    def lookup(self, words: list[str], folded: list[str], i: int) -> tuple[str | None, int]:
        """The reading of the longest phrase starting at words[i] (`folded`: the same words
        through `fold`), and its length in words."""
        for span in range(min(self.longest, len(words) - i), 0, -1):
            found = self.exact.get(tuple(words[i : i + span]))
            if found is None:
                found = self.stemmed.get(tuple(folded[i : i + span]))
            if found is not None:
                return found, span
        return None, 0


def language_of(text: str) -> str:
    """The language to answer `text` in: "en" (romanised Hindi too), "hi", "fa", "ru", "he".

    Arabic script is Persian unless it is Arabic (`app.language.detect`); there is no Arabic
    reading or wording, so Arabic is answered in English.
    """
    language = detect_language(text)
    return language if language in READ else "en"


@functools.lru_cache(maxsize=4)
def load_lexicons(path: Path = DEFAULT_PATH) -> dict[str, Lexicon]:
    """config/languages.toml, each phrase normalised and stemmed as messages will be."""
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    lexicons = {}
    for language, spec in raw.items():
        exact: dict[tuple[str, ...], str] = {}
        stemmed: dict[tuple[str, ...], str] = {}
        for phrase, reading in spec.get("words", {}).items():
            words = _WORD.findall(normalize(phrase))
            if words:
                exact.setdefault(tuple(words), str(reading))
                stemmed.setdefault(tuple(fold(w) for w in words), str(reading))
        patterns = tuple((re.compile(p), str(r)) for p, r in spec.get("patterns", {}).items())
        lexicons[language] = Lexicon(patterns, exact, stemmed, max((len(k) for k in exact), default=1))
    return lexicons


def in_english(text: str, lexicons: dict[str, Lexicon] | None = None) -> str:
    """`text` read into English and romanised Hindi when it is in a language with a reading;
    otherwise `text` itself. Words the lexicon does not know are kept as they are."""
    language = language_of(text)
    lexicon = (lexicons if lexicons is not None else load_lexicons()).get(language)
    if lexicon is None:
        return text
    normal = normalize(text)
    for pattern, replacement in lexicon.patterns:
        normal = pattern.sub(replacement, normal)
    read = _read_words(normal, lexicon, hebrew=language == "he")
    return " ".join(_RIAL.sub(_toman, read).split())


def _read_words(text: str, lexicon: Lexicon, *, hebrew: bool) -> str:
    spans = [m.span() for m in _WORD.finditer(text)]
    words = [text[a:b] for a, b in spans]
    folded = [fold(w) for w in words]
    out: list[str] = []
    at = 0  # how much of `text` is in `out`
    i = 0
    while i < len(words):
        if words[i].isascii():
            i += 1
            continue
        reading, span = lexicon.lookup(words, folded, i)
        if reading is None and hebrew:
            reading, span = _without_prefix(words[i], lexicon), 1
        if reading is None:
            i += 1
            continue
        start, end = spans[i][0], spans[i + span - 1][1]
        out += [text[at:start], f" {reading} "]
        at = end
        i += span
    out.append(text[at:])
    return "".join(out)


def _without_prefix(word: str, lexicon: Lexicon) -> str | None:
    """A Hebrew word read without one or two of its prefix letters ("והשמלה" -> "שמלה")."""
    for cut in (1, 2):
        if len(word) - cut < 2 or any(ch not in _HEBREW_PREFIXES for ch in word[:cut]):
            return None
        rest = word[cut:]
        reading, _ = lexicon.lookup([rest], [fold(rest)], 0)
        if reading is not None:
            return reading
    return None


def _toman(match: re.Match[str]) -> str:
    """A rial amount in toman, written out ("200000 rial" -> "20000", "2 million rial" -> "200000")."""
    unit = match.group(2)
    value = float(match.group(1)) * (UNITS[unit] if unit else 1) / 10
    return str(int(round(value)))
