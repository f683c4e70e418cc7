"""Ranking that learns from clicks (app/search/clicks.py): position-corrected click scores,
the traffic threshold, and the re-ranking they drive."""

from __future__ import annotations

import random

from app.search.clicks import Impression, examination, learn, rerank


def searches(query: str, n: int, shown: list[str], clicks: dict[str, float], *, seed: int = 1) -> list[Impression]:
    """`n` searches of `query`, each showing `shown` in order; a product is clicked with the
    probability `clicks` gives it (the examination is already in that probability)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        for position, sku in enumerate(shown, start=1):
            out.append(Impression(query, f"{query}-{seed}-{i}", sku, position, rng.random() < clicks.get(sku, 0.0)))
    return out


def test_the_same_clicks_lower_on_the_page_are_worth_more() -> None:
    # Position 1 gets 30% of clicks from a crowd that mostly looks there; the product at
    # position 8 gets 10% although shoppers rarely look that far: it is the better match.
    shown = [f"p{i}" for i in range(1, 11)]
    impressions = searches("sofa", 200, shown, {"p1": 0.30, "p2": 0.15, "p3": 0.10, "p8": 0.10})
    scores = learn(impressions, min_searches=50).of("sofa")
    assert scores is not None
    assert scores["p8"] > scores["p1"]
    assert scores["p8"] > 1.0 > scores["p5"]  # clicked beyond expectation / never clicked


def test_raw_click_through_would_have_ranked_them_the_other_way() -> None:
    shown = [f"p{i}" for i in range(1, 11)]
    impressions = searches("sofa", 200, shown, {"p1": 0.30, "p8": 0.10})
    flat = [Impression(i.query, i.search, i.sku, 1, i.clicked) for i in impressions]
    raw = learn(flat, min_searches=50).of("sofa")
    assert raw is not None and raw["p1"] > raw["p8"]


def test_queries_under_the_traffic_threshold_learn_nothing() -> None:
    shown = ["a", "b", "c"]
    impressions = searches("rare query", 49, shown, {"c": 0.9})
    learned = learn(impressions, min_searches=50)
    assert learned.of("rare query") is None
    assert rerank(shown, learned.of("rare query")) == shown
    # the same traffic once more crosses it
    more = impressions + searches("rare query", 1, shown, {"c": 0.9}, seed=2)
    assert learn(more, min_searches=50).of("rare query") is not None


def test_a_search_is_counted_once_however_many_products_it_showed() -> None:
    impressions = searches("lamp", 10, [f"p{i}" for i in range(40)], {"p0": 0.5})
    assert learn(impressions, min_searches=11).of("lamp") is None
    assert learn(impressions, min_searches=10).of("lamp") is not None


def test_case_and_spacing_do_not_split_a_query() -> None:
    shown = ["a", "b"]
    impressions = searches("Red  Saree", 30, shown, {"b": 0.5}) + searches("red saree", 30, shown, {"b": 0.5}, seed=3)
    assert learn(impressions, min_searches=50).of(" RED saree ") is not None


def test_rerank_lifts_the_clicked_and_sinks_the_ignored_below_the_unshown() -> None:
    ranked = [f"p{i}" for i in range(1, 31)]
    page = ranked[:10]
    impressions = searches("desk", 300, page, {"p1": 0.05, "p6": 0.25})
    order = rerank(ranked, learn(impressions, min_searches=50).of("desk"))
    assert order.index("p6") < order.index("p1")
    assert sorted(order) == sorted(ranked)  # nothing lost, nothing added
    # never clicked though looked at many times: below products nobody was shown yet
    assert order.index("p2") > order.index("p11")


def test_no_scores_or_no_weight_keep_the_ranking() -> None:
    ranked = ["a", "b", "c"]
    assert rerank(ranked, None) == ranked
    assert rerank(ranked, {"c": 9.0}, weight=0) == ranked


def test_the_examination_curve_falls_down_the_page() -> None:
    curve = examination(6)
    assert curve[0] == 1.0 and curve[4] == 1.0 / 5
    assert all(later < earlier for earlier, later in zip(curve, curve[1:]))
    assert examination(3, eta=0.5)[2] > curve[2]  # a flatter page


def test_a_query_nobody_clicked_teaches_nothing() -> None:
    assert learn(searches("vase", 80, ["a", "b", "c"], {}), min_searches=50).of("vase") is None
