"""Market intelligence figures, checked against values computed here by other means."""

from __future__ import annotations

import random
import statistics

from app.agent.market import snapshot


def _products(prices: list[int], *, out_of_stock: frozenset[int] = frozenset()) -> list[dict]:
    return [
        {"sku": f"P{i}", "title": f"Item {i}", "brand": "AB"[i % 2] if i < 6 else "C", "price": price,
         "rating": round(3 + (i % 5) * 0.4, 1), "in_stock": i not in out_of_stock}
        for i, price in enumerate(prices)
    ]


def test_price_distribution_matches_statistics() -> None:
    rnd = random.Random(7)
    prices = [rnd.randrange(500, 60_000) for _ in range(101)]
    figures = snapshot(_products(prices))
    assert figures["matching"] == 101
    assert figures["price"]["min"] == min(prices)
    assert figures["price"]["max"] == max(prices)
    assert figures["price"]["median"] == statistics.median(prices)
    q = statistics.quantiles(prices, n=4, method="inclusive")
    assert abs(figures["price"]["p25"] - q[0]) < 0.01
    assert abs(figures["price"]["p75"] - q[2]) < 0.01
    assert "budget" not in figures


def test_budget_position_and_counts() -> None:
    prices = [1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000]
    figures = snapshot(_products(prices, out_of_stock=frozenset({1})), max_price=3000)
    budget = figures["budget"]
    assert budget["within"] == 3
    assert budget["in_stock_within"] == 2  # item 1 (2000) is out of stock
    assert budget["share_within"] == 3 / 8
    assert budget["position"] == "middle"
    assert all(p["price"] <= 3000 and p["in_stock"] for p in figures["best_rated"])
    assert "closest" not in figures  # something fits


def test_nothing_fits_gives_closest_items_with_gap() -> None:
    prices = [9000, 12000, 15000, 30000]
    figures = snapshot(_products(prices), max_price=5000)
    assert figures["budget"]["within"] == 0
    assert figures["budget"]["position"] == "below_all"
    assert [c["price"] for c in figures["closest"]] == [9000, 12000, 15000]
    assert [c["over_budget_by"] for c in figures["closest"]] == [4000, 7000, 10000]
    assert figures["best_rated"] == []


def test_top_brands_counted_and_empty_input() -> None:
    figures = snapshot(_products([100] * 8))
    assert [b["count"] for b in figures["top_brands"]] == [3, 3, 2]
    assert {b["brand"] for b in figures["top_brands"]} == {"A", "B", "C"}
    empty = snapshot([], max_price=100)
    assert empty["matching"] == 0 and empty["price"] is None
