"""Completions for what a shopper is typing, from what shoppers searched and what the shop sells.

Two sources, one list: the searches shoppers ran that found something (weighted by how many
ran them), and the catalog's own phrases (its kinds, brands, and a colour, material or
occasion with a kind: "red saree", "cotton kurta"; weighted by how many products they
describe). A popular search outranks a catalog phrase only by its traffic: both weights are
counts of people or products, scaled so that the busiest search weighs as much as the
largest phrase.

Matching is on the index's normalised words (app/search/text.py: one spelling per letter in
every script), so what a shopper types meets a phrase whatever the case, the Persian or
Arabic letter form, ё or е. The last word typed is a prefix, the others whole words; a phrase
is found from any of its words ("saree" finds "red silk saree"). Typo-tolerant: when nothing
starts with the last word, prefixes one edit away are tried (a deletion neighbourhood of the
phrases' word prefixes, as the text index does for whole terms); the words before it that the
phrases do not hold are replaced by their closest word one edit away.

`Suggester` is immutable: rebuild it when the catalog or the popular searches change.
"""

from __future__ import annotations

import asyncio
import bisect
import heapq
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.search.text import STOPWORDS, words
from app.search.text_index import deletions, edit_distance

if TYPE_CHECKING:
    from app.search.service import SearchService

log = logging.getLogger("storestream.search")

QUALIFIERS = ("fabric", "material", "pattern", "occasion")  # attributes a shopper puts before a kind
PER_PHRASE = 4  # products kept per catalog phrase: the suggestions' product row
MIN_TYPO_PREFIX = 4  # a shorter prefix is too short to say what was meant
_LAST = "\U0010ffff"


@dataclass(frozen=True, slots=True)
class Completion:
    text: str
    source: str  # "search" (shoppers searched it) or "catalog" (the shop's own phrase)
    skus: tuple[str, ...] = ()  # a catalog phrase's best products (in stock, best rated first)


@dataclass(slots=True)
class Phrase:
    count: int  # the products it describes
    best: list[tuple[bool, float, str]]  # (out of stock, -rating, sku) of the PER_PHRASE best, sorted


def key(text: str) -> str:
    return " ".join(words(text))


def catalog_phrases(products: Iterable[Mapping[str, Any]]) -> dict[str, Phrase]:
    """The catalog's phrases, each with how many products it describes and its best few."""
    phrases: dict[str, Phrase] = {}
    for product in products:
        attributes = product.get("attributes") or {}
        kind = product.get("subcategory") or product.get("category")
        qualifiers = [*(product.get("colors") or ()), *(attributes.get(name) for name in QUALIFIERS)]
        category = product.get("category")
        found = [p for p in (category, kind, product.get("brand")) if isinstance(p, str) and p]
        for noun in dict.fromkeys(n for n in (category, kind) if isinstance(n, str) and n):  # "red saree", "red silk saree"
            found += [f"{q} {noun}" for q in qualifiers if isinstance(q, str) and q]
        rating = product.get("rating")
        rank = (not product.get("in_stock", True), -(rating if isinstance(rating, (int, float)) else 0.0),
                str(product["sku"]))
        for text in dict.fromkeys(p.casefold() for p in found):
            phrase = phrases.get(text)
            if phrase is None:
                phrases[text] = phrase = Phrase(0, [])
            phrase.count += 1
            if len(phrase.best) < PER_PHRASE or rank < phrase.best[-1]:
                bisect.insort(phrase.best, rank)
                del phrase.best[PER_PHRASE:]
    return phrases


class Suggester:
    def __init__(self, catalog: Mapping[str, Phrase], searches: Mapping[str, int] | None = None) -> None:
        searches = searches or {}
        entries: dict[str, tuple[float, Completion]] = {}
        top_catalog = max((p.count for p in catalog.values()), default=1)
        scale = top_catalog / max(searches.values(), default=1)
        for text, phrase in catalog.items():
            skus = tuple(sku for *_, sku in phrase.best)
            self._put(entries, text, phrase.count, Completion(text, "catalog", skus))
        for text, count in searches.items():
            self._put(entries, text, count * scale, Completion(" ".join(text.split()), "search"))
        self._entries = entries
        # every phrase under each of its word-suffixes: "red silk saree", "silk saree", "saree"
        self._keys: list[tuple[str, str]] = sorted(
            (" ".join(parts[i:]), k) for k in entries for parts in [k.split(" ")] for i in range(len(parts)))
        self._suffix_keys = [s for s, _ in self._keys]
        self._word_sets = {k: frozenset(k.split(" ")) for k in entries}
        self._words: frozenset[str] = frozenset().union(*self._word_sets.values())
        self._near: dict[str, set[str]] = {}  # a prefix's deletion -> the prefixes it comes from
        for word in self._words:
            for end in range(MIN_TYPO_PREFIX, len(word) + 1):
                prefix = word[:end]
                for variant in deletions(prefix, 1):
                    self._near.setdefault(variant, set()).add(prefix)

    @staticmethod
    def _put(entries: dict[str, tuple[float, Completion]], text: str, weight: float, completion: Completion) -> None:
        k = key(text)
        if k and weight > entries.get(k, (0.0, completion))[0]:
            entries[k] = (weight, completion)

    def __len__(self) -> int:
        return len(self._entries)

    def complete(self, typed: str, limit: int = 6) -> list[Completion]:
        """The `limit` best completions of `typed`, heaviest first: phrases holding every
        finished word and a word that starts with the last one, in any order."""
        parts = words(typed)
        if not parts:
            return []
        head = [self._known(w) for w in parts[:-1]]
        last = parts[-1] if not typed[-1:].isspace() else self._known(parts[-1])
        found = self._holding([last], head)
        if len(found) < limit and len(last) >= MIN_TYPO_PREFIX:
            found |= self._holding(sorted(self._one_edit(last) - {last}), head)
        best = heapq.nlargest(limit, found, key=lambda k: (self._entries[k][0], -len(k), k))
        return [self._entries[k][1] for k in best]

    def _holding(self, prefixes: list[str], whole: list[str]) -> set[str]:
        """Phrases with a word starting with one of `prefixes` and every word of `whole`."""
        wanted = set(whole) - STOPWORDS
        found: set[str] = set()
        for prefix in prefixes:
            lo = bisect.bisect_left(self._suffix_keys, prefix)
            hi = bisect.bisect_left(self._suffix_keys, prefix + _LAST, lo)
            found.update(k for _, k in self._keys[lo:hi] if wanted <= self._word_sets[k])
        return found

    def _known(self, word: str) -> str:
        """A finished word as the phrases spell it: itself, or its closest word one edit away."""
        if word in self._words or word in STOPWORDS or len(word) < MIN_TYPO_PREFIX:
            return word
        return min((p for p in self._one_edit(word) if p in self._words), default=word)

    def _one_edit(self, typed: str) -> set[str]:
        """The phrases' word prefixes at most one edit from `typed`."""
        return {p for v in deletions(typed, 1) for p in self._near.get(v, ()) if edit_distance(typed, p, 1) <= 1}


# -- kept current ---------------------------------------------------------------------------------

PopularSearches = Callable[[], Awaitable[Mapping[str, int]]]


class Suggestions:
    """The `Suggester` for the catalog and the popular searches as they are now. `current()`
    never waits: it answers from the last one built and, when the catalog changed (the search
    service learned a new vocabulary, which its writers do on every change) or `refresh_s`
    passed, builds the next in a worker thread, one at a time."""

    def __init__(self, search: SearchService, popular: PopularSearches | None, *, refresh_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.search = search
        self.popular = popular
        self.refresh_s = refresh_s
        self.clock = clock
        self._built = Suggester({})
        self._built_for: object = None  # the vocabulary it was built with: it changes with the catalog
        self._built_at = -math.inf
        self._searches: Mapping[str, int] = {}
        self._task: asyncio.Task[None] | None = None

    def current(self) -> Suggester:
        stale = self._built_for is not self.search.vocabulary or self.clock() - self._built_at > self.refresh_s
        if stale and self.search.ready and (self._task is None or self._task.done()):
            self._task = asyncio.create_task(self.rebuild())
        return self._built

    async def rebuild(self) -> None:
        vocabulary = self.search.vocabulary
        products = list(self.search.indexed())  # a snapshot: writers change the table meanwhile
        if self.popular is not None and self.clock() - self._built_at > self.refresh_s:
            try:
                self._searches = await self.popular()
            except Exception as exc:  # noqa: BLE001 - the database may be down: the catalog alone
                log.warning("suggestions: popular searches unavailable (%s)", type(exc).__name__)
        searches = self._searches
        self._built = await asyncio.to_thread(lambda: Suggester(catalog_phrases(products), searches))
        self._built_for, self._built_at = vocabulary, self.clock()
