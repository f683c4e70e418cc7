"""The three servers compared by `bench/sse_engine.py`, each an ASGI app factory for
`uvicorn --factory bench.servers:<name>`. All three serve the same events with the same bytes
per event (same ids, event names, JSON data, `retry:` on `connected`, `\\n` line endings):

    connected -> n x text {"token":"tok","fullText":"tok"} -> complete -> close

- `ours`  the engine: `stream_routes(StreamEndpoint(...), platform.streams)` with the rate limiter,
          the concurrent-stream cap, metrics and the replay buffer in the path (limits set
          high enough never to refuse). No database (`platform.start()` is not called).
- `sse`   sse-starlette's `EventSourceResponse` fed dicts (id/event/data/retry).
- `raw`   Starlette's `StreamingResponse` yielding frames from `app.streams.wire.encode`.

- `ours-openai` (an adapter: measured for events/s beside `ours`) the same engine and events
          written as OpenAI chat-completion chunks.

For the adapters' own benchmark (`bench/sse_engine.py --adapters`), `turn_native`,
`turn_ai_sdk`, `turn_ag_ui` and `turn_openai` serve one sales-agent turn (`agent_turn`: tool
calls, product cards, a token stream, speech, suggestions) through the same engine, natively
or through that protocol's frame encoder (app/protocols/), at `GET /turn?tokens=<count>`.
Query: `?n=<count>` streams that many text events as fast as possible, then ends;
`?idle=1` sends `connected` and then nothing (an idle open stream, kept open forever).
`GET /gc` runs `gc.collect()` (used before reading RSS); it is the same on all three.

With `BENCH_PROFILE=<file>` in the environment the server runs under cProfile from start-up
to shutdown and writes the stats to that file (for investigating, not for measuring).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import cProfile
import gc
import os
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import PlainTextResponse, StreamingResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402

from app.streams import events as ev  # noqa: E402
from app.streams import wire  # noqa: E402
from app.streams.engine import StreamContext  # noqa: E402
from app.streams.events import Event  # noqa: E402

STREAM_PATH = "/stream"
RETRY_MS = 3000  # the engine's default STREAMING_RETRY_MS, sent with `connected` by all three
IDLE_SLEEP_S = 3600.0

# Settings for `ours`: limits that never refuse, a deadline longer than any measurement.
# Everything else (replay buffer sizes, ping interval, chunk size) stays at its default.
OURS_ENV = {
    "STREAMING_RATE_LIMIT": "100000000",
    "STREAMING_MAX_CONCURRENT_PER_IP": "100000",
    "STREAMING_TIMEOUT": "3600000",
    "STREAMING_RETRY_MS": str(RETRY_MS),
    "LOG_LEVEL": "WARNING",
}


def _params(request: Request) -> dict[str, Any]:
    q = request.query_params
    return {"n": int(q.get("n", "0")), "idle": q.get("idle", "0") == "1"}


async def _gc(request: Request) -> PlainTextResponse:
    return PlainTextResponse(str(gc.collect()))


def _lifespan():
    """cProfile from start-up to shutdown when BENCH_PROFILE names an output file."""
    out = os.environ.get("BENCH_PROFILE")
    if not out:
        return None

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        profiler = cProfile.Profile()
        profiler.enable()
        try:
            yield
        finally:
            profiler.disable()
            profiler.dump_stats(out)

    return lifespan


# --- the shared event source -------------------------------------------------------------

TEXT = ev.text("tok", "tok")  # fixed fullText: a growing one would make the run O(n^2)


async def text_events(params: dict[str, Any]) -> AsyncIterator[Event]:
    """The producer's own events: n text events, or nothing at all for an idle stream."""
    if params["idle"]:
        while True:
            await asyncio.sleep(IDLE_SLEEP_S)
    for _ in range(params["n"]):
        yield TEXT


async def full_sequence(params: dict[str, Any]) -> AsyncIterator[tuple[str, Event]]:
    """What the engine sends around `text_events`, built by hand for the two baselines:
    (id, event) for connected -> text... -> complete -> close."""
    stream_id = secrets.token_hex(6)
    started = time.perf_counter()
    seq = 1
    yield f"{stream_id}-{seq}", ev.connected(stream_id, "bench")
    async for event in text_events(params):
        seq += 1
        yield f"{stream_id}-{seq}", event
    seq += 1
    yield f"{stream_id}-{seq}", ev.complete(duration_ms=(time.perf_counter() - started) * 1000)
    seq += 1
    yield f"{stream_id}-{seq}", ev.close()


# --- (a) ours ----------------------------------------------------------------------------


def ours(frames: Any = None, turn: bool = False) -> Starlette:
    """`frames`: a protocol adapter's frame encoder (app/protocols/) in place of our SSE;
    `turn`: serve `agent_turn` at TURN_PATH instead of the text events at STREAM_PATH."""
    from app.platform import Platform
    from app.streams.endpoint import StreamEndpoint, stream_routes
    from config.settings import load_settings

    settings = load_settings(OURS_ENV, env_file=None)
    platform = Platform(settings)

    async def parse(request: Request) -> dict[str, Any]:
        return _params(request)

    async def produce(params: dict[str, Any], ctx: StreamContext) -> AsyncIterator[Event]:
        async for event in text_events(params):
            yield event

    async def parse_turn(request: Request) -> int:
        return int(request.query_params.get("tokens", str(TURN_TOKENS)))

    async def produce_turn(tokens: int, ctx: StreamContext) -> AsyncIterator[Event]:
        for event in agent_turn(tokens):
            yield event

    if turn:
        spec: StreamEndpoint[Any] = StreamEndpoint("bench_turn", parse_turn, produce_turn, frames=frames,
                                                   context=lambda tokens: TURN_CONTEXT)
        path = TURN_PATH
    else:
        spec = StreamEndpoint("bench", parse, produce, frames=frames)
        path = STREAM_PATH
    routes = stream_routes(spec, platform.streams, stream_path=path, json_path=None, methods=["GET"])
    # The app class the platform serves with (stream routes below the middleware stack).
    from app.main import StorestreamApp

    app = StorestreamApp(routes=[*routes, Route("/gc", _gc)], lifespan=_lifespan(),
                         closing=lambda: platform.runs.closing)
    return app


# --- (b) sse-starlette -------------------------------------------------------------------


def sse() -> Starlette:
    from sse_starlette.sse import EventSourceResponse

    async def dicts(params: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        async for event_id, event in full_sequence(params):
            item: dict[str, Any] = {"id": event_id, "event": event.type, "data": wire.dumps(event.data)}
            if event.type == "connected":
                item["retry"] = RETRY_MS
            yield item

    async def stream(request: Request) -> EventSourceResponse:
        return EventSourceResponse(dicts(_params(request)), sep="\n")

    return Starlette(routes=[Route(STREAM_PATH, stream), Route("/gc", _gc)], lifespan=_lifespan())


# --- (c) raw StreamingResponse -----------------------------------------------------------


def raw() -> Starlette:
    headers = {k.decode(): v.decode() for k, v in wire.HEADERS if k != b"content-type"}

    async def frames(params: dict[str, Any]) -> AsyncIterator[bytes]:
        async for event_id, event in full_sequence(params):
            yield wire.encode(event, event_id, retry_ms=RETRY_MS if event.type == "connected" else None)

    async def stream(request: Request) -> StreamingResponse:
        return StreamingResponse(
            frames(_params(request)), media_type="text/event-stream", headers=headers
        )

    return Starlette(routes=[Route(STREAM_PATH, stream), Route("/gc", _gc)], lifespan=_lifespan())


# --- (d) ours through a protocol adapter ----------------------------------------------------


def ours_openai() -> Starlette:
    """`ours`, its events written as OpenAI `chat.completion.chunk`s (app/protocols/openai_chat.py):
    role chunk, n content chunks, the stop chunk, `data: [DONE]`: n + 3 frames, as ours sends."""
    from app.protocols.openai_chat import ChunkFrames

    return ours(ChunkFrames)


# --- (e) one agent turn, natively and through each adapter ------------------------------------

TURN_PATH = "/turn"
TURN_TOKENS = 150  # an answer of about 150 tokens: a few sentences about the cards shown
TURN_CARDS = 8
TURN_AUDIO_BYTES = 6000  # one sentence of speech: about 6 KB of 48 kbit/s mp3, base64 on the wire
# What `connected` carries on the agent's routes (the AG-UI route adds the run's ids).
TURN_CONTEXT = {"session_id": "s-bench", "conversation_id": "c-bench", "message_id": "u-bench",
                "ag_ui_thread_id": "s-bench", "ag_ui_run_id": "run-bench"}


def turn_card(i: int) -> dict[str, Any]:
    """A product card as the agent sends it (app/streams/schema.py `ProductCard`)."""
    return {"sku": f"LEH-{1000 + i}", "title": f"Red silk lehenga with zari work, style {i}", "brand": "Kalki",
            "category": "lehenga", "subcategory": "bridal", "price": 18000 + 250 * i, "currency": "INR",
            "colors": ["red", "maroon"], "sizes": ["S", "M", "L", "XL"], "rating": 4.3, "in_stock": True,
            "image_url": f"/static/catalog/LEH-{1000 + i}.jpg",
            "attributes": {"fabric": "silk", "occasion": "wedding", "gender": "women", "work": "zari"},
            "score": 0.8123 - i / 100, "text_score": 7.42, "vector_score": 0.61}


def agent_turn(tokens: int = TURN_TOKENS) -> list[Event]:
    """The producer's events of one sales-agent turn, in the agent's order (app/agent/agent.py;
    the engine adds `connected`, `close` and the duration on `complete`): the intent, a tool
    call with its product cards, a market snapshot, the answer as `tokens` text events (each
    with the growing `fullText`, as the agent sends them), one sentence of speech per 50
    tokens, suggestions, `complete` with the agent's ids."""
    words = [f"word{i % 40} " for i in range(tokens)]
    speech = base64.b64encode(bytes(range(256)) * (TURN_AUDIO_BYTES // 256)).decode()
    cards = [turn_card(i) for i in range(TURN_CARDS)]
    out = [
        ev.results("intent", intent="browse_search", confidence=0.92, slots={"category": "lehenga"},
                   classified_as="browse_search", source="rule", clarify=False, filters={"max_price": 20000}),
        ev.progress("tool", "Searching the catalog", tool="search_catalog",
                    args={"query": "red lehenga", "max_price": 20000}),
        ev.results("product_cards", products=cards, total=37, relaxed=[]),
        ev.progress("tool", "Reading prices", tool="market_snapshot", args={"query": "red lehenga"}),
        ev.results("market_intelligence", matching=37, in_stock=31, median_price=17500, min_price=8200,
                   max_price=64000, top_brands=["Kalki", "Biba"], best_rated="LEH-1003"),
    ]
    text = ""
    for i, word in enumerate(words, 1):
        text += word
        out.append(ev.text(word, text))
        if i % 50 == 0:
            out.append(ev.audio(speech, i // 50, text[-60:]))
    out.append(ev.results("suggestions", suggestions=["Show cheaper ones", "In blue?", "Compare the first two"]))
    out.append(ev.complete(session_id="s-bench", conversation_id="c-bench", message_id="m-bench",
                           intent="browse_search", tools=["search_catalog", "market_snapshot"]))
    return out


def turn_native() -> Starlette:
    return ours(turn=True)


def turn_ai_sdk() -> Starlette:
    from app.protocols.ai_sdk_ui import UIMessageFrames

    return ours(UIMessageFrames, turn=True)


def turn_ag_ui() -> Starlette:
    from app.protocols.ag_ui import AgUiFrames

    return ours(AgUiFrames, turn=True)


def turn_openai() -> Starlette:
    from app.protocols.openai_chat import ChunkFrames

    return ours(ChunkFrames, turn=True)


FACTORIES = {"ours": "bench.servers:ours", "sse-starlette": "bench.servers:sse", "raw": "bench.servers:raw"}
# The adapters, measured beside `ours` for events/s only (bench/sse_engine.py), and what starts
# each of their frames on the wire (their frames have no `event:` line).
ADAPTERS = {"ours-openai": "bench.servers:ours_openai"}
ADAPTER_MARKS = {"ours-openai": b"\ndata: "}
# The agent turn's servers (`--adapters`): the native stream first, the peers it is compared to.
TURN_SERVERS = {"native": "bench.servers:turn_native", "ai-sdk": "bench.servers:turn_ai_sdk",
                "ag-ui": "bench.servers:turn_ag_ui", "openai": "bench.servers:turn_openai"}
