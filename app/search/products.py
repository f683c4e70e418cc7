"""The in-memory product table: every product by SKU, plus postings that turn filters into a
candidate set with a few set intersections (a scan of 50,000 dicts per keystroke would cost
more than the whole ranking). Also facet counts, sorting and the product card.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

Product = dict[str, Any]

SORTS = ("relevance", "price_asc", "price_desc", "rating")
PRICE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("under ₹1,000", 0, 1000),
    ("₹1,000 – ₹5,000", 1000, 5000),
    ("₹5,000 – ₹20,000", 5000, 20000),
    ("₹20,000 – ₹50,000", 20000, 50000),
    ("₹50,000 and above", 50000, None),
)
_FACET_TOP = 12


def norm(value: str) -> str:
    return " ".join(str(value).lower().split())


@dataclass(frozen=True, slots=True)
class Filters:
    """Every field narrows (AND); several values within a field widen (OR)."""

    category: str | None = None
    brand: str | None = None
    colors: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    fabric: str | None = None
    occasion: str | None = None
    gender: str | None = None
    min_price: float | None = None
    max_price: float | None = None
    in_stock: bool | None = None

    def merged_over(self, parsed: Filters) -> Filters:
        """These filters (explicit parameters) over ones parsed from the query text:
        a field set explicitly wins; a field set only in the text is kept."""
        values = {}
        for name in self.__dataclass_fields__:
            mine = getattr(self, name)
            values[name] = mine if mine not in (None, ()) else getattr(parsed, name)
        return replace(self, **values)

    def without(self, name: str) -> Filters:
        """These filters with field `name` unset."""
        return replace(self, **{name: () if name in ("colors", "sizes") else None})

    def as_dict(self) -> dict[str, Any]:
        return {
            name: list(value) if isinstance(value, tuple) else value
            for name in self.__dataclass_fields__
            if (value := getattr(self, name)) not in (None, ())
        }


def relaxations(filters: Filters, order: Iterable[str]) -> Iterator[tuple[str, Filters]]:
    """What to try when nothing matches every filter: the fields of `order` that are set,
    dropped one by one and cumulatively, least telling first. Yields (field dropped, filters)."""
    for name in order:
        if getattr(filters, name) not in (None, ()):
            filters = filters.without(name)
            yield name, filters


_FIELDS = ("category", "brand", "colors", "sizes", "fabric", "occasion", "gender", "in_stock")


def _values(product: Product, name: str) -> list[str]:
    attributes = product.get("attributes") or {}
    match name:
        case "colors" | "sizes":
            return [norm(v) for v in product.get(name) or []]
        case "fabric":
            value = attributes.get("fabric") or attributes.get("material")
            return [norm(value)] if value else []
        case "occasion" | "gender":
            value = attributes.get(name)
            return [norm(value)] if value else []
        case "in_stock":
            return ["true" if product.get("in_stock", True) else "false"]
        case _:
            value = product.get(name)
            return [norm(value)] if value else []


@dataclass
class ProductTable:
    products: dict[str, Product] = field(default_factory=dict)
    _postings: dict[str, dict[str, set[str]]] = field(
        default_factory=lambda: {name: {} for name in _FIELDS}
    )
    _by_price: list[tuple[float, str]] = field(default_factory=list)
    _price_sorted: bool = True  # bulk loads append and sort once, on the next read

    def __len__(self) -> int:
        return len(self.products)

    def __contains__(self, sku: object) -> bool:
        return sku in self.products

    def get(self, sku: str) -> Product | None:
        return self.products.get(sku)

    def values(self, name: str) -> list[str]:
        """Every value of a field some product carries (normalised: lower case), e.g. the
        brands, so a parser can recognise them."""
        return sorted(self._postings[name])

    def upsert(self, product: Product, *, bulk: bool = False) -> None:
        """Add or replace a product. `bulk`: many are coming (a start-up build), so keep the
        price list unsorted until it is next read (one sort instead of n insertions)."""
        sku = product["sku"]
        if sku in self.products:
            self.remove(sku)
        self.products[sku] = product
        for name in _FIELDS:
            for value in _values(product, name):
                self._postings[name].setdefault(value, set()).add(sku)
        if isinstance(product.get("price"), (int, float)):
            if bulk:
                self._by_price.append((float(product["price"]), sku))
                self._price_sorted = False
            else:
                bisect.insort(self._prices(), (float(product["price"]), sku))

    def _prices(self) -> list[tuple[float, str]]:
        if not self._price_sorted:
            self._by_price.sort()
            self._price_sorted = True
        return self._by_price

    def remove(self, sku: str) -> bool:
        product = self.products.pop(sku, None)
        if product is None:
            return False
        for name in _FIELDS:
            for value in _values(product, name):
                holders = self._postings[name].get(value)
                if holders is not None:
                    holders.discard(sku)
                    if not holders:
                        del self._postings[name][value]
        if isinstance(product.get("price"), (int, float)):
            key = (float(product["price"]), sku)
            prices = self._prices()
            i = bisect.bisect_left(prices, key)
            if i < len(prices) and prices[i] == key:
                del prices[i]
        return True

    def candidates(self, filters: Filters) -> set[str] | None:
        """SKUs passing every filter; None when nothing filters (everything passes)."""
        sets: list[set[str]] = []
        for name in ("category", "brand", "fabric", "occasion", "gender"):
            value = getattr(filters, name)
            if value is not None:
                sets.append(self._postings[name].get(norm(value), set()))
        for name in ("colors", "sizes"):
            values = getattr(filters, name)
            if values:
                union: set[str] = set()
                for value in values:
                    union |= self._postings[name].get(norm(value), set())
                sets.append(union)
        if filters.in_stock is not None:
            sets.append(self._postings["in_stock"].get("true" if filters.in_stock else "false", set()))
        if filters.min_price is not None or filters.max_price is not None:
            prices = self._prices()
            low = bisect.bisect_left(prices, (filters.min_price or 0.0, ""))
            high = (
                bisect.bisect_right(prices, (filters.max_price, "\uffff"))
                if filters.max_price is not None
                else len(prices)
            )
            sets.append({sku for _, sku in prices[low:high]})
        if not sets:
            return None
        sets.sort(key=len)
        result = set(sets[0])
        for other in sets[1:]:
            result &= other
            if not result:
                break
        return result

    def known(self, filters: Filters) -> Filters:
        """Keep only filter values some product carries: filters read from a query's text are
        hints, and a hint the catalog cannot satisfy ("red" in a catalog without colours)
        must not empty the results. The words still count for ranking."""
        values: dict[str, Any] = {}
        for name in ("category", "brand", "fabric", "occasion", "gender"):
            value = getattr(filters, name)
            values[name] = value if value is not None and norm(value) in self._postings[name] else None
        for name in ("colors", "sizes"):
            values[name] = tuple(v for v in getattr(filters, name) if norm(v) in self._postings[name])
        if not self._by_price:
            values["min_price"] = values["max_price"] = None
        return replace(filters, **values)


def facets(products: Iterable[Product]) -> dict[str, list[dict[str, Any]]]:
    counts: dict[str, Counter[str]] = {n: Counter() for n in ("category", "brand", "color", "size")}
    bands: Counter[str] = Counter()
    for product in products:
        counts["category"][product.get("category", "")] += 1
        counts["brand"][product.get("brand", "")] += 1
        counts["color"].update(set(product.get("colors") or []))
        counts["size"].update(set(product.get("sizes") or []))
        price = product.get("price")
        if isinstance(price, (int, float)):
            for label, low, high in PRICE_BANDS:
                if price >= low and (high is None or price < high):
                    bands[label] += 1
                    break
    out = {
        name: [{"value": v, "count": c} for v, c in counter.most_common(_FACET_TOP) if v]
        for name, counter in counts.items()
    }
    out["price"] = [
        {"value": label, "min": low, "max": high, "count": bands[label]}
        for label, low, high in PRICE_BANDS
        if bands[label]
    ]
    return out


def sort_key(sort: str):
    """Key for `sorted` over (product, relevance) pairs; relevance breaks ties."""
    match sort:
        case "price_asc":
            return lambda pr: (pr[0].get("price", float("inf")), -pr[1])
        case "price_desc":
            return lambda pr: (-pr[0].get("price", 0), -pr[1])
        case "rating":
            return lambda pr: (-(pr[0].get("rating") or 0), -pr[1])
        case _:
            return lambda pr: -pr[1]


CARD_FIELDS = (
    "sku", "title", "brand", "category", "subcategory", "price", "currency", "colors", "sizes",
    "rating", "in_stock", "image_url", "attributes",
)


def card(product: Product, **scores: float | None) -> dict[str, Any]:
    """What a storefront shows: the product without its embedding, plus explainable scores."""
    out = {name: product[name] for name in CARD_FIELDS if name in product}
    for name, value in scores.items():
        out[name] = None if value is None else round(float(value), 4)
    return out
