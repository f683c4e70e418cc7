"""An app for the engine's integration tests: the real `create_app` (engine, limiter, store)
plus producers written to exercise the engine: payloads with newlines, RTL text and emoji,
slow streams, failures. `GET /t/probe` reports what the producers saw (did `finally` run?),
so a test in another process can check cancellation.

Started by tests/support/server.py as `uvicorn --factory tests.support.stream_app:build`.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from functools import partial
from typing import Annotated, Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from app.auth import admin
from app.contracts.fields import QInt, QueryContract
from app.main import create_app
from app.platform import Platform
from app.streams import events as ev
from app.streams.endpoint import StreamEndpoint, stream_routes
from app.store.database import Database
from app.streams.engine import StreamContext
from app.streams.events import Event, StreamError

PROBE: dict[str, Any] = {"runs": Counter(), "finally": [], "cancelled": [], "tales": Counter()}

TRICKY = [
    "line one\nline two\r\nline three\rline four",
    "سلام دنیا — שלום עולם",
    "emoji 🛍️👗✨ and 👩🏽‍💻",
    "nul \x00 inside",
    "data: not a field\n\nevent: close",
]


class EchoQuery(QueryContract):
    n: Annotated[int, QInt(1, 1000, description="how many text events")] = 3


async def parse_echo(request: Request, args: EchoQuery) -> dict[str, Any]:
    return {"n": args.n}


async def echo(params: dict[str, Any], ctx: StreamContext) -> AsyncIterator[Event]:
    PROBE["runs"]["echo"] += 1
    yield ev.progress("start", "Echoing", count=params["n"])
    full = ""
    for i in range(params["n"]):
        token = TRICKY[i % len(TRICKY)]
        full += token
        yield ev.text(token, full)
    yield ev.results("suggestions", suggestions=TRICKY)
    yield ev.complete(total=params["n"])


async def parse_none(request: Request) -> dict[str, Any]:
    return dict(request.query_params)


async def parse_crash(request: Request) -> dict[str, Any]:
    """A bug in validation (not a BadRequest): must be a JSON 500 without internals."""
    raise RuntimeError("secret parser detail /etc/shadow")


async def _probed(ctx: StreamContext, events: AsyncIterator[Event]) -> AsyncIterator[Event]:
    """`events`, with `PROBE` told when the stream is cancelled and when its producer ends."""
    try:
        async for event in events:
            yield event
    except asyncio.CancelledError:
        PROBE["cancelled"].append(ctx.stream_id)
        raise
    finally:
        PROBE["finally"].append(ctx.stream_id)


async def _ticks(params: dict[str, Any]) -> AsyncIterator[Event]:
    PROBE["runs"]["slow"] += 1
    every = float(params.get("every", "1"))
    for i in range(int(60 / every)):
        yield ev.progress("tick", f"tick {i}", count=i)
        await asyncio.sleep(every)


def slow(params: dict[str, Any], ctx: StreamContext) -> AsyncIterator[Event]:
    """One progress event per `every` seconds for a minute, unless cancelled."""
    return _probed(ctx, _ticks(params))


async def _words(params: dict[str, Any], ctx: StreamContext) -> AsyncIterator[Event]:
    PROBE["runs"]["tale"] += 1
    PROBE["tales"][ctx.stream_id] += 1
    n, every = int(params.get("n", "20")), float(params.get("every", "0.1"))
    full = ""
    for i in range(n):
        token = f"word{i} "
        full += token
        yield ev.text(token, full)
        await asyncio.sleep(every)
    yield ev.complete(total=n)


def tale(params: dict[str, Any], ctx: StreamContext) -> AsyncIterator[Event]:
    """A long answer: `n` words, one `text` event per `every` seconds. `PROBE["tales"]` counts
    the runs per stream id (a resume must never run it again)."""
    return _probed(ctx, _words(params, ctx))


async def boom(params: dict[str, Any], ctx: StreamContext) -> AsyncIterator[Event]:
    yield ev.progress("start", "About to fail")
    raise RuntimeError("secret internal detail /etc/passwd")


async def refuse(params: dict[str, Any], ctx: StreamContext) -> AsyncIterator[Event]:
    yield ev.progress("start", "Checking")
    raise StreamError("UPSTREAM_UNAVAILABLE", "The model server is unavailable", retryable=True)


async def soft_error(params: dict[str, Any], ctx: StreamContext) -> AsyncIterator[Event]:
    yield ev.text("Hello.", "Hello.")
    yield ev.error("TTS_UNAVAILABLE", "Speech is unavailable", fatal=False)
    yield ev.text(" Still here.", "Hello. Still here.")


async def odd(params: dict[str, Any], ctx: StreamContext) -> AsyncIterator[Event]:
    """Payloads that cannot go on the wire as they are: a lone surrogate, NaN, a loop."""
    loop: dict[str, Any] = {"name": "loop"}
    loop["self"] = loop
    yield ev.progress("surrogate", "lone \ud800 surrogate", query="red \udfff kurta")
    yield ev.results("product_cards", products=[{"sku": "X", "price": float("nan")}], total=1)
    yield ev.progress("loop", "a payload that refers to itself", data=loop)
    yield ev.text("still \ud83d here", "still \ud83d here")


async def db_read(database: Database, params: dict[str, Any], ctx: StreamContext) -> AsyncIterator[Event]:
    """Touches the database, so an unreachable one must surface as DB_UNAVAILABLE."""
    store = database.store
    yield ev.progress("db", "Counting products")
    count = await store.products.count()
    yield ev.complete(total=count)


def endpoints(database: Database, admin_token: str) -> list[tuple[StreamEndpoint[Any], str, list[str]]]:
    return [*ENDPOINTS, *_bound(database, admin_token)]


ENDPOINTS = [
    (
        StreamEndpoint(
            "echo", parse_echo, echo, context=lambda p: {"n": p["n"]}, query=EchoQuery,
            summary="Echo tricky payloads",
            events=("connected", "progress", "text", "results:suggestions", "complete", "close"),
        ),
        "/t/echo",
        ["GET"],
    ),
    (StreamEndpoint("slow", parse_none, slow), "/t/slow", ["GET"]),
    (StreamEndpoint("boom", parse_none, boom), "/t/boom", ["GET"]),
    (StreamEndpoint("crash", parse_crash, boom), "/t/crash", ["GET"]),
    # Detachable, like the chat: it runs on after its client leaves (STREAM_DETACH_S).
    (StreamEndpoint("tale", parse_none, tale, detach=True), "/t/tale", ["GET"]),
    (StreamEndpoint("refuse", parse_none, refuse), "/t/refuse", ["GET"]),
    (StreamEndpoint("soft", parse_none, soft_error), "/t/soft", ["GET"]),
    # Odd payloads, and a `connected` context holding a lone surrogate.
    (StreamEndpoint("odd", parse_none, odd, context=lambda p: {"tag": "x \ud800 y"}), "/t/odd", ["GET"]),
]


def _bound(database: Database, admin_token: str) -> list[tuple[StreamEndpoint[Any], str, list[str]]]:
    """The endpoints that use the app's services."""
    return [
        # The same as the tale behind the admin token, like the context upload.
        (StreamEndpoint("vault", parse_none, tale, detach=True, authorize=admin(admin_token)), "/t/vault", ["GET"]),
        (StreamEndpoint("db", parse_none, partial(db_read, database)), "/t/db", ["GET"]),
    ]


async def probe(request: Request) -> JSONResponse:
    return JSONResponse({k: dict(v) if isinstance(v, Counter) else v for k, v in PROBE.items()})


async def put_note(request: Request) -> JSONResponse:
    """An acknowledged write, for the durability test (kill -9 of app and database)."""
    body = await request.json()
    await request.app.state.platform.store.products.upsert_many([{"sku": body["sku"], "title": body["title"]}])
    return JSONResponse({"ok": True})


async def get_note(request: Request) -> JSONResponse:
    doc = await request.app.state.platform.store.products.get(request.path_params["sku"])
    if doc is None:
        return JSONResponse({}, status_code=404)
    return JSONResponse({"sku": doc["sku"], "title": doc["title"]})


def build():
    app = create_app()
    platform: Platform = app.state.platform
    routes: list[BaseRoute] = []
    for spec, path, methods in endpoints(platform.database, platform.settings.admin_token):
        routes += stream_routes(spec, platform.streams, stream_path=f"{path}/stream", json_path=path, methods=methods)
    routes += [
        Route("/t/probe", probe),
        Route("/t/notes", put_note, methods=["POST"]),
        Route("/t/notes/{sku}", get_note),
    ]
    app.router.routes.extend(routes)
    return app
