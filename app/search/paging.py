"""Pages of a product search that hold together: a cursor names a frozen ranking, not an offset
into whatever the index ranks now.

An offset (`page=3`) re-ranks on every page: a product indexed, re-scored or removed between
two requests (the catalog sync, a rebuild, an import) shifts everything after it, so the
shopper sees one product twice or never sees another. Here the first page ranks every match
(up to `MAX_RANKED`) once and keeps that order under a random token; a cursor is the token and
an offset into it, so page n is always the same slice, whatever the index does meanwhile. A
product removed since the first page is left out of its page (it can no longer be sold); one
added since is not in this ranking (a new search shows it).

The rankings live in this process's memory, the `MAX_KEPT` most recently used for `TTL_S`:
a cursor from another instance, or one older than that, is refused (410 `CURSOR_EXPIRED`),
and the client searches again from the first page.
"""

from __future__ import annotations

import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

MAX_RANKED = 1000  # products a ranking keeps: 20 pages of the largest page (50)
MAX_KEPT = 256  # rankings kept (each at most MAX_RANKED SKUs and their scores: ~100 KB)
TTL_S = 15 * 60.0  # a shopper reading a page for a quarter of an hour still gets the next one

CURSOR_PATTERN = r"^[A-Za-z0-9_-]{16}\.[0-9]{1,4}$"
_CURSOR = re.compile(CURSOR_PATTERN)


@dataclass(frozen=True, slots=True)
class Ranked:
    """One search's ranking, frozen: `order` (SKU, fused, text, vector scores) best first,
    `total` as the first page reported it, `request` the search it ranks (query, sort and
    filters: a cursor is refused on another search)."""

    request: str
    order: tuple[tuple[str, float | None, float | None, float | None], ...]
    total: int


def parse_cursor(cursor: str) -> tuple[str, int] | None:
    """(token, offset) of a cursor this module wrote, or None."""
    if not _CURSOR.match(cursor):
        return None
    token, offset = cursor.split(".")
    return token, int(offset)


class RankedPages:
    """The rankings behind cursors: `keep` one, `get` it back by token (LRU, expiring)."""

    def __init__(self, *, max_kept: int = MAX_KEPT, ttl_s: float = TTL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._kept: OrderedDict[str, tuple[float, Ranked]] = OrderedDict()
        self._max_kept = max_kept
        self._ttl_s = ttl_s
        self._clock = clock

    def __len__(self) -> int:
        return len(self._kept)

    def keep(self, ranked: Ranked) -> str:
        token = secrets.token_urlsafe(12)  # 16 characters, unguessable
        self._kept[token] = (self._clock(), ranked)
        while len(self._kept) > self._max_kept:
            self._kept.popitem(last=False)
        return token

    def get(self, token: str) -> Ranked | None:
        entry = self._kept.get(token)
        if entry is None:
            return None
        kept_at, ranked = entry
        if self._clock() - kept_at > self._ttl_s:
            del self._kept[token]
            return None
        self._kept.move_to_end(token)
        return ranked


def next_cursor(token: str | None, offset: int, ranked_len: int) -> str | None:
    """The cursor of the page starting at `offset`, or None when the ranking ends before it."""
    return f"{token}.{offset}" if token is not None and offset < ranked_len else None
