"""Pages of a product search that hold together: a cursor names a frozen ranking, not an offset
into whatever the index ranks now.

An offset (`page=3`) re-ranks on every page: a product indexed, re-scored or removed between
two requests (the catalog sync, a rebuild, an import) shifts everything after it, so the
shopper sees one product twice or never sees another. Here the first page freezes what the
query matched (its SKUs and scores, compactly) under the search's query_id; the first request for a
later page orders those matches once (up to `MAX_RANKED`, the first page's products first, as
shown) and keeps that order. A cursor is the token and an offset into it, so page n is always
the same slice, whatever the index does meanwhile. A product removed since is left out of its
page (it can no longer be sold); one added since is not in this ranking (a new search shows it).

Ordering the matches is paid once, by the shopper who asks for a second page, not by every
search as they type: `Ranked.order` takes 21 ms for the 32,470 matches of "women" over 50,000
demo products and 7 ms for the 4,935 of "kurta" (`.venv/bin/python -m bench.paging`, quiet
machine; 56 and 12 ms before `SearchService.page` gave the full key only to the matches whose
text score can reach the page); freezing the matches costs the first page 5 ms for those
32,470 (1 ms for the 4,935 of "kurta").

The rankings live in this process's memory: the `MAX_KEPT` most recently used, holding at
most `MAX_WEIGHT` matches in all, for `TTL_S`. A cursor whose ranking is not held (made by
another instance behind a load balancer, or evicted or expired) is not refused: its page is
ranked again (app/routes/search.py `ranked_again`) and kept from then on, the same pages as
the first one's ranking unless the catalog changed in between; a shopper never has to start
over.
"""

from __future__ import annotations

import math
import re
import time
from array import array
from collections import OrderedDict
from collections.abc import Callable, KeysView
from dataclasses import dataclass
from itertools import repeat
from typing import Any

from app.search.service import Hit, Results

MAX_RANKED = 1000  # products a ranking keeps: 20 pages of the largest page (50)
MAX_KEPT = 256  # rankings kept
MAX_WEIGHT = 2_000_000  # matches held in all (16 bytes each frozen: 32 MB at most)
TTL_S = 15 * 60.0  # a shopper reading a page for a quarter of an hour still gets the next one

# `<the search's query_id>.<offset>`: the id names the search on every instance (and in the
# analytics its later pages' clicks count for); it is the server's random 128 bits.
CURSOR_PATTERN = r"^[0-9a-f]{32}\.[0-9]{1,4}$"
_CURSOR = re.compile(CURSOR_PATTERN)

Row = tuple[str, float | None, float | None, float | None]  # sku, fused, text, vector scores
Order = Callable[[Results, int, str], list[tuple[dict[str, Any], Hit]]]  # SearchService.page


def row(sku: str, hit: Hit) -> Row:
    return (sku, hit.score, hit.text_score, hit.vector_score)


@dataclass(frozen=True, slots=True)
class Frozen:
    """What a query matched, copied out of the index (whose sets and scores change under it):
    the fused head, every matching SKU, and the text score of each (NaN: none)."""

    hits: tuple[Hit, ...]
    matched: tuple[str, ...]
    text: array

    @classmethod
    def of(cls, results: Results) -> Frozen:
        scores = results.text_scores
        matched = tuple(results.matched)
        if isinstance(results.matched, KeysView) and len(matched) == len(scores):
            # The usual case: the matches are the word matches (`SearchService.fuse`), in order.
            return cls(tuple(results.hits), matched, array("d", scores.values()))
        if not scores:  # the filters alone matched: no text scores
            return cls(tuple(results.hits), matched, array("d", [math.nan]) * len(matched))
        return cls(tuple(results.hits), matched, array("d", list(map(scores.get, matched, repeat(math.nan)))))

    def results(self) -> Results:
        scores = {sku: s for sku, s in zip(self.matched, self.text) if not math.isnan(s)}
        return Results(list(self.hits), self.matched, scores)


@dataclass(slots=True)
class Ranked:
    """One search's pages: `first` as shown, the rest ordered on first demand (`order`).
    `request` is the search it ranks (query, sort, filters: a cursor is refused on another);
    `total` as the first page reported it."""

    request: str
    sort: str
    total: int
    first: tuple[Row, ...]
    frozen: Frozen | None
    rest: tuple[Row, ...] | None = None
    hidden: frozenset[str] = frozenset()  # what the merchant's rules hide from this search

    @property
    def weight(self) -> int:
        return len(self.frozen.matched) if self.frozen is not None else len(self.rest or ())

    def order(self, page: Order) -> tuple[Row, ...]:
        """Every row of the ranking: the first page, then the other matches in `sort` order as
        the index has them now, none of the first page again."""
        if self.rest is None:
            assert self.frozen is not None
            shown = {r[0] for r in self.first}
            ranked = page(self.frozen.results(), MAX_RANKED, self.sort)
            left_out = shown | self.hidden
            self.rest = tuple(row(p["sku"], h) for p, h in ranked if p["sku"] not in left_out)[: MAX_RANKED - len(shown)]
            self.frozen = None
        return self.first + self.rest


def parse_cursor(cursor: str) -> tuple[str, int] | None:
    """(token, offset) of a cursor this module wrote, or None."""
    if not _CURSOR.match(cursor):
        return None
    token, offset = cursor.split(".")
    return token, int(offset)


class RankedPages:
    """The rankings behind cursors: `keep` one, `get` it back by token (LRU, expiring)."""

    def __init__(self, *, max_kept: int = MAX_KEPT, max_weight: int = MAX_WEIGHT, ttl_s: float = TTL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._kept: OrderedDict[str, tuple[float, int, Ranked]] = OrderedDict()
        self._weight = 0
        self._max_kept = max_kept
        self._max_weight = max_weight
        self._ttl_s = ttl_s
        self._clock = clock

    def __len__(self) -> int:
        return len(self._kept)

    def keep(self, token: str, ranked: Ranked) -> None:
        """Hold `ranked` under `token` (its search's query_id), replacing what it held."""
        if token in self._kept:
            self._drop(token)
        weight = ranked.weight
        self._kept[token] = (self._clock(), weight, ranked)
        self._weight += weight
        while self._kept and (len(self._kept) > self._max_kept or self._weight > self._max_weight):
            self._drop(next(iter(self._kept)))

    def get(self, token: str) -> Ranked | None:
        entry = self._kept.get(token)
        if entry is None:
            return None
        if self._clock() - entry[0] > self._ttl_s:
            self._drop(token)
            return None
        self._kept.move_to_end(token)
        return entry[2]

    def _drop(self, token: str) -> None:
        _, weight, _ = self._kept.pop(token)
        self._weight -= weight


def next_cursor(token: str | None, offset: int, length: int) -> str | None:
    """The cursor of the page starting at `offset`, or None when the ranking ends before it."""
    return f"{token}.{offset}" if token is not None and offset < length else None
