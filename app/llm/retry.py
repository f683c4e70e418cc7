"""The one retry policy for calls to a language model: the streamed answer and function calling.

- Only a `Transient` failure is retried (a connection error or timeout, 429, a 5xx, an error
  object or a malformed reply), and only while nothing has reached the caller: once a piece
  of the answer has been yielded, a failure ends the answer (the shopper already reads it; a
  second attempt would start another, different one).
- The wait before retry n (from 0) is `backoff_s * 2**n`, jittered down to half so that many
  streams failing together do not come back together, and at most `max_wait_s`.
- A `Retry-After` the server sends is a floor on that wait; one longer than `max_wait_s` is
  not waited for: the call gives up at once, because the shopper is waiting for the answer
  and an answer that starts that late is worse than an error they can retry.

The defaults: 3 attempts, waits of about 0.25 s then 0.5 s, `Retry-After` honoured up to 5 s,
so a failing model costs a chat stream (30 s by default) a few seconds at the most.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import TypeVar

from app.llm.base import ProviderError

T = TypeVar("T")


class Transient(Exception):
    """A failure worth another attempt, if nothing has reached the caller yet. `retry_after`:
    the seconds the server asked us to wait (its `Retry-After`), if it said."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many times to ask again and how long to wait first (see the module's docstring)."""

    retries: int = 2
    backoff_s: float = 0.25
    max_wait_s: float = 5.0
    jitter: Callable[[], float] = field(default=random.random, repr=False)  # in [0, 1)

    def wait(self, retry: int, failure: Transient) -> float | None:
        """Seconds to wait before retry number `retry` (from 0) after `failure`; None: give up."""
        if retry >= self.retries:
            return None
        if failure.retry_after is not None and failure.retry_after > self.max_wait_s:
            return None  # told to come back much later
        own = self.backoff_s * 2**retry * (0.5 + self.jitter() / 2)
        return min(max(own, failure.retry_after or 0.0), self.max_wait_s)

    async def call(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """`await attempt()`, retried on `Transient`; raises `ProviderError` in the end."""
        retry = 0
        while True:
            try:
                return await attempt()
            except Transient as failure:
                await self._wait_or_give_up(retry, failure)
                retry += 1

    async def stream(self, attempt: Callable[[], AsyncGenerator[T, None]]) -> AsyncGenerator[T, None]:
        """What a fresh `attempt()` yields, retried on `Transient` until its first item reaches
        the caller; after that a failure raises `ProviderError` and the caller keeps what it
        has. The caller closing this generator closes the attempt at once (its HTTP response)."""
        retry = 0
        while True:
            yielded = False
            try:
                # aclosing: if our caller stops (aclose/cancel), the attempt closes now, not
                # whenever the garbage collector finalises it.
                async with aclosing(attempt()) as items:
                    async for item in items:
                        yielded = True
                        yield item
                return
            except Transient as failure:
                if yielded:
                    raise ProviderError(
                        f"The language model stopped mid-answer ({failure.reason}).", retryable=True
                    ) from None
                await self._wait_or_give_up(retry, failure)
                retry += 1

    async def _wait_or_give_up(self, retry: int, failure: Transient) -> None:
        wait = self.wait(retry, failure)
        if wait is None:
            attempts = retry + 1
            raise ProviderError(
                f"The language model is unavailable ({failure.reason}) after {attempts} "
                f"attempt{'s' if attempts > 1 else ''}.",
                retryable=True,
            ) from None
        await asyncio.sleep(wait)


DEFAULT_RETRY = RetryPolicy()
