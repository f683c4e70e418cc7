"""The rankings behind search cursors: kept by token, evicted by count, by weight and by age;
ordered once, on first demand, with the first page first and never again."""

from __future__ import annotations

from typing import Any

from app.search.paging import Frozen, Ranked, RankedPages, next_cursor, parse_cursor
from app.search.service import Hit, Results


def ranked(n: int, request: str = "q") -> Ranked:
    matched = [f"S{i:03d}" for i in range(n)]
    results = Results([Hit(matched[0], 0.5, 2.0, 0.9)], matched, {sku: float(n - i) for i, sku in enumerate(matched)})
    return Ranked(request, "relevance", n, ((matched[0], 0.5, 2.0, 0.9),), Frozen.of(results))


def test_cursors_round_trip_and_nothing_else_parses() -> None:
    qid = "0123456789abcdef" * 2
    assert parse_cursor(f"{qid}.24") == (qid, 24)
    for bad in ("", qid, f"{qid[1:]}.1", f"{qid}.-1", f"{qid}.12345", f"{qid.upper()}.1", "A/" + qid[2:] + ".1"):
        assert parse_cursor(bad) is None, bad
    assert next_cursor("T", 10, 11) == "T.10" and next_cursor("T", 11, 11) is None


def test_kept_until_evicted_by_count_weight_or_age() -> None:
    now = [0.0]
    pages = RankedPages(max_kept=3, max_weight=100, ttl_s=60, clock=lambda: now[0])
    tokens = ["a", "b", "c"]
    for token in tokens:
        pages.keep(token, ranked(10))
    assert all(pages.get(t) for t in tokens)
    pages.get(tokens[0])  # used: the oldest is now tokens[1]
    pages.keep("d", ranked(10))
    assert pages.get(tokens[1]) is None and pages.get(tokens[0]) and pages.get("d")
    pages.keep("d", ranked(20))  # the same search kept again: replaced, weighed once
    assert len(pages) == 3
    pages.keep("heavy", ranked(95))  # 95 + 20 + 10 > 100: the least recently used go
    assert pages.get("heavy") and len(pages) == 1
    now[0] = 61
    assert pages.get("heavy") is None and len(pages) == 0


def test_order_is_the_first_page_then_the_rest_once() -> None:
    calls: list[Any] = []

    def page(results: Results, limit: int, sort: str) -> list[tuple[dict[str, Any], Hit]]:
        calls.append((sorted(results.matched), limit, sort))
        ordered = sorted(results.matched, key=lambda sku: -results.text_scores[sku])
        return [({"sku": sku}, Hit(sku, 0.0, results.text_scores[sku], None)) for sku in ordered[:limit]]

    r = ranked(30)
    first = r.order(page)
    assert [row[0] for row in first] == [f"S{i:03d}" for i in range(30)]
    assert first[0] == ("S000", 0.5, 2.0, 0.9)  # the first page's row as shown, not re-scored
    assert r.order(page) == first and len(calls) == 1 and r.frozen is None


def test_the_matches_beyond_the_head_are_ordered_as_a_full_sort_would() -> None:
    """A later page orders the matches the fused head does not hold: more of the words first,
    then in stock, rating, price, SKU. Only the best `limit` are needed, and only those that
    can be among them get the full key: the same order as sorting every match, ties at the
    cut included (many products share a text score)."""
    from app.catalog.demo import generate_catalog
    from app.search.service import SearchService, _beyond_head

    service = SearchService(None, exact_max=1000)
    service.build_from(generate_catalog(600))
    table = service.table.products
    skus = sorted(table)
    scores = {sku: float(n % 7) for n, sku in enumerate(skus[:500])}  # ties everywhere; 100 without a score
    head = [Hit(skus[3], 9.0, 9.0, None)]
    results = Results(head, skus, scores)
    for limit in (1, 10, 57, 400, 599, 600, 5000):
        got = [prod["sku"] for prod, _ in service.page(results, limit)]
        rest = sorted((s for s in skus if s != skus[3]), key=lambda s: _beyond_head(table[s], scores.get(s, 0.0)))
        assert got == [skus[3], *rest][:limit], limit
