"""Waiting for something to happen, not for time to pass.

A test that sleeps "long enough" for an event is slow when the machine is idle and flaky when
it is loaded. These poll a condition until it holds, up to a deadline, and say what never
happened:

    wait_until(lambda: server.ping(), timeout=10, what="redis answers PING")
    status = await eventually(lambda: read_status(client), timeout=10, what="the answer ended")
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class Timeout(AssertionError):
    """The condition did not hold by the deadline."""


def wait_until(condition: Callable[[], T], *, timeout: float, interval: float = 0.05, what: str = "") -> T:
    """`condition()` until it returns something truthy, which is returned."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise Timeout(f"not within {timeout} s: {what or condition} (last: {value!r})")
        time.sleep(interval)


async def eventually(
    condition: Callable[[], T | Awaitable[T]], *, timeout: float, interval: float = 0.05, what: str = ""
) -> T:
    """`wait_until` for the event loop: `condition` may be a plain or an async function."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value  # type: ignore[return-value]
        if time.monotonic() >= deadline:
            raise Timeout(f"not within {timeout} s: {what or condition} (last: {value!r})")
        await asyncio.sleep(interval)
