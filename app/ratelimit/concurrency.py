"""The cap on streams a client holds open at once (`STREAMING_MAX_CONCURRENT_PER_IP`).

The request-rate limit is checked when a stream opens, so a client could otherwise hold any
number of long streams; browsers also share 6 HTTP/1.1 connections per host.
"""

from __future__ import annotations

from collections import Counter


class StreamSlots:
    """In-process counts of open streams per client."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: Counter[str] = Counter()

    def acquire(self, client: str) -> bool:
        if self._open[client] >= self.limit:
            return False
        self._open[client] += 1
        return True

    def release(self, client: str) -> None:
        self._open[client] -= 1
        if self._open[client] <= 0:
            del self._open[client]

    def open(self, client: str) -> int:
        return self._open.get(client, 0)
