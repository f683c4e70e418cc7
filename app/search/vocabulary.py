"""The store's shopping vocabulary: which words name a category, fabric, colour, occasion or
gender, as data, so a store parses queries in its own terms and not the demo's.

Two sources, merged by `learn`:
- the shipped default, config/vocabulary.toml (the fashion vocabulary with its aliases,
  romanised Hindi included): what words mean before a catalog is loaded, and the aliases a
  catalog's values inherit;
- the catalog itself: the values its products carry per field, with how many carry each.

The rule, per field: a catalog that carries any value of a field replaces the default's values
of that field with its own (a furniture store's categories are sofa and bed, so "lehenga" sets
no filter there); a value the default knows keeps its aliases and narrower words ("gray",
"charcoal" for grey), and is spelled as the catalog spells it (a catalog with "gray" gets
"grey" as an alias). A field the catalog does not carry at all (no colours in WANDS) keeps the
default's values: the only guess there is, and search drops a filter no product can satisfy
(`ProductTable.known`). A phrase two fields claim goes to the field more products carry it in
("silver": a colour on more products than the material). Frequencies also keep noise out: a
value the default does not know is learned once `MIN_SHARE` of the products carry it, and a
category whose name ends other categories' names ("beds": "kids beds") is a broad kind, no
filter (`_broad`). Both rules were measured on WANDS (docs/benchmarks.md).
"""

from __future__ import annotations

import functools
import math
import re
import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from app.search.products import Product, field_values, norm
from app.search.text import fold, normalize, words

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "config" / "vocabulary.toml"
FIELDS = ("category", "fabric", "colors", "occasion", "gender")  # the order a clash is settled in
DETAIL_MIN_COUNT = 2  # an attribute value on fewer products is noise, not the store's vocabulary
# A value the default does not know is learned when at least this share of the products carry
# it: WANDS files 1 of its 6,482 products under "sectionals", and "outdoor sectional dining"
# filtered to it lost every relevant product (NDCG@10 0.61 -> 0; docs/benchmarks.md).
MIN_SHARE = 0.001
DETAIL_MAX_WORDS = 3  # longer values are descriptions, not words a shopper types
_NOT_DETAILS = frozenset({"occasion", "gender"})  # attributes that are fields of their own

Key = tuple[str, ...]
Entry = tuple[str, str, bool]  # (field or "kind", canonical value, keep the words for text ranking)


@dataclass(frozen=True)
class Term:
    """Other words for one value: `aliases` just name it; `narrower` words are more specific
    (a shade, a kind of product), so they stay in the words text ranking uses."""

    aliases: tuple[str, ...] = ()
    narrower: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class Vocabulary:
    """Field -> canonical value -> its other words; the phrase table the parser looks up."""

    fields: Mapping[str, Mapping[str, Term]]
    details: tuple[str, ...] = ()  # words naming what the store sells that set no filter
    ignore: frozenset[str] = frozenset()  # detail words too common in other talk ("net")
    counts: Mapping[str, Mapping[str, int]] = field(default_factory=dict)  # products per value
    broad: tuple[str, ...] = ()  # kinds the store files under several categories (`_broad`)
    brands: tuple[str, ...] = ()  # the store's brands (lower case), most carried first
    phrases: Mapping[Key, Entry] = field(init=False, repr=False)
    longest: int = field(init=False, repr=False)
    _details: re.Pattern[str] | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        phrases = _phrases(self.fields, self.counts)
        for kind in self.broad:  # no filter, but a kind of product: "fabric sofa" is a sofa
            phrases.setdefault(key(kind), ("kind", kind, True))
        object.__setattr__(self, "phrases", phrases)
        object.__setattr__(self, "longest", max((len(k) for k in phrases), default=1))
        object.__setattr__(self, "_details", _detail_pattern(d for d in self.details if d not in self.ignore))

    def values(self, name: str) -> tuple[str, ...]:
        """The canonical values of a field, most carried first (the default's in file order)."""
        counts = self.counts.get(name, {})
        return tuple(sorted(self.fields.get(name, {}), key=lambda v: -counts.get(v, 0)))

    def lookup(self, folded: list[str], i: int) -> tuple[Entry | None, int]:
        """The longest known phrase starting at folded[i] (a query's words, each through
        `fold` once), and how many words it spans."""
        for span in range(min(self.longest, len(folded) - i), 0, -1):
            entry = self.phrases.get(tuple(folded[i : i + span]))
            if entry is not None:
                return entry, span
        return None, 0

    def names_detail(self, text: str) -> bool:
        """Whether normalised `text` names a work, print or material the store sells."""
        return self._details is not None and self._details.search(text) is not None


def key(phrase: str) -> Key:
    """A phrase as the parser compares it: its words, folded."""
    return tuple(fold(w) for w in words(phrase))


def _phrases(fields: Mapping[str, Mapping[str, Term]], counts: Mapping[str, Mapping[str, int]]) -> dict[Key, Entry]:
    """Every phrase and what it sets: values and aliases field by field, narrower words last;
    of two fields claiming a value, the one carrying it on more products wins."""
    table: dict[Key, Entry] = {}

    def put(phrase: str, name: str, value: str, keep: bool) -> None:
        k = key(phrase)
        if not k:
            return
        held = table.get(k)
        if held is None or (held[0] != name and _carried(counts, name, value) > _carried(counts, *held[:2])):
            table[k] = (name, value, keep)

    for name in FIELDS:
        terms = fields.get(name, {})
        for value in terms:
            put(value, name, value, False)
        for value, term in terms.items():
            for alias in term.aliases:
                put(alias, name, value, False)
    for name in FIELDS:
        for value, term in fields.get(name, {}).items():
            for word in term.narrower:
                put(word, name, value, True)
    return table


def _carried(counts: Mapping[str, Mapping[str, int]], name: str, value: str) -> int:
    return counts.get(name, {}).get(value, 0)


def _detail_pattern(details: Iterable[str]) -> re.Pattern[str] | None:
    terms = sorted({" ".join(normalize(d).split()) for d in details} - {""}, key=len, reverse=True)
    if not terms:
        return None
    return re.compile(r"\b(?:" + "|".join(re.escape(t) for t in terms) + r")\b")


# -- the shipped default -------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def load_vocabulary(path: Path = DEFAULT_PATH) -> Vocabulary:
    """The vocabulary in a TOML file (config/vocabulary.toml by default); read once per path."""
    with path.open("rb") as handle:
        raw = tomllib.load(handle)
    unknown = set(raw) - {*FIELDS, "details"}
    if unknown:
        raise ValueError(f"{path}: unknown sections {sorted(unknown)}")
    fields = {
        name: {
            value.lower(): Term(tuple(spec.get("aliases", ())), tuple(spec.get("narrower", ())))
            for value, spec in raw.get(name, {}).items()
        }
        for name in FIELDS
    }
    details = raw.get("details", {})
    return Vocabulary(fields, tuple(details.get("words", ())), frozenset(details.get("ignore", ())))


# -- learned from the catalog --------------------------------------------------------------


class CatalogTerms:
    """What a catalog's products carry, counted, and kept current product by product, so a
    vocabulary is learned from a few thousand counts instead of a scan of every product."""

    def __init__(self) -> None:
        self.fields: dict[str, Counter[str]] = {name: Counter() for name in FIELDS}
        self.kinds: dict[str, Counter[str]] = {}  # category -> its subcategories
        self.kind_names: Counter[str] = Counter()  # category and subcategory names
        self.details: Counter[str] = Counter()
        self.brands: Counter[str] = Counter()
        self.products = 0

    @classmethod
    def of(cls, products: Iterable[Product]) -> CatalogTerms:
        terms = cls()
        for product in products:
            terms.add(product)
        return terms

    def add(self, product: Product) -> None:
        self._count(product, 1)

    def remove(self, product: Product) -> None:
        """Uncount a product counted before (the same dict, or one with the same fields)."""
        self._count(product, -1)

    def _count(self, product: Product, step: int) -> None:
        self.products += step
        for brand in field_values(product, "brand"):
            _bump(self.brands, brand, step)
        for name in FIELDS:
            for value in set(field_values(product, name)):
                _bump(self.fields[name], value, step)
        category, sub = product.get("category"), product.get("subcategory")
        for kind in (category, sub):
            if isinstance(kind, str) and kind.strip():
                _bump(self.kind_names, norm(kind), step)
        if isinstance(category, str) and isinstance(sub, str) and sub.strip():
            _bump(self.kinds.setdefault(norm(category), Counter()), norm(sub), step)
        for attribute, value in (product.get("attributes") or {}).items():
            if attribute not in _NOT_DETAILS and isinstance(value, str) and value.strip():
                _bump(self.details, norm(value), step)


def _bump(counter: Counter[str], value: str, step: int) -> None:
    count = counter[value] + step
    if count > 0:
        counter[value] = count
    else:
        del counter[value]


def learn(catalog: CatalogTerms | Iterable[Product], default: Vocabulary) -> Vocabulary:
    """The vocabulary of a catalog: its own values per field over `default` (module docstring),
    subcategories as narrower words of their category ("sneakers" for shoes; `_with_kinds`), and
    the other attribute values ("zari", "mid-century") as detail words. A default narrower
    word the store uses in a kind of product's name names that kind, not a shade: "coffee"
    is no brown in a store selling coffee tables."""
    terms = catalog if isinstance(catalog, CatalogTerms) else CatalogTerms.of(catalog)
    counts = terms.fields
    least = math.ceil(MIN_SHARE * terms.products)
    fields = {name: _merged(counts[name], default.fields.get(name, {}), least) if counts[name]
              else default.fields.get(name, {}) for name in FIELDS}
    broad: set[str] = set()
    if counts["category"]:
        known = default.fields.get("category", {})
        broad = _broad(counts["category"]) - set(known)
        fields["category"] = _with_kinds({v: t for v, t in fields["category"].items() if v not in broad}, terms.kinds)
    kinds = {fold(w) for name in terms.kind_names for w in words(name)}
    for name in FIELDS[1:]:
        fields[name] = _without(fields[name], kinds)
    kept = tuple(d for d, n in terms.details.most_common()
                 if n >= DETAIL_MIN_COUNT and len(words(d)) <= DETAIL_MAX_WORDS)
    return Vocabulary(fields, kept if terms.details else default.details, default.ignore,
                      {name: dict(c) for name, c in counts.items()}, tuple(sorted(broad)),
                      tuple(b for b, _ in terms.brands.most_common()))


def _merged(carried: Counter[str], terms: Mapping[str, Term], least: int) -> dict[str, Term]:
    """The carried values, most carried first, each with the default's words for it; a value
    the default does not know only when at least `least` products carry it."""
    family: dict[Key, tuple[str, bool]] = {}  # a default word -> (its value, it is narrower)
    for value, term in terms.items():
        family.setdefault(key(value), (value, False))
        for alias in term.aliases:
            family.setdefault(key(alias), (value, False))
        for word in term.narrower:
            family.setdefault(key(word), (value, True))
    keys = {value: key(value) for value in carried}
    own = set(keys.values())
    out: dict[str, Term] = {}
    for value, count in carried.most_common():
        found = family.get(keys[value])
        if found is None and count < least:
            continue
        canonical, narrower = found or (value, True)
        if narrower:  # the catalog's own value ("maroon"), or one the default never heard of
            out[value] = Term()
            continue
        term = terms[canonical]
        out[value] = Term(
            tuple(w for w in (canonical, *term.aliases) if key(w) not in own),
            tuple(w for w in term.narrower if key(w) not in own),
        )
    return out


def _with_kinds(categories: Mapping[str, Term], subcategories: Mapping[str, Counter[str]]) -> dict[str, Term]:
    """Categories with their subcategories added as narrower words: the one-word ones, and
    those naming another category's word, which would read as that category otherwise (the
    parser takes the last of two adjacent categories: "anarkali kurta" is an anarkali)."""
    owner = {key(w): value for value, term in categories.items() for w in (value, *term.aliases, *term.narrower)}
    out = dict(categories)
    for category, subs in subcategories.items():
        term = out.get(category)
        if term is None:
            continue
        extra: list[str] = []
        for sub, _ in subs.most_common():
            k = key(sub)
            if k in owner:
                continue
            if len(k) == 1 or _last_category(k, owner) not in (None, category):
                extra.append(sub)
                owner[k] = category
        out[category] = Term(term.aliases, term.narrower + tuple(extra))
    return out


def _without(terms: Mapping[str, Term], kinds: set[str]) -> Mapping[str, Term]:
    """`terms` without the one-word narrower words in `kinds` (folded words of kind names)."""
    def kept(word: str) -> bool:
        k = key(word)
        return len(k) != 1 or k[0] not in kinds

    if not any(not kept(w) for term in terms.values() for w in term.narrower):
        return terms
    return {value: Term(term.aliases, tuple(w for w in term.narrower if kept(w))) for value, term in terms.items()}


def _last_category(k: Key, owner: Mapping[Key, str]) -> str | None:
    """The category the last category phrase in `k` names (longest phrases first), as the
    parser would read those words."""
    last, i = None, 0
    while i < len(k):
        for span in range(len(k) - i, 0, -1):
            if (found := owner.get(k[i : i + span])) is not None:
                last, i = found, i + span
                break
        else:
            i += 1
    return last


def _broad(categories: Iterable[str]) -> set[str]:
    """Categories whose name ends other categories' names ("beds": "kids beds", "adjustable
    beds"; a "|" separates a product's several categories). The store files that kind under
    several categories, so the word is no filter: WANDS' "bunk beds" are kids beds, and
    "high weight capacity bunk beds" filtered to "beds" lost them all (NDCG@10 0.84 -> 0)."""
    names = {tuple(fold(w) for w in part.split()) for value in categories for part in value.split("|")}
    tails = {name[i:] for name in names for i in range(1, len(name))}
    return {value for value in categories if tuple(fold(w) for w in value.split()) in tails}
