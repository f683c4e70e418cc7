"""A later page's ranking (app/search/paging.py `Ranked.order`): what the first "Show more" of
a search costs, on the event loop, at 50,000 products.

    .venv/bin/python -m bench.paging

The demo catalog is indexed (text only) into a `SearchService`; for broad and narrow queries
the search is run as the stream runs it (`plan`, `hybrid`), its matches frozen as the first
page freezes them (`Frozen.of`), and the rest ordered as the first request for page two
orders it (`Ranked.order`, the best `MAX_RANKED`). Median of 7, milliseconds, one thread.
"""

from __future__ import annotations

import asyncio
import statistics
import time

from app.catalog.demo import generate_catalog
from app.search.constraints import Filters
from app.search.paging import MAX_RANKED, Frozen, Ranked
from app.search.service import SearchService
from bench.common import machine

QUERIES = ("women", "kurta", "silk saree")
REPS = 7


async def main() -> None:
    service = SearchService(None, exact_max=1000)
    service.build_from(generate_catalog(50_000))
    print(machine(["numpy"])["date"], f"{MAX_RANKED} ranked of:")
    for query in QUERIES:
        found = await service.hybrid(service.plan(query, Filters()))
        times = []
        for _ in range(REPS):
            ranked = Ranked(query, "relevance", found.total, (), Frozen.of(found))
            started = time.perf_counter()
            ranked.order(service.page)
            times.append((time.perf_counter() - started) * 1000)
        print(f"  {query!r}: {found.total:,} matches, Ranked.order {statistics.median(times):.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())
