"""`GET /healthz`: is this instance ready to serve, and if not, why."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app.redis_link import Unavailable, is_redis
from app.threads import blas_threads


async def healthz(request: Request) -> JSONResponse:
    """Readiness of the database, its indexes and the models, with reasons (503 when not ready)."""
    platform = request.app.state.platform
    store = platform.store
    state = platform.db
    db: dict = {"ready": False, "backend": platform.db_backend}
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
            platform.db_failed(db["reason"])
    if state.restarts:
        db["restarts"] = state.restarts  # of the embedded server, by the supervisor
    indexes = {"ready": bool(store and store.indexes_ready)}
    if not indexes["ready"]:
        indexes["reason"] = platform.db_error or "not created yet"
    models: dict = {"ready": True, "loaded": sorted(platform.models.values()),
                    "threads": {"torch": platform.settings.torch_threads, "blas": blas_threads()}}
    embedder = platform.embedder
    if embedder is not None and not embedder.ready:
        models["ready"] = False
        models["reason"] = embedder.error or "loading the embedding model"
    search = platform.search.health()
    search["ready"] = platform.search.ready
    ready = db["ready"] and indexes["ready"] and models["ready"] and search["ready"]
    checks = {"db": db, "indexes": indexes, "models": models, "search": search}
    if redis := await _redis(platform):
        checks["redis"] = redis
        ready = ready and (redis["ready"] or not redis["required"])
    body = {"status": "ok" if ready else "degraded", "checks": checks}
    return JSONResponse(body, status_code=200 if ready else 503)


async def _redis(platform) -> dict | None:
    """The Redis servers this instance shares with others (None when it uses none): each
    pinged within REDIS_TIMEOUT_MS. Required for readiness only when the rate limiter lives
    there and fails closed: then a Redis outage means this instance refuses every stream."""
    links = list(platform.redis)
    if not links:
        return None
    settings = platform.settings
    servers = []
    for link in links:
        entry: dict = {"url": link.outage.url, "ready": True}
        try:
            await link.call("health check", "/healthz reports it", lambda client: client.ping())
        except Unavailable:
            entry["ready"] = False
            entry["reason"] = "unreachable"
        servers.append(entry)
    required = is_redis(settings.rate_limit_storage_url) and not settings.rate_limit_fail_open
    return {"ready": all(s["ready"] for s in servers), "required": required, "servers": servers}


healthz.__openapi__ = {  # type: ignore[attr-defined]
    "get": {
        "summary": "Readiness of the database, indexes and models",
        "responses": {"200": {"description": "ready"}, "503": {"description": "not ready, with reasons"}},
    }
}


def routes() -> list[Route]:
    return [Route("/healthz", healthz, methods=["GET"])]
