"""The one retry policy (`app.llm.retry`): how long it waits, when it gives up, and that a
streamed answer is never retried once a piece of it has reached the caller. The HTTP side of
the same rules is in test_openai_provider.py, against real servers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator

import pytest

from app.llm.base import ProviderError
from app.llm.retry import RetryPolicy, Transient

EXACT = RetryPolicy(retries=3, backoff_s=0.25, max_wait_s=5.0, jitter=lambda: 1.0)  # no jitter: the full wait


def test_the_wait_doubles_and_stops_after_the_retries() -> None:
    failure = Transient("HTTP 503")
    assert [EXACT.wait(n, failure) for n in range(4)] == [0.25, 0.5, 1.0, None]


def test_jitter_shortens_the_wait_to_half_at_most() -> None:
    low = RetryPolicy(backoff_s=1.0, jitter=lambda: 0.0)
    assert low.wait(0, Transient("HTTP 503")) == 0.5
    waits = {RetryPolicy(backoff_s=1.0).wait(0, Transient("HTTP 503")) for _ in range(50)}
    assert all(w is not None and 0.5 <= w < 1.0 for w in waits) and len(waits) > 1


def test_retry_after_is_a_floor_and_capped() -> None:
    assert EXACT.wait(0, Transient("HTTP 429", retry_after=2.0)) == 2.0
    assert EXACT.wait(2, Transient("HTTP 429", retry_after=0.0)) == 1.0  # our own backoff is longer
    assert EXACT.wait(0, Transient("HTTP 429", retry_after=5.0)) == 5.0
    assert EXACT.wait(0, Transient("HTTP 429", retry_after=5.1)) is None  # not waited for: give up
    assert RetryPolicy(backoff_s=10.0, max_wait_s=5.0, jitter=lambda: 1.0).wait(0, Transient("x")) == 5.0


async def test_call_retries_then_succeeds() -> None:
    tries = 0

    async def flaky() -> str:
        nonlocal tries
        tries += 1
        if tries < 3:
            raise Transient("connection failed")
        return "ok"

    async with asyncio.timeout(5):
        assert await RetryPolicy(retries=2, backoff_s=0.01).call(flaky) == "ok"
    assert tries == 3


async def test_call_gives_up_with_the_last_reason_and_the_attempts() -> None:
    async def failing() -> str:
        raise Transient("HTTP 503")

    async with asyncio.timeout(5):
        with pytest.raises(ProviderError) as raised:
            await RetryPolicy(retries=2, backoff_s=0.01).call(failing)
    assert raised.value.retryable is True
    assert raised.value.message == "The language model is unavailable (HTTP 503) after 3 attempts."


async def test_a_final_error_is_not_retried() -> None:
    tries = 0

    async def refused() -> str:
        nonlocal tries
        tries += 1
        raise ProviderError("bad request", retryable=False)

    with pytest.raises(ProviderError):
        await RetryPolicy(retries=3, backoff_s=0.01).call(refused)
    assert tries == 1


async def test_a_long_retry_after_gives_up_at_once() -> None:
    async def throttled() -> str:
        raise Transient("HTTP 429", retry_after=60)

    started = time.monotonic()
    with pytest.raises(ProviderError, match=r"after 1 attempt\."):
        await RetryPolicy(retries=3).call(throttled)
    assert time.monotonic() - started < 0.5


async def test_a_stream_is_retried_before_its_first_item_only() -> None:
    attempts: list[int] = []

    def attempt() -> AsyncGenerator[str, None]:
        async def pieces() -> AsyncGenerator[str, None]:
            attempts.append(len(attempts) + 1)
            if len(attempts) == 1:
                raise Transient("HTTP 503")  # before anything: retried
            yield "one"
            yield "two"
            raise Transient("connection lost")  # after pieces: the end

        return pieces()

    got: list[str] = []
    async with asyncio.timeout(5):
        with pytest.raises(ProviderError) as raised:
            async for piece in RetryPolicy(retries=3, backoff_s=0.01).stream(attempt):
                got.append(piece)
    assert got == ["one", "two"] and attempts == [1, 2]
    assert raised.value.retryable is True and "mid-answer (connection lost)" in raised.value.message


async def test_closing_the_stream_closes_the_attempt_at_once() -> None:
    closed = asyncio.Event()

    async def endless() -> AsyncGenerator[str, None]:
        try:
            while True:
                yield "piece"
                await asyncio.sleep(0)
        finally:
            closed.set()

    stream = RetryPolicy().stream(endless)
    async with asyncio.timeout(5):
        assert await anext(stream) == "piece"
        await stream.aclose()
    assert closed.is_set()
