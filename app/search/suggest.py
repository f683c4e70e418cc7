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

import bisect
import heapq
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from app.search.text import STOPWORDS, words
from app.search.text_index import deletions, edit_distance

QUALIFIERS = ("fabric", "material", "pattern", "occasion")  # attributes a shopper puts before a kind
MIN_TYPO_PREFIX = 4  # a shorter prefix is too short to say what was meant
_LAST = "\U0010ffff"


@dataclass(frozen=True, slots=True)
class Completion:
    text: str
    source: str  # "search" (shoppers searched it) or "catalog" (the shop's own phrase)


def key(text: str) -> str:
    return " ".join(words(text))


def catalog_phrases(products: Iterable[Mapping[str, Any]]) -> Counter[str]:
    """The catalog's phrases and how many products each describes."""
    counts: Counter[str] = Counter()
    for product in products:
        attributes = product.get("attributes") or {}
        kind = product.get("subcategory") or product.get("category")
        qualifiers = [*(product.get("colors") or ()), *(attributes.get(name) for name in QUALIFIERS)]
        for phrase in (product.get("category"), kind, product.get("brand")):
            if isinstance(phrase, str) and phrase:
                counts[phrase.casefold()] += 1
        if isinstance(kind, str) and kind:
            for qualifier in qualifiers:
                if isinstance(qualifier, str) and qualifier:
                    counts[f"{qualifier} {kind}".casefold()] += 1
    return counts


class Suggester:
    def __init__(self, catalog: Mapping[str, int], searches: Mapping[str, int] | None = None) -> None:
        entries: dict[str, tuple[float, Completion]] = {}
        top_catalog = max(catalog.values(), default=1)
        top_search = max((searches or {}).values(), default=1)
        for source, counts, scale in (("catalog", catalog, 1.0), ("search", searches or {}, top_catalog / top_search)):
            for text, count in counts.items():
                k = key(text)
                weight = count * scale
                if k and weight > entries.get(k, (0.0, None))[0]:
                    entries[k] = (weight, Completion(" ".join(text.split()), source))
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
