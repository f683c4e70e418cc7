"""What is said for a sentence of a displayed answer: the words a person would say reading it
out, not its markup. The displayed text never changes; only the speech text derived from it.

For each sentence (app/tts/sentences.py cuts them, a line break included, so a Markdown
heading or a bold line is a sentence of its own):
- Markdown marks, link targets and a leading list marker go;
- a document quote's source prefix ("From returns-policy.txt:", in each answer language) goes:
  a file name is for the eye;
- a size list ("; sizes S, M, L", "(sizes S, M)", a "Sizes: ..." line) goes: a person would
  not read out every size of every product. A sentence that answers a size question ("comes
  in 38, 40 and 42") is not a list of this kind and stays;
- ratings are said in words: "rated 3.6/5", "rating 3.6", "3.6★" and "3.6/5" become "rated 3.6
  out of 5" (in the answer's language);
- a sentence without final punctuation (a heading, a bold line, a list item, a lead-in ending
  in ":") ends with a full stop, so it is spoken as a sentence and not run into the next.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from app.llm.phrases import PHRASES

Replacement = str | Callable[[re.Match[str]], str]  # as re.sub takes it

_MARKDOWN = re.compile(r"[*_`#>|]+|\[([^\]]*)\]\([^)]*\)")
_LIST_MARKER = re.compile(r"^\s*(?:[-+•]|\d{1,2}[.)])\s+")
_FILE = r"[^:\n]{1,120}?\.(?:txt|md|markdown|html?|csv|json|pdf|docx)(?:,[^:\n]{1,30})?"
_RATING = r"(\d(?:\.\d+)?)(?!\d)"  # one digit, as ratings out of 5 are
_OUT_OF: dict[str, str] = {  # "\1" is the rating
    "en": r"\1 out of 5", "hi": r"5 में से \1", "fa": r"\1 از ۵", "ar": r"\1 من 5", "ru": r"\1 из 5",
    "he": r"\1 מתוך 5",
}
_FULL_STOP = {"hi": "।"}
_ENDED = re.compile(r"[.!?।؟…]['\"”’)\]]*$")


def _rules(lang: str) -> list[tuple[re.Pattern[str], Replacement]]:
    """(pattern, replacement) pairs for one language, in the order they apply."""
    table = PHRASES.get(lang, PHRASES["en"])
    before, _, after = table["from_docs"].partition("{source}")
    sizes = re.escape(table["sizes"])
    out_of = _OUT_OF.get(lang, _OUT_OF["en"])
    rules: list[tuple[re.Pattern[str], Replacement]] = [
        (re.compile(rf"^{re.escape(before)}{_FILE}{re.escape(after)}\s*"), ""),
        (re.compile(rf"\s*\(\s*{sizes}:?\s[^()]*\)", re.I), ""),
        (re.compile(rf"\s*[;,]\s*{sizes}:?\s[^;\n]*?(?=;|$|\.\s|\.$)", re.I), ""),
        (re.compile(rf"^{sizes}:?\s.*$", re.I), ""),
    ]
    if lang == "en":
        rules += [
            (re.compile(rf"\b(?:rated|rating)\s*:?\s*{_RATING}(?:\s*(?:/\s*5\b|★|out of 5))?"), r"rated \1 out of 5"),
            (re.compile(rf"\b(?:Rated|Rating)\s*:?\s*{_RATING}(?:\s*(?:/\s*5\b|★|out of 5))?"), r"Rated \1 out of 5"),
            (re.compile(rf"(?:★\s*{_RATING}|(?<![\d.]){_RATING}\s*★)"),
             lambda m: f"rated {m.group(1) or m.group(2)} out of 5"),
        ]
    rules.append((re.compile(rf"(?<![\d./]){_RATING}\s*/\s*5(?![\d/])"), out_of))
    return rules


_BY_LANGUAGE = {lang: _rules(lang) for lang in PHRASES}


def speakable_text(sentence: str, lang: str = "en") -> str:
    """The speech text of one sentence of an answer (see the module docstring); "" when
    nothing in it is worth saying."""
    text = _MARKDOWN.sub(lambda m: m.group(1) or " ", sentence)
    text = _LIST_MARKER.sub("", " ".join(text.split()))
    for pattern, replacement in _BY_LANGUAGE.get(lang, _BY_LANGUAGE["en"]):
        text = pattern.sub(replacement, text)
    text = " ".join(text.split())
    if not any(ch.isalnum() for ch in text):
        return ""
    if not _ENDED.search(text):
        text = text.rstrip(" :;,-–—") + _FULL_STOP.get(lang, ".")
    return text
