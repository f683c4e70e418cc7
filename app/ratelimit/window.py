"""The moving-window budget of one process (`RATE_LIMIT_STORAGE_URL=memory://`).

The same strategy as `limits`' moving window, which counts the budget when it lives in
Redis: a request is allowed when fewer than `amount` of the client's requests fall in the
last `window_s` seconds. Ours because `limits`' in-memory storage does not scale to many
clients: it sweeps every key every 10 ms from a thread (its asyncio variant starts a thread
per key per sweep), which made admitting 10,000 clients twice as slow as a bare Starlette
response (docs/benchmarks.md, "Stream engine").

Per client a short list of timestamps (at most `amount`); clients whose newest request has
left the window are dropped lazily, oldest first, so memory follows the active clients.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable


class MovingWindow:
    def __init__(self, amount: int, window_s: float, clock: Callable[[], float] = time.time) -> None:
        self.amount = amount
        self.window_s = window_s
        self._clock = clock
        # client -> its request times, oldest first; ordered by each client's newest request.
        self._hits: OrderedDict[str, list[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._hits)

    def hit(self, client: str) -> tuple[bool, int, float]:
        """Spend one request of `client`'s budget if there is one left.
        Returns (allowed, remaining, reset): reset is when the oldest counted request leaves
        the window (Unix seconds)."""
        now = self._clock()
        self._forget_idle(now)
        cutoff = now - self.window_s
        times = self._hits.get(client)
        if times is None:
            times = self._hits[client] = []
        else:
            self._hits.move_to_end(client)
            while times and times[0] <= cutoff:
                del times[0]
        allowed = len(times) < self.amount
        if allowed:
            times.append(now)
        reset = (times[0] if times else now) + self.window_s
        return allowed, self.amount - len(times), reset

    def _forget_idle(self, now: float) -> None:
        cutoff = now - self.window_s
        while self._hits:
            client, times = next(iter(self._hits.items()))
            if times and times[-1] > cutoff:
                return
            del self._hits[client]
