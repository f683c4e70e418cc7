"""Catalog administration: products in and out, with the search indexes kept current.

    PUT    /api/catalog/products        admin; {"products": [...]} up to 1,000 per call
    DELETE /api/catalog/products/{sku}  admin
    GET    /api/catalog/stats           counts
"""

from __future__ import annotations

from collections import Counter

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.auth import require_admin
from app.catalog.validate import RowError, validate_product
from app.errors import BadRequest
from app.platform import Platform
from app.routes import params

MAX_BATCH = 1000


def _platform(request: Request) -> Platform:
    """The platform, its database known to be reachable (else 503 DB_UNAVAILABLE at once)."""
    platform: Platform = request.app.state.platform
    platform.require_store()
    return platform


async def put_products(request: Request) -> JSONResponse:
    """Validate every product; store and index the good ones; report the bad by index."""
    require_admin(request)
    platform = _platform(request)
    body = await params.json_object(request, max_bytes=16 * 1024 * 1024)
    rows = body.get("products")
    if not isinstance(rows, list) or not rows:
        raise BadRequest("products must be a non-empty list", field="products")
    if len(rows) > MAX_BATCH:
        raise BadRequest(f"at most {MAX_BATCH} products per request", field="products")
    good, errors = [], []
    for index, row in enumerate(rows):
        try:
            good.append(validate_product(row))
        except RowError as exc:
            errors.append({"index": index, "error": str(exc)})
    stored = await platform.search.embed(good)
    written = await platform.store.products.upsert_many(stored)
    platform.search.index(stored)
    return JSONResponse({"upserted": written, "errors": errors}, status_code=200 if good else 400)


async def delete_product(request: Request) -> Response:
    require_admin(request)
    platform = _platform(request)
    sku = request.path_params["sku"]
    removed = await platform.store.products.delete(sku)
    platform.search.unindex(sku)
    if not removed:
        raise BadRequest(f"no product with sku {sku!r}", status=404, code="NOT_FOUND", field="sku")
    return Response(status_code=204)


async def stats(request: Request) -> JSONResponse:
    platform = _platform(request)
    table = platform.search.table.products.values()
    return JSONResponse(
        {
            "products": await platform.store.products.count(),
            "indexed": len(platform.search.table),
            "with_vectors": len(platform.search.vectors),
            "in_stock": sum(1 for p in table if p.get("in_stock", True)),
            "categories": dict(Counter(p.get("category", "") for p in table).most_common()),
        }
    )


put_products.__openapi__ = {  # type: ignore[attr-defined]
    "put": {"summary": "Upsert products by sku (admin)", "responses": {"200": {"description": "counts and row errors"}}}
}
delete_product.__openapi__ = {  # type: ignore[attr-defined]
    "delete": {"summary": "Delete a product (admin)", "responses": {"204": {"description": "deleted"}}}
}
stats.__openapi__ = {  # type: ignore[attr-defined]
    "get": {"summary": "Catalog counts", "responses": {"200": {"description": "counts"}}}
}


def routes() -> list[Route]:
    return [
        Route("/api/catalog/products", put_products, methods=["PUT"]),
        Route("/api/catalog/products/{sku}", delete_product, methods=["DELETE"]),
        Route("/api/catalog/stats", stats, methods=["GET"]),
    ]
