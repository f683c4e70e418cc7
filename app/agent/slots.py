"""Shopping slots from one chat message: what the shopper constrained, in catalog terms.

`extract_slots("shaadi ke liye red lehenga 20k tak", vocabulary)` -> Filters(category="lehenga", colors=("red",),
occasion="wedding", max_price=20000): the slots are the shared constraints type
(`app.search.constraints`). The words are understood by the search query parser
(`app.search.query_parse.parse_query`) in the store's vocabulary (`SearchService.vocabulary`),
so the agent and product search agree on every term, English or romanised Hindi; this module
adds what only the agent needs:

- the brand, matched against the store's brand names (case-insensitive, whole words, "&" may be
  typed as "and" or left out). A brand's words are removed before parsing, so "Indigo Lane
  kurta" is a brand, not the colour indigo, and "Jute Junction tote" is not the fabric jute;
- `price_direction(text)`: "cheaper ones" / "sasta dikhao" / "something more premium" carry no
  number; the agent turns the direction into a bound relative to what it showed last.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Literal

from app.search.constraints import Filters
from app.search.query_parse import extract_prices, parse_query
from app.search.text import normalize
from app.search.vocabulary import Vocabulary

PriceDirection = Literal["lower", "higher"]


def extract_slots(text: str, vocabulary: Vocabulary, brands: Iterable[str] = ()) -> Filters:
    """The constraints one message sets, in English or romanised Hindi (a message in another
    language is read first: `app.language.reading.in_english`); `brands` are the store's brand
    names as they should come back."""
    brand, rest = _find_brand(normalize(text), tuple(brands))
    return replace(parse_query(rest, vocabulary).filters, brand=brand)


# -- brands ------------------------------------------------------------------------------


@functools.lru_cache(maxsize=32)
def _brand_patterns(brands: tuple[str, ...]) -> tuple[tuple[re.Pattern[str], str], ...]:
    """One whole-word pattern per brand, longest name first so "House of Meher" beats "Meher"."""
    out = []
    for brand in sorted(set(brands), key=lambda b: (-len(b), b)):
        body = _brand_regex(brand)
        if body:
            out.append((re.compile(rf"(?<!\w){body}(?!\w)"), brand))
    return tuple(out)


def _brand_regex(brand: str) -> str:
    """"Rangrez & Co" -> matches "rangrez & co", "rangrez and co", "rangrez co"."""
    parts = normalize(brand).split()
    pieces: list[str] = []
    for i, part in enumerate(parts):
        if part == "&":
            pieces.append(r"\s*(?:&|\band\b)?\s*")
            continue
        if i > 0 and parts[i - 1] != "&":
            pieces.append(r"\s+")
        pieces.append(re.escape(part))
    return "".join(pieces)


def _find_brand(text: str, brands: tuple[str, ...]) -> tuple[str | None, str]:
    """(first brand named in normalised `text`, the text with that brand's words blanked)."""
    for pattern, brand in _brand_patterns(brands):
        match = pattern.search(text)
        if match:
            return brand, text[: match.start()] + " " + text[match.end():]
    return None, text


# -- relative price ----------------------------------------------------------------------

_LOWER = re.compile(  # checked first: "bahut mehenga hai" objects to a price, it wants lower
    r"\b(?:too (?:expensive|costly|pricey|much)|over my budget|out of my budget|bahut (?:mehenga|mehnga|mehngi|mehenge)|"
    r"thoda kam|cheaper|cheapest|less expensive|lower price|low price|lower budget|budget friendly|"
    r"affordable|inexpensive|economical|sasta|saste|sasti|sastaa|kam daam|kam price|kam keemat|"
    r"kam wala|kam wali|kam wale)\b"
)
_HIGHER = re.compile(
    r"\b(?:costlier|more expensive|pricier|premium|high end|higher price|luxury|luxurious|"
    r"mehenga|mehnga|mehngi|mehengi|mehenge|mehnge)\b"
)


def price_direction(text: str) -> PriceDirection | None:
    """"lower" for "cheaper ones" / "sasta dikhao", "higher" for "something more premium".

    Only for messages without an explicit bound: "cheaper than 5000" is a maximum, which
    `extract_slots` already returns, so it yields None here.
    """
    low = normalize(text)
    _, min_price, max_price = extract_prices(low)
    if min_price is not None or max_price is not None:
        return None
    if _LOWER.search(low):
        return "lower"
    if _HIGHER.search(low):
        return "higher"
    return None
