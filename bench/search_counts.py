"""What exact counts cost: the search stream's counting before and after `total` and the facets
counted every matching product instead of the fused pools, in-process, same catalog, same
queries, same run.

    .venv/bin/python -m bench.search_counts                   # 50,000 products, 200 queries (~3 minutes)
    .venv/bin/python -m bench.search_counts --size 5000 --queries 40

Setup: `generate_catalog(size)` in a `SearchService` with embeddings: real all-MiniLM-L6-v2
vectors for the first 5,000 products (cached in /tmp/storestream-bench), noisy re-normalised
copies of them beyond (as bench/search_latency.py does beyond 50,000: the vector pools show
cost, not relevance). Queries: `shopper_queries(n, 31, filters=True)`, the latency benchmark's.

Per query the query vector and both rankers' vector hits are computed once and shared; then,
in alternating order, timed with `time.perf_counter`:
- before: BM25 top 200, RRF with the vector pool, the pool sorted, facets over the pool (the
  Counter loop the stream used), `total` = the pool's size;
- after: BM25 over every word match, `SearchService.fuse`, `page` (20 cards) and `facets`
  (numpy columns over every match), `total` = every match;
- after, plain loop: the same, but facets by the plain Python loop over every match (why the
  table keeps facet columns).
Aza's semantic path: the `limit`-10 vector search alone (HNSW above 20,000 vectors) and
`VectorIndex.search_counting` (exact top 10 and exact count at or above min_score 0.3).

Results: bench/results/search_counts.json and .md, also printed.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Callable, Iterable  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from app.catalog.demo import generate_catalog  # noqa: E402
from app.search.constraints import Filters  # noqa: E402
from app.search.embedder import Embedder, product_text  # noqa: E402
from app.search.products import PRICE_BANDS, Product, facets, sort_key  # noqa: E402
from app.search.service import POOL, VECTOR_FLOOR, Plan, SearchService, rrf, with_embedding  # noqa: E402
from bench.common import machine, pct  # noqa: E402
from bench.search_latency import QUERY_SEED, vectors_for  # noqa: E402
from bench.search_relevance import embed_cached, shopper_queries  # noqa: E402

RESULTS = ROOT / "bench" / "results"
REAL = 5_000
LIMIT = 20
AZA_LIMIT = 10
AZA_MIN_SCORE = 0.3
VARIANTS = ("before", "after", "after_plain_facets")


def facets_before(products: Iterable[Product]) -> dict[str, list[dict[str, Any]]]:
    """The stream's facets before this change (a Counter loop, ties in first-seen order)."""
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
    out = {name: [{"value": v, "count": c} for v, c in counter.most_common(12) if v] for name, counter in counts.items()}
    out["price"] = [{"value": label, "min": low, "max": high, "count": bands[label]}
                    for label, low, high in PRICE_BANDS if bands[label]]
    return out


def before(service: SearchService, plan: Plan, vector_hits: list[tuple[str, float]]) -> int:
    text_hits = service.text.search(plan.ranking, POOL, plan.candidates) if plan.ranking.strip() else []
    hits = rrf(text_hits, vector_hits)
    table = service.table.products
    pool = [(table[h.sku], h) for h in hits if h.sku in table]
    key = sort_key("relevance")
    pool.sort(key=lambda pair: key((pair[0], pair[1].score)))
    facets_before(prod for prod, _ in pool)
    _ = pool[:LIMIT]
    return len(pool)


def after(service: SearchService, plan: Plan, vector_hits: list[tuple[str, float]], *, plain: bool = False) -> int:
    scores = service.word_matches(plan.ranking, plan.candidates)
    found = service.fuse(plan, scores, vector_hits)
    service.page(found, LIMIT)
    if plain:
        table = service.table.products
        facets(table[sku] for sku in found.matched)
    else:
        service.facets(found)
    return found.total


def summary(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(statistics.median(values), 3), "p90_ms": round(pct(values, 90), 3),
            "p99_ms": round(pct(values, 99), 3), "max_ms": round(max(values), 3),
            "mean_ms": round(sum(values) / len(values), 3)}


def timed(fn: Callable[[], int]) -> tuple[float, int]:
    started = time.perf_counter()
    total = fn()
    return (time.perf_counter() - started) * 1000, total


async def measure(size: int, n_queries: int, progress) -> dict[str, Any]:
    catalog = generate_catalog(size)
    embedder = Embedder(threads=1, cache_size=0)
    head = generate_catalog(REAL)
    real = embed_cached(embedder, [product_text(p) for p in head], "app-catalog", progress)
    if not embedder.ready:
        embedder.load()
    vectors = vectors_for(0, size, real, np.random.default_rng(5))
    service = SearchService(embedder, exact_max=20_000)
    started = time.perf_counter()
    service.build_from([with_embedding(p, v) for p, v in zip(catalog, vectors)])
    progress(f"{size:,} products indexed in {time.perf_counter() - started:.1f}s (ANN: {service.vectors.uses_ann})")
    queries = shopper_queries(n_queries, QUERY_SEED, filters=True)
    times: dict[str, list[float]] = {v: [] for v in VARIANTS}
    aza: dict[str, list[float]] = {"search": [], "search_and_count": []}
    totals: list[tuple[int, int]] = []
    for i, q in enumerate(queries):
        plan = service.plan(q, Filters())
        vector = await embedder.query(plan.ranking)
        raw = service.vectors.search(vector, POOL, candidates=plan.candidates)
        vector_hits = [(sku, s) for sku, s in raw if s >= VECTOR_FLOOR]
        runs = {
            "before": lambda: before(service, plan, vector_hits),
            "after": lambda: after(service, plan, vector_hits),
            "after_plain_facets": lambda: after(service, plan, vector_hits, plain=True),
        }
        order = VARIANTS if i % 2 == 0 else VARIANTS[::-1]
        got: dict[str, int] = {}
        for _ in range(2):  # the first round warms caches; the second is kept
            for name in order:
                ms, got[name] = timed(runs[name])
        for name in order:
            ms, got[name] = timed(runs[name])
            times[name].append(ms)
        totals.append((got["before"], got["after"]))
        t0 = time.perf_counter()
        service.vectors.search(vector, AZA_LIMIT)
        t1 = time.perf_counter()
        service.vectors.search_counting(vector, AZA_LIMIT, AZA_MIN_SCORE)
        t2 = time.perf_counter()
        aza["search"].append((t1 - t0) * 1000)
        aza["search_and_count"].append((t2 - t1) * 1000)
    embedder.close()
    differ = [(b, a) for b, a in totals if b != a]
    return {
        "products": size,
        "queries": len(queries),
        "uses_ann": service.vectors.uses_ann,
        "steps_ms": {name: summary(values) for name, values in times.items()},
        "aza_semantic_ms": {name: summary(values) for name, values in aza.items()},
        "totals": {
            "queries_whose_total_changed": len(differ),
            "median_total_before": statistics.median(b for b, _ in totals),
            "median_total_after": statistics.median(a for _, a in totals),
            "largest_undercount": max((a - b for b, a in totals), default=0),
            "examples": [{"query": q, "before": b, "after": a}
                         for q, (b, a) in list(zip(queries, totals)) if b != a][:8],
        },
    }


def markdown(doc: dict[str, Any]) -> str:
    r = doc["result"]
    info = doc["machine"]
    lines = [
        "# Exact counts: cost of counting every match (`bench/search_counts.py`)", "",
        f"`{doc['command']}` - {info['date']}, {info['cpu_count']} CPUs, load average at start "
        f"{info['loadavg_at_start'][0]}; {r['products']:,} demo products, {r['queries']} shopper queries "
        f"(ANN: {r['uses_ann']}).", "",
        "| counting step of the search stream (ms) | p50 | p90 | p99 | max | mean |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    labels = {"before": "before: top 200 + pool, facets over the pool",
              "after": "after: every match, facets from columns",
              "after_plain_facets": "after, facets by a plain loop over every match"}
    for name in VARIANTS:
        s = r["steps_ms"][name]
        lines.append(f"| {labels[name]} | {s['p50_ms']} | {s['p90_ms']} | {s['p99_ms']} | {s['max_ms']} | {s['mean_ms']} |")
    lines += ["", "| Aza semantic, vector step (ms) | p50 | p90 | p99 | max | mean |", "|---|---:|---:|---:|---:|---:|"]
    for name, label in (("search", f"top {AZA_LIMIT} only"), ("search_and_count", f"exact top {AZA_LIMIT} and count at {AZA_MIN_SCORE}")):
        s = r["aza_semantic_ms"][name]
        lines.append(f"| {label} | {s['p50_ms']} | {s['p90_ms']} | {s['p99_ms']} | {s['max_ms']} | {s['mean_ms']} |")
    t = r["totals"]
    lines += ["", f"Totals: {t['queries_whose_total_changed']} of {r['queries']} queries changed; median "
              f"{t['median_total_before']} before, {t['median_total_after']} after; largest undercount "
              f"{t['largest_undercount']}.", "", "| query | total before | total after |", "|---|---:|---:|"]
    lines += [f"| {e['query']} | {e['before']} | {e['after']} |" for e in t["examples"]]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    started = time.perf_counter()

    def progress(msg: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f}s] {msg}", file=sys.stderr, flush=True)

    info = machine(["numpy", "hnswlib", "torch"])
    result = asyncio.run(measure(args.size, args.queries, progress))
    info["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    doc = {"machine": info, "command": " ".join([".venv/bin/python", "-m", "bench.search_counts", *sys.argv[1:]]),
           "result": result}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "search_counts.json").write_text(json.dumps(doc, indent=2) + "\n")
    md = markdown(doc)
    (RESULTS / "search_counts.md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
