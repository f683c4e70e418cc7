"""Suggestions as a shopper types (app/search/suggest.py, app/routes/suggest.py), at 50,000 products.

    .venv/bin/python -m bench.suggest            # ~1 minute (most of it indexing the catalog)
    .venv/bin/python -m bench.suggest --quick    # 5,000 products

The demo catalog is indexed (text only) into a `SearchService`, the `Suggester` built from its
phrases plus 2,000 popular searches (shopper queries made from the catalog's vocabulary, as
bench/search_relevance.py makes them, counted by a Zipf law). Then every prefix of 200 shopper
queries, as typed one key at a time (3,000 or so keystrokes), is answered as the route answers
it: the completions and the first completion's products (`suggest._products`). The peer, in
the same run and on the same keystrokes: what a widget without suggestions would run on each
keystroke, the text search of the prefix (`SearchService.text_search`, the last word a prefix).
One thread; milliseconds per keystroke, p50 / p90 / p99.

Results: bench/results/suggest.json and .md (``_quick`` for --quick), also printed.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import OrderedDict
from typing import Any

from app.catalog.demo import generate_catalog
from app.routes.suggest import SuggestDeps, _products
from app.search.service import SearchService
from app.search.suggest import Suggester, Suggestions, catalog_phrases
from bench.common import machine, pct, write_results
from bench.search_relevance import RESULTS, shopper_queries

SEED = 5


def keystrokes(queries: list[str]) -> list[str]:
    """Every prefix of every query, as typed."""
    return [q[:end] for q in queries for end in range(1, len(q) + 1) if q[:end].strip()]


def timed(fn: Any, items: list[str]) -> list[float]:
    out = []
    for item in items:
        started = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - started) * 1000)
    return out


def summary(samples: list[float]) -> dict[str, float]:
    return {"p50": round(statistics.median(samples), 3), "p90": round(pct(samples, 90), 3),
            "p99": round(pct(samples, 99), 3), "n": len(samples)}


def run(size: int) -> dict[str, Any]:
    rng = random.Random(SEED)
    service = SearchService(None, exact_max=1000)
    started = time.perf_counter()
    service.build_from(generate_catalog(size))
    index_s = time.perf_counter() - started
    popular_queries = shopper_queries(2000, seed=SEED)
    popular = {q: max(1, int(1000 / (rank + 1))) for rank, q in enumerate(popular_queries)}
    started = time.perf_counter()
    phrases = catalog_phrases(service.indexed())
    suggester = Suggester(phrases, popular)
    build_s = time.perf_counter() - started
    holder = Suggestions(service, None, refresh_s=1e9)
    holder._built = suggester  # noqa: SLF001 - the benchmark measures the answering, not the background build
    deps = SuggestDeps(service, holder, OrderedDict())
    typed = keystrokes(rng.sample(shopper_queries(400, seed=SEED + 1), 200))

    def answer(prefix: str) -> None:
        found = suggester.complete(prefix, 6)
        if found:
            service.products(_products(deps, found[0]))

    # Alternate the two, keystroke by keystroke, so the machine's load falls on both alike.
    ours: list[float] = []
    theirs: list[float] = []
    for prefix in typed:
        ours += timed(answer, [prefix])
        theirs += timed(lambda p: service.text_search(p, None, 4), [prefix])
    return {"products": size, "phrases": len(phrases), "popular_searches": len(popular),
            "keystrokes": len(typed), "index_s": round(index_s, 1), "suggester_build_s": round(build_s, 2),
            "suggest_ms": summary(ours), "text_search_ms": summary(theirs),
            "ratio_p50": round(statistics.median(theirs) / statistics.median(ours), 1)}


def markdown(doc: dict[str, Any]) -> str:
    r = doc["result"]
    m = doc["machine"]
    return "\n".join([
        "# Suggestions as a shopper types", "",
        f"`{doc['command']}`: {r['products']:,} demo products ({r['phrases']:,} catalog phrases), "
        f"{r['popular_searches']:,} popular searches, {r['keystrokes']:,} keystrokes of 200 queries typed one key "
        f"at a time; one thread.", "",
        "| per keystroke (ms) | p50 | p90 | p99 |", "|---|---:|---:|---:|",
        f"| suggestions (completions + the first one's products) | {r['suggest_ms']['p50']} | "
        f"{r['suggest_ms']['p90']} | {r['suggest_ms']['p99']} |",
        f"| peer: the text search of the prefix | {r['text_search_ms']['p50']} | {r['text_search_ms']['p90']} | "
        f"{r['text_search_ms']['p99']} |", "",
        f"Suggestions answer {r['ratio_p50']}x faster at p50. Building the suggester: {r['suggester_build_s']} s "
        f"(in a worker thread, after each catalog change).", "",
        f"{m['date']}, {m['cpu_count']} CPUs, load average at start {m['loadavg_at_start'][0]}.", ""])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    result = run(5000 if args.quick else 50_000)
    doc = {"command": " ".join([".venv/bin/python", "-m", "bench.suggest", *argv]), "machine": machine(()),
           "result": result}
    print(write_results(RESULTS, "suggest" + ("_quick" if args.quick else ""), doc, markdown))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
