"""Ranking that learns from clicks (app/search/clicks.py), measured offline on WANDS.

    .venv/bin/python -m bench.click_learning           # ~1 minute once WANDS is embedded
    .venv/bin/python -m bench.click_learning --quick   # fewer shoppers

The shipped hybrid ranking of each WANDS development query (../shared/data/wands-dev, loaded
and embedded as bench/search_relevance.py does, sharing its embedding cache) is shown to
simulated shoppers, who click by the WANDS judgements with position bias (the
position-based model):

    P(look at position k) = 1 / k ** ETA          (ETA = 1)
    P(click | looked)     = 0.60 Exact, 0.25 Partial, 0.03 Irrelevant or unjudged

Each round, every query with traffic is searched by its shoppers (a page of PAGE results),
`clicks.learn` reads all impressions so far, and the next round's shoppers see the
re-ranked list. Reported: NDCG@10 (the WANDS gains, as bench/search_relevance.py) before
learning and after each round, over the learned queries; the same with raw click-through
(no position correction) to show what the correction buys; and the low-traffic queries (one
in four gets LOW_TRAFFIC searches, under the threshold), which must not move at all.

The clicks come from the judgements the NDCG is scored on: this measures how well the
learner recovers relevance from biased, noisy clicks, not a live shop. Seeded: every run
simulates the same shoppers.

Results: bench/results/click_learning.json and .md (``_quick`` for --quick), also printed.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from app.search import service as service_mod
from app.search.clicks import ClickScores, Impression, learn, rerank
from app.search.constraints import Filters
from app.search.embedder import Embedder, product_text
from app.search.service import SearchService
from bench.common import machine, write_results
from bench.search_relevance import RESULTS, WANDS, embed_cached, load_wands, mean, ndcg_at
from config.settings import Settings

ETA = 1.0  # the shoppers' true attention curve, as the learner assumes (clicks.ETA)
OTHER_ETA = (0.7, 1.5)  # shoppers who look further down / less far than the learner assumes
CLICK = {2: 0.60, 1: 0.25, 0: 0.03}
PAGE = 24  # the search widget's first page
RANKED = 200  # the re-ranked list: the head the shipped hybrid returns
MIN_SEARCHES = 50
LOW_TRAFFIC = 10
SEED = 41
FULL = dict(shoppers=200, rounds=3)
QUICK = dict(shoppers=60, rounds=2)


def shop(query: str, search: str, ranked: Sequence[str], grades: dict[str, int],
         rng: random.Random, eta: float) -> list[Impression]:
    """One shopper's search: the first page, each result looked at and clicked by chance."""
    out = []
    for position, sku in enumerate(ranked[:PAGE], start=1):
        looked = rng.random() < 1.0 / position ** eta
        clicked = looked and rng.random() < CLICK[grades.get(sku, 0)]
        out.append(Impression(query, search, sku, position, clicked))
    return out


def naive(impressions: Sequence[Impression], min_searches: int) -> ClickScores:
    """Raw click-through, no position correction: the curve flat at 1."""
    flat = [Impression(i.query, i.search, i.sku, 1, i.clicked) for i in impressions]
    return learn(flat, min_searches=min_searches)


def simulate(base: dict[str, list[str]], labels: dict[str, dict[str, int]], traffic: dict[str, int],
             rounds: int, learner: Callable[[Sequence[Impression], int], ClickScores],
             eta: float = ETA) -> list[dict[str, float]]:
    """NDCG@10 per query before learning and after each round."""
    rng = random.Random(SEED)
    log: list[Impression] = []
    shown = dict(base)
    history = [{q: ndcg_at(r, labels[q]) for q, r in shown.items()}]
    for round_no in range(rounds):
        for q, ranked in shown.items():
            for n in range(traffic[q]):
                log += shop(q, f"{q}/{round_no}/{n}", ranked, labels[q], rng, eta)
        scores = learner(log, MIN_SEARCHES)
        shown = {q: rerank(base[q], scores.of(q)) for q in base}
        history.append({q: ndcg_at(r, labels[q]) for q, r in shown.items()})
    return history


async def rankings(progress: Callable[[str], None]) -> tuple[dict[str, list[str]], dict[str, dict[str, int]]]:
    products, _, queries, labels, _ = load_wands()
    embedder = Embedder(threads=1)
    vectors = embed_cached(embedder, [product_text(p) for p in products], "wands-products", progress)
    if not embedder.ready:
        embedder.load()
    service = SearchService(embedder, exact_max=Settings().vector_exact_max)
    service.build_from([service_mod.with_embedding(p, v) for p, v in zip(products, vectors)])
    base = {}
    for _, q in queries:
        base[q] = [h.sku for h in (await service.hybrid(service.plan(q, Filters()))).hits][:RANKED]
    return base, {q: labels.get(qid, {}) for qid, q in queries}


def report(base: dict[str, list[str]], labels: dict[str, dict[str, int]], cfg: dict[str, int]) -> dict[str, Any]:
    queries = sorted(base)
    low = set(queries[::4])
    traffic = {q: LOW_TRAFFIC if q in low else cfg["shoppers"] for q in queries}
    corrected = simulate(base, labels, traffic, cfg["rounds"], lambda log, m: learn(log, min_searches=m))
    raw = simulate(base, labels, traffic, cfg["rounds"], naive)
    shipped = lambda log, m: learn(log, min_searches=m)  # noqa: E731
    other_eta = {str(eta): simulate(base, labels, traffic, cfg["rounds"], shipped, eta) for eta in OTHER_ETA}
    learned = [q for q in queries if q not in low]
    moved_low = [q for q in low if corrected[-1][q] != corrected[0][q]]
    return {
        "queries": len(queries), "learned_queries": len(learned), "low_traffic_queries": len(low),
        "ndcg_learned": {
            "corrected": [round(mean([h[q] for q in learned]), 4) for h in corrected],
            "raw_ctr": [round(mean([h[q] for q in learned]), 4) for h in raw],
            **{f"corrected_true_eta_{eta}": [round(mean([h[q] for q in learned]), 4) for h in history]
               for eta, history in other_eta.items()},
        },
        "ndcg_all": [round(mean([h[q] for q in queries]), 4) for h in corrected],
        "low_traffic_moved": moved_low,
        "low_traffic_ndcg": round(mean([corrected[0][q] for q in low]), 4),
        "per_query": [{"query": q, "searches_per_round": traffic[q],
                       "ndcg": [round(h[q], 4) for h in corrected]} for q in queries],
    }


def markdown(doc: dict[str, Any]) -> str:
    r = doc["result"]
    cfg = doc["config"]
    rounds = len(r["ndcg_learned"]["corrected"])
    head = "| | before | " + " | ".join(f"after round {i}" for i in range(1, rounds)) + " |"
    rule = "|---|" + "---:|" * rounds
    lines = [
        "# Ranking that learns from clicks (WANDS dev, simulated shoppers)", "",
        f"`{doc['command']}`: {r['queries']} queries; {r['learned_queries']} with {cfg['shoppers']} searches a round, "
        f"{r['low_traffic_queries']} with {LOW_TRAFFIC} (under the threshold of {MIN_SEARCHES}); "
        f"{cfg['rounds']} rounds; clicks by the judgements with P(look at k) = 1/k.", "",
        "NDCG@10 of the learned queries:", "", head, rule,
        "| position-corrected (shipped) | " + " | ".join(f"{v:.3f}" for v in r["ndcg_learned"]["corrected"]) + " |",
        "| raw click-through (no position correction) | "
        + " | ".join(f"{v:.3f}" for v in r["ndcg_learned"]["raw_ctr"]) + " |",
        *(f"| position-corrected, shoppers' true eta {eta} (learner assumes {ETA}) | "
          + " | ".join(f"{v:.3f}" for v in r["ndcg_learned"][f"corrected_true_eta_{eta}"]) + " |" for eta in OTHER_ETA),
        "", f"All queries, position-corrected: {' -> '.join(f'{v:.3f}' for v in r['ndcg_all'])}.",
        f"Low-traffic queries whose ranking moved: {len(r['low_traffic_moved'])} of {r['low_traffic_queries']}.", "",
        f"{doc['machine']['date']}, {doc['machine']['cpu_count']} CPUs, load average at start "
        f"{doc['machine']['loadavg_at_start'][0]}; {doc['seconds']} s.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if not WANDS.exists():
        print(f"WANDS not found at {WANDS}: nothing to measure", file=sys.stderr)
        return 0
    cfg = QUICK if args.quick else FULL
    started = time.perf_counter()
    base, labels = asyncio.run(rankings(lambda line: print(line, file=sys.stderr, flush=True)))
    result = report(base, labels, cfg)
    doc = {"command": " ".join([".venv/bin/python", "-m", "bench.click_learning", *argv]),
           "config": cfg | {"eta": ETA, "click": CLICK, "page": PAGE, "min_searches": MIN_SEARCHES, "seed": SEED},
           "machine": machine(("numpy", "torch")), "seconds": round(time.perf_counter() - started, 1),
           "result": result}
    print(write_results(RESULTS, "click_learning" + ("_quick" if args.quick else ""), doc, markdown))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
