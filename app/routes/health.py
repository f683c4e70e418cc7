"""`GET /healthz`: is this instance ready to serve, and if not, why."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def healthz(request: Request) -> JSONResponse:
    """Readiness of the database, its indexes and the models, with reasons (503 when not ready)."""
    platform = request.app.state.platform
    store = platform.store
    db: dict = {"ready": False, "backend": platform.db_backend}
    if store is None:
        db["reason"] = "not started"
    else:
        try:
            await store.ping()
            db["ready"] = True
        except Exception as exc:  # noqa: BLE001 - any failure is "not ready", with its kind
            db["reason"] = f"{type(exc).__name__}: cannot reach the database"
    indexes = {"ready": bool(store and store.indexes_ready)}
    if not indexes["ready"]:
        indexes["reason"] = platform.db_error or "not created yet"
    models: dict = {"ready": True, "loaded": sorted(platform.models.values())}
    embedder = platform.embedder
    if embedder is not None and not embedder.ready:
        models["ready"] = False
        models["reason"] = embedder.error or "loading the embedding model"
    search = platform.search.health()
    search["ready"] = platform.search.ready
    ready = db["ready"] and indexes["ready"] and models["ready"] and search["ready"]
    body = {
        "status": "ok" if ready else "degraded",
        "checks": {"db": db, "indexes": indexes, "models": models, "search": search},
    }
    return JSONResponse(body, status_code=200 if ready else 503)


healthz.__openapi__ = {  # type: ignore[attr-defined]
    "get": {
        "summary": "Readiness of the database, indexes and models",
        "responses": {"200": {"description": "ready"}, "503": {"description": "not ready, with reasons"}},
    }
}


def routes() -> list[Route]:
    return [Route("/healthz", healthz, methods=["GET"])]
