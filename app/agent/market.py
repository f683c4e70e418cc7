"""Market intelligence: what the catalog says about the items a shopper is asking for.

Every figure is computed from product records passed in; nothing is estimated or invented.
The agent shows it as `results{type: "market_intelligence"}` and quotes it in its answer
("37 of 112 red lehengas fit your budget; prices run ₹6,499 to ₹58,000").
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from app.search.products import card

Product = dict[str, Any]

TOP_BRANDS = 5
PICKS = 3


def _price(product: Product) -> float | None:
    price = product.get("price")
    return float(price) if isinstance(price, (int, float)) and not isinstance(price, bool) else None


def _rating(product: Product) -> float:
    rating = product.get("rating")
    return float(rating) if isinstance(rating, (int, float)) and not isinstance(rating, bool) else 0.0


def _whole(value: float) -> int | float:
    """Catalog prices are whole rupees; keep them ints on the wire."""
    return int(value) if float(value).is_integer() else round(value, 2)


def _pick(product: Product) -> dict[str, Any]:
    keep = ("sku", "title", "brand", "price", "currency", "rating", "in_stock", "image_url")
    return {k: v for k, v in card(product).items() if k in keep}


def snapshot(
    products: Iterable[Product],
    *,
    max_price: float | None = None,
    min_price: float | None = None,
) -> dict[str, Any]:
    """Figures for the items matching what was asked (everything but the budget), and where the
    budget (`min_price`..`max_price`) sits among them.

    - `price`: min / p25 / median / p75 / max of the matching items' prices;
    - `budget.share_within`: the share of matching items priced inside the budget, so a
      budget at the 10th percentile reads "only 1 in 10 fits";
    - `best_rated`: top-rated in-stock items inside the budget (all matching if no budget);
    - `closest`: when nothing fits the budget, the in-stock items nearest to it, with how far
      off they are.
    """
    priced = [(p, price) for p in products if (price := _price(p)) is not None]
    items = [p for p, _ in priced]
    prices = sorted(price for _, price in priced)
    in_stock = [p for p in items if p.get("in_stock", True)]
    out: dict[str, Any] = {
        "matching": len(items),
        "in_stock": len(in_stock),
        "currency": "INR",
    }
    if not items:
        out["price"] = None
        out["top_brands"] = []
        out["best_rated"] = []
        return out
    out["price"] = {
        "min": _whole(prices[0]),
        "p25": _whole(_quantile(prices, 0.25)),
        "median": _whole(statistics.median(prices)),
        "p75": _whole(_quantile(prices, 0.75)),
        "max": _whole(prices[-1]),
    }
    brands = Counter(p["brand"] for p in items if p.get("brand"))
    out["top_brands"] = [{"brand": b, "count": n} for b, n in brands.most_common(TOP_BRANDS)]

    def fits(p: Product) -> bool:
        price = _price(p)
        assert price is not None
        return (max_price is None or price <= max_price) and (min_price is None or price >= min_price)

    fitting = [p for p in items if fits(p)]
    fitting_in_stock = [p for p in fitting if p.get("in_stock", True)]
    if max_price is not None or min_price is not None:
        out["budget"] = {
            "min": None if min_price is None else _whole(min_price),
            "max": None if max_price is None else _whole(max_price),
            "within": len(fitting),
            "in_stock_within": len(fitting_in_stock),
            "share_within": round(len(fitting) / len(items), 4),
            "position": _position(prices, max_price, min_price),
        }
    pool = fitting_in_stock if (max_price is not None or min_price is not None) else in_stock
    out["best_rated"] = [_pick(p) for p in _best_rated(pool)]
    if (max_price is not None or min_price is not None) and not fitting_in_stock:
        out["closest"] = [
            {**_pick(p), "over_budget_by": _gap(p, max_price, min_price)}
            for p in _closest(in_stock, max_price, min_price)
        ]
    return out


def _quantile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolated quantile of already sorted values."""
    if len(sorted_values) == 1:
        return sorted_values[0]
    at = q * (len(sorted_values) - 1)
    low = int(at)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (at - low)


def _position(prices: Sequence[float], max_price: float | None, min_price: float | None) -> str:
    """Where the budget ceiling sits in the price distribution, in words a client can map."""
    if max_price is None:
        return "open"
    if max_price < prices[0]:
        return "below_all"
    if max_price >= prices[-1]:
        return "above_all"
    share = sum(1 for p in prices if p <= max_price) / len(prices)
    if share < 0.25:
        return "low"
    if share < 0.75:
        return "middle"
    return "high"


def _best_rated(products: Iterable[Product]) -> list[Product]:
    return sorted(products, key=lambda p: (-_rating(p), _price(p) or 0.0, p.get("sku", "")))[:PICKS]


def _gap(product: Product, max_price: float | None, min_price: float | None) -> int | float:
    price = _price(product) or 0.0
    if max_price is not None and price > max_price:
        return _whole(price - max_price)
    if min_price is not None and price < min_price:
        return _whole(min_price - price)
    return 0


def _closest(products: Iterable[Product], max_price: float | None, min_price: float | None) -> list[Product]:
    return sorted(products, key=lambda p: (_gap(p, max_price, min_price), -_rating(p)))[:PICKS]
