"""Text-search speed of this tree's `TextIndex` against earlier commits' in one process, so a
slowdown is measured against the version it came from rather than across runs on a shared
machine.

    .venv/bin/python -m bench.text_versions bd02863 d2c5e7a        # each against this tree
    .venv/bin/python -m bench.text_versions --reps 3 --n 50000 d2c5e7a

Each commit's app/search/text_index.py, with the text, scripts and stemming modules beside it
at that commit, is read with `git show` into a temporary package and imported under its own
name. Every version indexes the same `generate_catalog(n)` products; then each of the ~200
shopper queries of `bench.search_relevance.shopper_queries` is searched by every version in
turn (top 200, `TextIndex.search`), the version going first rotating from query to query, so
load from other work falls on all alike. Reported: ms per query (p50, p90, mean) and each
version's p50 over this tree's. Printed only (results depend on the commits asked for).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

from app.catalog.demo import generate_catalog
from app.search import text_index
from bench.search_relevance import shopper_queries

ROOT = Path(__file__).resolve().parents[1]
MODULES = ("text_index", "text", "scripts", "stemming")
TOP = 200


def load_version(commit: str, into: Path) -> ModuleType:
    """`text_index` as it was at `commit`, imported from a package of its own."""
    package = into / f"at_{commit}"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name in MODULES:
        shown = subprocess.run(["git", "show", f"{commit}:app/search/{name}.py"], cwd=ROOT,
                               capture_output=True, text=True)
        if shown.returncode == 0:  # older commits lack some modules
            (package / f"{name}.py").write_text(shown.stdout.replace("from app.search.", "from ."))
    return importlib.import_module(f"at_{commit}.text_index")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("commits", nargs="+", help="commits to compare with this tree")
    parser.add_argument("--n", type=int, default=50_000, help="demo catalog size (default 50000)")
    parser.add_argument("--reps", type=int, default=2, help="passes over the queries (default 2)")
    args = parser.parse_args()
    catalog = generate_catalog(args.n)
    queries = shopper_queries(200)
    with tempfile.TemporaryDirectory() as tmp:
        sys.path.insert(0, tmp)
        versions = {"this tree": text_index, **{c: load_version(c, Path(tmp)) for c in args.commits}}
        indexes = {}
        for name, module in versions.items():
            started = time.perf_counter()
            indexes[name] = module.build_index(catalog)
            print(f"{name}: indexed {args.n:,} products in {time.perf_counter() - started:.1f} s", flush=True)
    gc.collect()
    gc.freeze()  # the indexes are long-lived: keep the collector off them while timing
    names = list(indexes)
    times: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(args.reps):
        for i, query in enumerate(queries):
            for name in names[i % len(names):] + names[: i % len(names)]:
                started_ns = time.perf_counter_ns()
                indexes[name].search(query, TOP)
                times[name].append((time.perf_counter_ns() - started_ns) / 1e6)
    base = statistics.median(times["this tree"])
    print(f"\n{len(queries)} queries x {args.reps}, top {TOP}, {args.n:,} demo products (ms per query)")
    print("| version | p50 | p90 | mean | p50 / this tree |\n|---|---:|---:|---:|---:|")
    for name in names:
        s = sorted(times[name])
        print(f"| {name} | {statistics.median(s):.2f} | {s[int(0.9 * len(s))]:.2f} | {statistics.fmean(s):.2f} "
              f"| {statistics.median(s) / base:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
