"""Ranking that learns from clicks, corrected for where the shopper looked.

Shoppers click what they look at, and they look at the top of a page far more than at its
end: a raw click-through rate would keep whatever already ranks first where it is. So each
impression counts for how likely a shopper is to have examined its position (the
position-based click model), 1/k**eta with eta = 1. The curve is assumed, not read from the
traffic: click-through by position mixes where shoppers look with how good the products
ranked there are, and separating the two needs ranking experiments (swapping results) that a
shop does not run; bench/click_learning.py measures what a wrong eta costs.

A product's click score for a query is its clicks over its expected clicks (COEC), relative to
the query's own clicks per examination, and shrunk toward that by `prior` expected clicks: 1
is an average product for this query (and what a product with no evidence scores), 2 one
clicked twice as often as its positions explain, and a couple of clicks move little.

Only a query with at least `min_searches` searches is learned at all; every other query keeps
its ranking unchanged. Re-ranking adds `weight * log(score)` to the log of a reciprocal-rank
base, `log(1 / (offset + rank))`: evidence moves a product against its neighbours, and a
shown-but-never-clicked product sinks below unshown ones (score 1), which lets the next
shoppers see them.

Pure functions over `Impression`s (from the shopper events' `view` and `click`, both tied to
a search by its `query_id`: app/analytics/report.py `impressions`), measured offline in
bench/click_learning.py; the search service re-ranks the head of a page by them
(`SearchService.page`), learned again every CLICK_LEARNING_S from the last
CLICK_LEARNING_DAYS (app/platform.py), and not at all with CLICK_LEARNING=false.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

ETA = 1.0  # how fast attention falls down the page: 1/k (eye-tracking and click-log studies)


@dataclass(frozen=True, slots=True)
class Impression:
    """A product shown at `position` (1 = first) for one search of `query`, and whether the
    shopper clicked it."""

    query: str
    search: str  # the search's query_id: impressions of one search count it once
    sku: str
    position: int
    clicked: bool


def query_key(text: str) -> str:
    """Searches of the same words share what is learned: case and spacing do not matter."""
    return " ".join(text.casefold().split())


def examination(positions: int, eta: float = ETA) -> list[float]:
    """P(a shopper examines position k) relative to position 1, for k = 1..positions: 1/k**eta."""
    return [1.0 / k ** eta for k in range(1, positions + 1)]


@dataclass(frozen=True, slots=True)
class ClickScores:
    """What was learned: per learned query, each shown product's shrunk COEC."""

    by_query: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    def of(self, query: str) -> Mapping[str, float] | None:
        """The query's scores, or None when it had too little traffic to learn."""
        return self.by_query.get(query_key(query))


def learn(impressions: Iterable[Impression], *, min_searches: int, prior: float = 5.0,
          positions: int = 50, eta: float = ETA) -> ClickScores:
    """Click scores for every query searched at least `min_searches` times."""
    curve = examination(positions, eta)
    searches: dict[str, set[str]] = {}
    expected: dict[tuple[str, str], float] = {}
    clicked: Counter[tuple[str, str]] = Counter()
    for seen in impressions:
        if not 1 <= seen.position <= positions:
            continue
        key = (query_key(seen.query), seen.sku)
        searches.setdefault(key[0], set()).add(seen.search)
        expected[key] = expected.get(key, 0.0) + curve[seen.position - 1]
        clicked[key] += seen.clicked
    totals: dict[str, list[float]] = {}  # query -> [clicks, expected clicks]
    for (query, sku), weight in expected.items():
        total = totals.setdefault(query, [0.0, 0.0])
        total[0] += clicked[query, sku]
        total[1] += weight
    by_query: dict[str, dict[str, float]] = {}
    for (query, sku), weight in expected.items():
        clicks, looked = totals[query]
        if len(searches[query]) >= min_searches and clicks:
            rate = clicks / looked  # the query's clicks per examination: what 1 stands for
            by_query.setdefault(query, {})[sku] = (clicked[query, sku] + prior * rate) / (weight + prior) / rate
    return ClickScores(by_query)


def rerank(ranked: Sequence[str], scores: Mapping[str, float] | None, *, weight: float = 1.0,
           offset: float = 5.0) -> list[str]:
    """`ranked` (best first) re-ordered by the click scores; unchanged without any."""
    if not scores or weight <= 0:
        return list(ranked)
    blended = {sku: -math.log(offset + rank) + weight * math.log(scores.get(sku, 1.0))
               for rank, sku in enumerate(ranked, start=1)}
    return sorted(ranked, key=lambda sku: -blended[sku])  # stable: ties keep their order
