"""Split a shopper's query into structured filters and the words left for text ranking.

"red silk lehenga under 20k size M" -> colors=("red",), fabric="silk", category="lehenga",
max_price=20000, sizes=("M",), residual="". The words it knows come from the vocabulary it is
given (`app.search.vocabulary`: the store's own, learned from its catalog over the shipped
default), so a store parses queries in its own terms; prices and sizes are read by rules.

Rules worth knowing:
- prices need a trigger word or currency mark ("under 20k", "below ₹15,000", "between 5000
  and 8000", "from 2k to 5k", "above 3000", "around 5000" = +/-20%); a bare range such as
  "5000-8000" counts only when both ends are at least 100, so "size 38-40" is not a price;
- sizes follow "size"/"sizes" ("size M", "sizes s and m", "size 40", "size uk 8"; a bare number
  up to 13 is a UK shoe size); XS/XL/XXL, "uk 8" and "free size" are recognised anywhere;
- the first category, fabric, occasion and gender win; later ones stay in the residual, except
  a category right after another: the last of two names the thing ("fabric sofa", "desk chair"),
  and a kind the store files under several categories (`Vocabulary.broad`) cancels the one before;
- words more specific than the filter they set stay in the residual too: a shade ("crimson"
  sets colour red) or a product word ("jhumkas" sets category jewellery), so text ranking
  still prefers the exact thing asked for;
- filler words ("show me", "for", "in", "with", ...) are dropped from the residual;
- romanised Hindi (Hinglish) is understood too: colour, occasion and gender words come from the
  vocabulary's aliases ("laal", "shaadi", "ladkiyon"), prices from "20k tak", "5000 se kam",
  "3000 se upar", "5000 se 8000 tak", "20 hazaar"; "2 million" and "3 crore" too (`app.language.amounts`), and its filler words ("ke liye", "dikhao")
  are dropped; "budget 15000" / "15k budget" is a maximum; "M size" is a size like "size M".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from app.language.amounts import UNITS, WORDS
from app.search.constraints import Filters
from app.search.text import fold, normalize, words
from app.search.vocabulary import Vocabulary

@dataclass(frozen=True)
class ParsedQuery:
    """A query read: the filters its words set, and the words left for text ranking."""

    filters: Filters = Filters()
    residual: str = ""


FILLERS: frozenset[str] = frozenset(
    "a an the and or for in with of show me find i want need looking some please buy get "
    "price priced budget rs rupees inr size sizes color colour colored coloured".split()
) | frozenset(  # romanised Hindi
    "ke liye ka ki ko mein mai chahiye chaiye dikhao dikhaiye dikha batao wala wali wale koi kuch "
    "hai tak se beech bich rang range mujhe mera meri mere".split()
)

# -- prices -------------------------------------------------------------------------------

_UNIT_WORDS = "|".join(WORDS)


def _amount(name: str) -> str:
    """Regex for one amount ("₹15,000", "20k", "1.5 lakh", "rs. 500", "999/-") as group `name`."""
    # At most 16 digits and separators, starting and ending a run of digits: unbounded, a
    # run of thousands of digits made every pattern backtrack quadratically (a 4,000-digit
    # message took 10 s here, and the stream past its deadline).
    return (
        rf"(?:₹|\brs\.?|\binr)?\s*(?P<{name}>(?<![\d,.])\d[\d,]{{0,15}}(?:\.\d{{1,6}})?(?![\d,]))"
        rf"(?:(?P<{name}_u>k|l)\b|\s*(?P<{name}_w>{_UNIT_WORDS})\b)?"
        r"(?:\s*(?:rs\b|rupees\b|inr\b|/-))?"
    )


_A, _B = _amount("a"), _amount("b")
_RANGE_BETWEEN = re.compile(rf"\bbetween\s+{_A}\s*(?:and|to|-|–)\s*{_B}")
_RANGE_KE_BEECH = re.compile(rf"{_A}\s+(?:aur|and|se)\s+{_B}\s+ke\s+(?:beech|bich)\b")  # Hinglish
_RANGE = re.compile(rf"(?:\b(?:from|price|priced|budget|range)\s+)?{_A}\s*(?:-|–|to|\bse\b)\s*{_B}")
_C = _amount("c")  # the amount when the trigger follows it ("5000 or less")
_MAX = re.compile(
    r"(?:\b(?:under|below|less than|lesser than|upto|up to|within|max|maximum|at most|"
    r"cheaper than|no more than|not more than|lower than|till|zyada se zyada|"
    rf"budget(?:\s+(?:is|of|hai))?)\s*|<=?\s*){_A}"
    rf"|{_C}\s+(?:or less|or below|and below|and under|max|budget|ka budget|tak|se kam|se kum|"
    r"ke andar|ke under|ke neeche|ke niche|se neeche|se niche|ke bhitar)\b"
)
_MIN = re.compile(
    r"(?:\b(?:above|over|more than|greater than|min|minimum|at least|starting at|starting from|"
    rf"starting|from|upwards of|costlier than|higher than|kam se kam)\s*|>=?\s*){_A}"
    rf"|{_C}\s*(?:\+|\band above\b|\bor more\b|\bonwards\b|\band up\b"
    r"|\b(?:se|ke) (?:upar|uper|above)\b|\bse (?:zyada|jyada|adhik)\b)"
)
_AROUND = re.compile(r"\b(?:around|about|approx|approximately|roughly|near|close to)\s*" + _A)


def _value(match: re.Match[str], name: str) -> int:
    number = float(match.group(name).replace(",", "") or 0)
    unit = match.group(f"{name}_u") or match.group(f"{name}_w")
    return int(round(number * UNITS[unit] if unit else number))


def _either(match: re.Match[str]) -> int:
    return _value(match, "a" if match.group("a") is not None else "c")


def extract_prices(text: str) -> tuple[str, int | None, int | None]:
    """(text with price phrases blanked, min price, max price) for normalised text."""
    low: int | None = None
    high: int | None = None

    def set_range(a: int, b: int) -> None:
        nonlocal low, high
        a, b = min(a, b), max(a, b)
        low = a if low is None else max(low, a)
        high = b if high is None else min(high, b)

    def between(match: re.Match[str]) -> str:
        set_range(_value(match, "a"), _value(match, "b"))
        return " "

    def bare_range(match: re.Match[str]) -> str:
        a, b = _value(match, "a"), _value(match, "b")
        if min(a, b) < 100:  # "size 38-40", not a price
            return match.group(0)
        set_range(a, b)
        return " "

    def at_most(match: re.Match[str]) -> str:
        nonlocal high
        value = _either(match)
        high = value if high is None else min(high, value)
        return " "

    def at_least(match: re.Match[str]) -> str:
        nonlocal low
        value = _either(match)
        low = value if low is None else max(low, value)
        return " "

    def around(match: re.Match[str]) -> str:
        value = _value(match, "a")
        set_range(int(value * 0.8), int(value * 1.2))
        return " "

    text = _RANGE_BETWEEN.sub(between, text)
    text = _RANGE_KE_BEECH.sub(between, text)
    text = _RANGE.sub(bare_range, text)
    text = _MAX.sub(at_most, text)
    text = _MIN.sub(at_least, text)
    text = _AROUND.sub(around, text)
    return text, low, high


# -- sizes --------------------------------------------------------------------------------

_LETTER_SIZES = {"xs": "XS", "s": "S", "m": "M", "l": "L", "xl": "XL", "xxl": "XXL", "xxxl": "XXXL",
                 "2xl": "XXL", "3xl": "XXXL"}
_BARE_SIZES = {"xs", "xl", "xxl", "xxxl", "2xl", "3xl"}  # unambiguous without "size"
_UK = re.compile(r"uk(\d{1,2})")


def _size_at(ws: list[str], i: int) -> tuple[str | None, int]:
    """(size starting at ws[i], words it spans); (None, 0) if there is none."""
    word = ws[i]
    following = ws[i + 1] if i + 1 < len(ws) else ""
    if word in _LETTER_SIZES:
        return _LETTER_SIZES[word], 1
    if word == "free" and following == "size":
        return "Free Size", 2
    if word == "uk" and following.isdigit():
        return f"UK {int(following)}", 2
    if match := _UK.fullmatch(word):
        return f"UK {int(match.group(1))}", 1
    if word.isdigit() and len(word) <= 2:
        number = int(word)
        return (f"UK {number}" if number <= 13 else str(number)), 1
    return None, 0


def _size_run(ws: list[str], i: int) -> tuple[list[str], int]:
    """Sizes listed from ws[i] on, as after "size" ("m and l", "uk 8"): (sizes, index after)."""
    sizes: list[str] = []
    while i < len(ws):
        size, span = _size_at(ws, i)
        if size is None and sizes and ws[i] in ("and", "or", "aur", "ya") and i + 1 < len(ws):
            size, span = _size_at(ws, i + 1)
            span += 1
        if size is None:
            break
        sizes.append(size)
        i += span
    return sizes, i


def _bare_size(ws: list[str], i: int) -> tuple[str | None, int]:
    """A size that needs no "size" before it: XL, XXL, "uk 8", "free size"."""
    word = ws[i]
    if word in _BARE_SIZES or _UK.fullmatch(word) or (word in ("uk", "free") and i + 1 < len(ws)):
        size, span = _size_at(ws, i)
        if word != "uk" or span == 2:
            return size, span
    return None, 0


# -- parsing ------------------------------------------------------------------------------


def parse_query(query: str, vocabulary: Vocabulary) -> ParsedQuery:
    """Filters and residual words of a free-text shopping query, in `vocabulary`'s terms."""
    text, min_price, max_price = extract_prices(normalize(query))
    ws = words(text)
    folded = [fold(w) for w in ws]  # once: the vocabulary looks up every span from each word
    found: dict[str, str] = {}
    colors: list[str] = []
    sizes: list[str] = []
    residual: list[str] = []
    category_at: tuple[int, int, bool] | None = None  # (start, end, kept) of the category's words
    i = 0
    while i < len(ws):
        word = ws[i]
        if word in ("size", "sizes"):
            run, after = _size_run(ws, i + 1)
            if run:
                sizes.extend(run)
                i = after
                continue
        size, span = _bare_size(ws, i)
        if size is None and i + 1 < len(ws) and ws[i + 1] in ("size", "sizes"):
            size, span = _size_at(ws, i)  # "M size", "38 size" (Indian English, Hinglish)
            span += 1 if size is not None else 0
        if size is not None:
            sizes.append(size)
            i += span
            continue
        entry, span = vocabulary.lookup(folded, i)
        if entry is not None:
            field, value, keep = entry
            if field == "colors":
                if value not in colors:
                    colors.append(value)
            elif field == "kind":  # a kind the store files under several categories: no filter,
                if category_at is not None and category_at[1] == i:  # but it names the thing
                    start, end, kept = category_at
                    if not kept:
                        residual.extend(ws[start:end])
                    del found["category"]
                    category_at = None
            elif field == "category" and category_at is not None and category_at[1] == i:
                # Two categories in a row: the last names the thing ("fabric sofa", "desk
                # chair"), the first says what kind of it; its words go to text ranking.
                start, end, kept = category_at
                if not kept:
                    residual.extend(ws[start:end])
                found[field] = value
            elif field not in found:
                found[field] = value
            else:
                keep = True  # a second category, fabric, ...: leave it to text search
            if field == "category":
                category_at = (i, i + span, keep) if found[field] == value else category_at
            if keep:
                residual.extend(ws[i : i + span])
            i += span
            continue
        if word not in FILLERS:
            residual.append(word)
        i += 1
    filters = Filters(
        category=found.get("category"), occasion=found.get("occasion"), fabric=found.get("fabric"),
        sizes=tuple(dict.fromkeys(sizes)), gender=found.get("gender"), colors=tuple(colors),
        min_price=min_price, max_price=max_price,
    )
    return ParsedQuery(filters, " ".join(residual))

