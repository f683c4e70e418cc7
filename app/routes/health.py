"""`GET /healthz`: is this instance ready to serve, and if not, why."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from pydantic import Field
from starlette.requests import Request
from starlette.routing import Route

from app.contracts.fields import Absent, Payload
from app.contracts.openapi import ApiRoute, Operation, Reply
from app.errors import ErrorBody
from app.redis_link import RedisLinks, Unavailable
from app.responses import JSONResponse
from app.search.embedder import Embedder
from app.search.service import SearchService
from app.store.database import Database
from app.threads import blas_threads


class Check(Payload):
    ready: bool
    reason: str = Absent("why not ready")


class Health(Payload):
    status: Literal["ok", "degraded"]
    checks: dict[str, Check] = Field(description="db, indexes, models (with thread counts), search, redis (when configured)")


@dataclass(frozen=True, slots=True)
class HealthDeps:
    """What readiness is made of: the database, the models loaded so far (name -> what, filled
    by the platform as they load), the embedder, the search index, the Redis servers shared
    with other instances, and whether this instance needs them to serve (a Redis rate limit
    that fails closed)."""

    database: Database
    models: dict[str, str]
    torch_threads: int
    embedder: Embedder | None
    search: SearchService
    redis: RedisLinks
    redis_required: bool


async def healthz(deps: HealthDeps, request: Request) -> JSONResponse:
    """Readiness of the database, its indexes and the models, with reasons (503 when not ready)."""
    database = deps.database
    store = database.connected
    state = database.state
    db: dict[str, Any] = {"ready": False, "backend": database.backend}
    if store is None:
        db["reason"] = "not started"
    elif state.down:  # known: no ping (it would wait MONGODB_TIMEOUT_MS); the supervisor pings
        db["reason"] = state.reason
        db["down_s"] = round(state.down_for(), 1)
    else:
        try:
            await store.ping()
            db["ready"] = True
        except Exception as exc:  # noqa: BLE001 - any failure is "not ready", with its kind
            db["reason"] = f"{type(exc).__name__}: cannot reach the database"
            database.failed(db["reason"])
    if state.restarts:
        db["restarts"] = state.restarts  # of the embedded server, by the supervisor
    indexes: dict[str, Any] = {"ready": bool(store and store.indexes_ready)}
    if not indexes["ready"]:
        indexes["reason"] = database.error or "not created yet"
    models: dict[str, Any] = {"ready": True, "loaded": sorted(deps.models.values()),
                              "threads": {"torch": deps.torch_threads, "blas": blas_threads()}}
    embedder = deps.embedder
    if embedder is not None and not embedder.ready:
        models["ready"] = False
        models["reason"] = embedder.error or "loading the embedding model"
    search = deps.search.health()
    search["ready"] = deps.search.ready
    ready = db["ready"] and indexes["ready"] and models["ready"] and search["ready"]
    checks = {"db": db, "indexes": indexes, "models": models, "search": search}
    if redis := await _redis(deps.redis, required=deps.redis_required):
        checks["redis"] = redis
        ready = ready and (redis["ready"] or not redis["required"])
    body = {"status": "ok" if ready else "degraded", "checks": checks}
    return JSONResponse(body, status_code=200 if ready else 503)


async def _redis(redis: RedisLinks, *, required: bool) -> dict[str, Any] | None:
    """The Redis servers this instance shares with others (None when it uses none): each
    pinged within REDIS_TIMEOUT_MS. Required for readiness only when the rate limiter lives
    there and fails closed: then a Redis outage means this instance refuses every stream."""
    links = list(redis)
    if not links:
        return None
    servers = []
    for link in links:
        entry: dict[str, Any] = {"url": link.outage.url, "ready": True}
        try:
            await link.call("health check", "/healthz reports it", lambda client: client.ping())
        except Unavailable:
            entry["ready"] = False
            entry["reason"] = "unreachable"
        servers.append(entry)
    return {"ready": all(s["ready"] for s in servers), "required": required, "servers": servers}


HEALTH = Operation("Readiness of the database, indexes, models and search, with reasons", tags=("operations",),
                   replies={
    200: Reply("ready", Health),
    503: Reply("not ready, with reasons (or SERVER_SHUTTING_DOWN)", (Health, ErrorBody)),
})


def routes(deps: HealthDeps) -> list[Route]:
    return [ApiRoute("/healthz", partial(healthz, deps), methods=["GET"], operation=HEALTH)]
