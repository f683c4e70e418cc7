"""The in-memory product table: every product by SKU, plus postings that turn filters into a
candidate set with a few set intersections (a scan of 50,000 dicts per keystroke would cost
more than the whole ranking). Also facet counts, sorting and the product card.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from app.search.constraints import Filters
from app.search.merchandising import Move

Product = dict[str, Any]

SORTS = ("relevance", "price_asc", "price_desc", "rating")
PRICE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("under ₹1,000", 0, 1000),
    ("₹1,000 – ₹5,000", 1000, 5000),
    ("₹5,000 – ₹20,000", 5000, 20000),
    ("₹20,000 – ₹50,000", 20000, 50000),
    ("₹50,000 and above", 50000, None),
)
FACET_TOP = 12


def norm(value: str) -> str:
    return " ".join(str(value).lower().split())


_FIELDS = ("category", "brand", "colors", "sizes", "fabric", "occasion", "gender", "in_stock")


def fabric_of(product: Product) -> Any:
    """A product's fabric as it spells it: `attributes.fabric`, else `attributes.material`
    (what a furniture store or a jeweller records; the vocabulary learns it as the fabric)."""
    attributes = product.get("attributes") or {}
    return attributes.get("fabric") or attributes.get("material")


def field_values(product: Product, name: str) -> list[str]:
    """The values of a filterable field one product carries, normalised (fabric: `fabric_of`)."""
    match name:
        case "colors" | "sizes":
            return [norm(v) for v in product.get(name) or []]
        case "fabric":
            value = fabric_of(product)
            return [norm(value)] if value else []
        case "occasion" | "gender":
            value = (product.get("attributes") or {}).get(name)
            return [norm(value)] if value else []
        case "in_stock":
            return ["true" if product.get("in_stock", True) else "false"]
        case _:
            value = product.get(name)
            return [norm(value)] if value else []


_BAND_FLOORS = [low for _, low, _ in PRICE_BANDS[1:]]  # bisect_right(floors, price) = band index


def price_band(price: Any) -> int:
    """Index into PRICE_BANDS of a price, or -1 for a product without one."""
    if not isinstance(price, (int, float)) or isinstance(price, bool):
        return -1
    return bisect.bisect_right(_BAND_FLOORS, price)


_ONE_VALUED = ("category", "brand", "fabric")


def _one_value(product: Product, name: str) -> object:
    """A one-valued facet's value as the product spells it (fabric: `fabric_of`)."""
    return fabric_of(product) if name == "fabric" else product.get(name)


_MANY_VALUED = {"color": "colors", "size": "sizes"}  # facet -> product field
_MIN_ROWS = 1024


class FacetColumns:
    """Every product's facet values as integer columns, one row per product, so the facets of
    thousands of matches are a few numpy calls: a Python loop over the matching products cost
    ~3 µs each, 10 ms at the 90th percentile of shopper queries over 50,000 products.

    Rows of removed products are cleared and reused; a value keeps its code for good (a code
    nothing holds counts 0 and is not shown)."""

    def __init__(self) -> None:
        self._rows: dict[str, int] = {}
        self._free: list[int] = []
        self._size = 0  # rows ever handed out
        self._codes: dict[str, dict[str, int]] = {name: {} for name in (*_ONE_VALUED, *_MANY_VALUED)}
        self._one = np.full((len(_ONE_VALUED), _MIN_ROWS), -1, dtype=np.int32)
        self._band = np.full(_MIN_ROWS, -1, dtype=np.int8)
        self._many = {name: np.zeros((0, _MIN_ROWS), dtype=bool) for name in _MANY_VALUED}

    def add(self, sku: str, product: Product) -> None:
        row = self._free.pop() if self._free else self._new_row()
        self._rows[sku] = row
        for i, name in enumerate(_ONE_VALUED):
            value = _one_value(product, name)
            self._one[i, row] = self._code(name, value) if isinstance(value, str) and value else -1
        self._band[row] = price_band(product.get("price"))
        for name, source in _MANY_VALUED.items():
            for value in product.get(source) or ():
                if isinstance(value, str) and value:
                    code = self._code(name, value)  # first: a new value grows the matrix
                    self._many[name][code, row] = True

    def remove(self, sku: str) -> None:
        row = self._rows.pop(sku, None)
        if row is None:
            return
        self._one[:, row] = -1
        self._band[row] = -1
        for matrix in self._many.values():
            matrix[:, row] = False
        self._free.append(row)

    def count(self, skus: Collection[str]) -> dict[str, list[dict[str, Any]]]:
        """Facets of the products `skus`: per field its `FACET_TOP` values by count (ties by
        value), and every price band holding any. Unknown SKUs are skipped."""
        known = self._rows
        rows = np.fromiter((known[s] for s in skus if s in known), dtype=np.intp)
        out: dict[str, list[dict[str, Any]]] = {}
        for i, name in enumerate(_ONE_VALUED):
            codes = self._one[i, rows]
            out[name] = self._top(name, np.bincount(codes[codes >= 0], minlength=len(self._codes[name])))
        for name in _MANY_VALUED:
            out[name] = self._top(name, self._many[name][:, rows].sum(axis=1))
        bands = self._band[rows]
        per_band = np.bincount(bands[bands >= 0], minlength=len(PRICE_BANDS))
        out["price"] = [
            {"value": label, "min": low, "max": high, "count": int(per_band[i])}
            for i, (label, low, high) in enumerate(PRICE_BANDS)
            if per_band[i]
        ]
        return out

    def _top(self, name: str, counts: np.ndarray) -> list[dict[str, Any]]:
        values = list(self._codes[name])  # code -> value (dicts keep insertion order)
        held = [(-int(counts[code]), values[code]) for code in np.flatnonzero(counts)]
        return [{"value": value, "count": -negative} for negative, value in sorted(held)[:FACET_TOP]]

    def _code(self, name: str, value: str) -> int:
        codes = self._codes[name]
        code = codes.get(value)
        if code is None:
            code = codes[value] = len(codes)
            if name in self._many:
                matrix = self._many[name]
                self._many[name] = np.vstack([matrix, np.zeros((1, matrix.shape[1]), dtype=bool)])
        return code

    def _new_row(self) -> int:
        row = self._size
        self._size += 1
        capacity = self._band.shape[0]
        if row >= capacity:  # double, so n adds copy O(n) in total
            grow = capacity
            self._one = np.hstack([self._one, np.full((len(_ONE_VALUED), grow), -1, dtype=np.int32)])
            self._band = np.concatenate([self._band, np.full(grow, -1, dtype=np.int8)])
            self._many = {n: np.hstack([m, np.zeros((m.shape[0], grow), dtype=bool)]) for n, m in self._many.items()}
        return row


@dataclass
class ProductTable:
    products: dict[str, Product] = field(default_factory=dict)
    _postings: dict[str, dict[str, set[str]]] = field(
        default_factory=lambda: {name: {} for name in _FIELDS}
    )
    _by_price: list[tuple[float, str]] = field(default_factory=list)
    _price_sorted: bool = True  # bulk loads append and sort once, on the next read
    _facets: FacetColumns = field(default_factory=FacetColumns)

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
            for value in field_values(product, name):
                self._postings[name].setdefault(value, set()).add(sku)
        self._facets.add(sku, product)
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
        self._facets.remove(sku)
        for name in _FIELDS:
            for value in field_values(product, name):
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

    def facets(self, skus: Collection[str]) -> dict[str, list[dict[str, Any]]]:
        """Facet counts over the products `skus` (see `FacetColumns.count`)."""
        return self._facets.count(skus)

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
    """Facets of some products, the plain way (`ProductTable.facets` counts the same from
    columns): per field the `FACET_TOP` values by count, ties by value; every price band held."""
    counts: dict[str, Counter[str]] = {n: Counter() for n in (*_ONE_VALUED, "color", "size")}
    bands: Counter[int] = Counter()
    for product in products:
        for name in _ONE_VALUED:
            if isinstance(value := _one_value(product, name), str):
                counts[name][value] += 1
        counts["color"].update({v for v in product.get("colors") or [] if isinstance(v, str)})
        counts["size"].update({v for v in product.get("sizes") or [] if isinstance(v, str)})
        bands[price_band(product.get("price"))] += 1
    out = {
        name: [{"value": v, "count": c}
               for v, c in sorted(counter.items(), key=lambda vc: (-vc[1], vc[0])) if v][:FACET_TOP]
        for name, counter in counts.items()
    }
    out["price"] = [
        {"value": label, "min": low, "max": high, "count": bands[i]}
        for i, (label, low, high) in enumerate(PRICE_BANDS)
        if bands[i]
    ]
    return out


def sort_key(sort: str) -> Callable[[tuple[Product, float]], tuple[float, ...]]:
    """Key for `sorted` over (product, relevance) pairs; relevance breaks ties."""
    match sort:
        case "price_asc":
            return lambda pr: (pr[0].get("price", float("inf")), -pr[1])
        case "price_desc":
            return lambda pr: (-pr[0].get("price", 0), -pr[1])
        case "rating":
            return lambda pr: (-(pr[0].get("rating") or 0), -pr[1])
        case _:
            return lambda pr: (-pr[1],)


CARD_FIELDS = (
    "sku", "title", "brand", "category", "subcategory", "price", "currency", "colors", "sizes",
    "rating", "in_stock", "image_url", "attributes",
)


def card(product: Product, *, moves: Sequence[Move] = (), **scores: float | None) -> dict[str, Any]:
    """What a storefront shows: the product without its embedding, plus explainable scores,
    and the merchant's rules that moved it there (`merchandised`), if any."""
    out = {name: product[name] for name in CARD_FIELDS if name in product}
    for name, value in scores.items():
        out[name] = None if value is None else round(float(value), 4)
    if moves:
        out["merchandised"] = [{"rule": m.rule, "action": m.action} for m in moves]
    return out
