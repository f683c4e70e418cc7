"""The stream engine: turns an endpoint's async generator of events into the one normalised
sequence every client sees, whatever the transport.

    connected -> (the producer's events) -> complete | error -> close

`run_stream` owns what every stream shares: the deadline (`STREAMING_TIMEOUT`), mapping any
exception to an `error` event with a stable code, the final `complete`/`close`, and splitting
oversized text payloads. The SSE response (`response.py`) and the JSON fold (`fold.py`) both
consume it, so the streaming and non-streaming twins cannot drift apart.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pymongo.errors import ConnectionFailure, ServerSelectionTimeoutError

from app.streams import events as ev
from app.streams.events import Code, Event, StreamError

log = logging.getLogger("storestream.streams")

Emit = Callable[[Event], Awaitable[None]]


@dataclass(slots=True)
class StreamContext:
    """What a producer knows about the stream it feeds; the services it uses are bound to it
    by its route group (its signature names them)."""

    stream: str  # endpoint name, e.g. "search"
    stream_id: str
    client: str
    started: float = field(default_factory=time.perf_counter)

    @property
    def tag(self) -> str:
        return f"[{self.stream}-{self.stream_id}]"

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000


Producer = Callable[[StreamContext], AsyncGenerator[Event, None]]


def map_exception(exc: BaseException, ctx: StreamContext) -> Event:
    """An exception from a producer as a client-safe `error` event (never a stack trace)."""
    if isinstance(exc, StreamError):
        return ev.error(exc.code, exc.message, retryable=exc.retryable)
    if isinstance(exc, (ServerSelectionTimeoutError, ConnectionFailure)):
        log.warning("%s database unavailable: %s", ctx.tag, type(exc).__name__)
        return ev.error(Code.DB_UNAVAILABLE, "The database is unavailable; try again shortly", retryable=True)
    log.error("%s producer failed", ctx.tag, exc_info=exc)
    return ev.error(Code.INTERNAL_ERROR, "Internal error while producing the stream", retryable=True)


def _split_text(event: Event, limit: int) -> list[Event]:
    token: str = event.data.get("token", "")
    if len(token) <= limit:
        return [event]
    full: str = event.data.get("fullText", token)
    base = full[: len(full) - len(token)] if full.endswith(token) else ""
    out = []
    for start in range(0, len(token), limit):
        piece = token[start : start + limit]
        base += piece
        out.append(ev.text(piece, base))
    return out


async def run_stream(
    producer: Producer,
    ctx: StreamContext,
    emit: Emit,
    *,
    timeout_s: float,
    chunk_size: int,
    connected_context: dict[str, Any] | None = None,
) -> str:
    """Drive `producer` and emit the normalised sequence. Returns the outcome
    (`complete`, or the error code). Cancellation (a client gone) propagates unchanged."""
    await emit(ev.connected(ctx.stream_id, ctx.stream, **(connected_context or {})))
    # Let `connected` reach the socket before the producer starts any (maybe blocking) work.
    await asyncio.sleep(0)
    outcome = "complete"
    agen = producer(ctx)
    deadline = asyncio.timeout(timeout_s)
    try:
        async with deadline:
            async for event in agen:
                kind = event.type
                if kind == "text":
                    for piece in _split_text(event, chunk_size):
                        await emit(piece)
                    continue
                if kind in ("connected", "close"):
                    raise RuntimeError(f"producer emitted {kind!r}; the engine sends it")
                if kind == "complete":
                    if "duration" not in event.data:
                        event = ev.complete(duration_ms=ctx.elapsed_ms(), **event.data)
                    await emit(event)
                    break
                await emit(event)
                if kind == "error" and event.data.get("fatal", True):
                    outcome = event.data.get("code", Code.INTERNAL_ERROR)
                    break
            else:
                await emit(ev.complete(duration_ms=ctx.elapsed_ms()))
    except TimeoutError as exc:
        if deadline.expired():
            outcome = Code.STREAM_TIMEOUT
            await emit(
                ev.error(
                    Code.STREAM_TIMEOUT,
                    f"The stream took longer than {int(timeout_s * 1000)} ms",
                    retryable=True,
                )
            )
        else:
            error = map_exception(exc, ctx)
            outcome = error.data["code"]
            await emit(error)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - every failure becomes an error event
        error = map_exception(exc, ctx)
        outcome = error.data["code"]
        await emit(error)
    finally:
        # Runs the producer's own `finally` (cleanup of upstream work) on every path.
        await agen.aclose()
    await emit(ev.close())
    return outcome
