"""Catalog administration: products in and out, with the search indexes kept current.

    PUT    /api/catalog/products        admin; {"products": [...]} up to 1,000 per call
    DELETE /api/catalog/products/{sku}  admin
    GET    /api/catalog/stats           counts

A PUT validates every row on its own (`ProductRow`, app/catalog/validate.py): the good ones
are stored and indexed, each bad one is reported as `{index, sku?, field, message}` (`field`
the dotted path, `products.3.price`), and nothing that was refused can fail the write after
the good rows landed. Only a body that is not a JSON object with 1 to 1,000 `products` is
refused as a whole; so is a body where no row is good (400, with the same row errors).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any

from pydantic import Field, SkipValidation
from pydantic_core import from_json
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.auth import ADMIN_REPLIES, Authorize
from app.catalog.validate import ProductRow, RowError, validate_product
from app.contracts.fields import Absent, Contract, Payload, QueryContract, Text, example
from app.contracts.openapi import ApiRoute, Operation, Reply
from app.contracts.reading import read_path, require_json, validate
from app.errors import BadRequest, ErrorBody, not_found
from app.responses import JSONResponse
from app.routes.body import Bodies
from app.search.service import SearchService
from app.store.database import Database

MAX_BATCH = 1000
MAX_BYTES = 16 * 1024 * 1024


class CatalogPut(Contract):
    """Products to insert or replace, by `sku`. Each row is validated on its own."""

    model_config = example(products=[{
        "sku": "SS-EXAMPLE-1", "title": "Rani Pink Banarasi Silk Saree with Zari Border", "brand": "Chandbagh",
        "category": "saree", "colors": ["pink"], "sizes": ["Free Size"], "price": 7499, "in_stock": True,
        "rating": 4.4, "attributes": {"fabric": "silk", "occasion": "wedding"},
    }])

    products: list[SkipValidation[ProductRow]] = Field(min_length=1, max_length=MAX_BATCH)


class RowProblem(Payload):
    index: int = Field(description="the row's position in `products`, from 0")
    sku: str = Absent("the row's sku, when it has a usable one")
    field: str = Field(description="the dotted path of the field at fault: `products.3.price`, "
                                   "`products.0.attributes.fabric`; `products.3` when the row is not an object")
    message: str = Field(description="what is wrong, relative to the row: `price must be a number`")


class CatalogPutResult(Payload):
    upserted: int = Field(description="rows stored (inserted or replaced)")
    errors: list[RowProblem] = Field(description="the rows refused, in order")


class CatalogRefusal(ErrorBody):
    """No row was good: the first problem names the field, `errors` lists every row's."""

    upserted: int
    errors: list[RowProblem]


class SkuPath(QueryContract):
    model_config = example(sku="SS-EXAMPLE-1")  # the product CatalogPut's example stores

    sku: Annotated[str, Text(64, min_len=1)]


class CatalogStats(Payload):
    products: int = Field(description="in the store")
    indexed: int = Field(description="in the search index")
    with_vectors: int
    in_stock: int
    categories: dict[str, int]


@dataclass(frozen=True, slots=True)
class CatalogDeps:
    """What the catalog routes use: the database, the search index kept current with it, the
    admin check and the body bounds."""

    database: Database
    search: SearchService
    admin: Authorize
    bodies: Bodies


def _json_value(body: bytes) -> Any:
    """The body as JSON, NaN, Infinity and 1e400 included (a row holding one is refused on its
    own, with the others stored). A lone surrogate is read by Python's parser, so that it too
    is refused per row; nesting past 200 levels or broken JSON refuses the whole body."""
    if not body.strip():
        raise BadRequest("a JSON object body is required", field="body")
    try:
        return from_json(body, allow_inf_nan=True)
    except ValueError as exc:
        detail = str(exc)
        if "recursion limit" in detail:
            raise BadRequest("body is nested too deeply (JSON nested past 200 levels)", field="body") from None
        if "escape" in detail or "surrogate" in detail:
            try:
                return json.loads(body)
            except (ValueError, RecursionError):
                pass
        raise BadRequest(f"body is not valid JSON ({detail})", field="body") from None


def _usable_sku(row: Any) -> str | None:
    sku = row.get("sku") if isinstance(row, dict) else None
    if isinstance(sku, str):
        try:
            return validate_product({"sku": sku, "title": "-"})["sku"]
        except RowError:
            return None
    return None


async def put_products(deps: CatalogDeps, request: Request) -> JSONResponse:
    """Validate every product; store and index the good ones; report the bad by index."""
    deps.admin(request)
    store = deps.database.require()  # else 503 DB_UNAVAILABLE at once
    require_json(request)
    body = await deps.bodies.reader(request, MAX_BYTES).read()
    batch = validate(CatalogPut, _json_value(body))
    good, errors = [], []
    for index, row in enumerate(batch.products):
        try:
            good.append(validate_product(row))
        except RowError as exc:
            problem: dict[str, Any] = {"index": index}
            if (sku := _usable_sku(row)) is not None:
                problem["sku"] = sku
            problem["field"] = f"products.{index}" + (f".{exc.field}" if exc.field else "")
            problem["message"] = str(exc)
            errors.append(problem)
    if not good:
        first = errors[0]
        raise BadRequest(f"no product could be stored: {first['message']}", field=first["field"],
                         extra={"upserted": 0, "errors": errors})
    stored = await deps.search.embed(good)
    written = await store.products.upsert_many(stored)
    deps.search.index(stored)
    return JSONResponse({"upserted": written, "errors": errors})


async def delete_product(deps: CatalogDeps, request: Request) -> Response:
    deps.admin(request)
    store = deps.database.require()
    sku = read_path(request, SkuPath).sku
    removed = await store.products.delete(sku)
    deps.search.unindex(sku)
    if not removed:
        raise not_found(f"no product with sku {sku!r}", "sku")
    return Response(status_code=204)


async def stats(deps: CatalogDeps, request: Request) -> JSONResponse:
    store = deps.database.require()
    search = deps.search
    count = await store.products.count()
    table = search.indexed()
    return JSONResponse(
        {
            "products": count,
            "indexed": len(table),
            "with_vectors": search.health()["vectors"],
            "in_stock": sum(1 for p in table if p.get("in_stock", True)),
            "categories": dict(Counter(p.get("category", "") for p in table).most_common()),
        }
    )


PUT = Operation(
    "Insert or replace products by sku (admin)", body=CatalogPut, admin=True, tags=("catalog",),
    description="Each row is validated on its own: the good ones are stored and indexed at once, the bad ones "
                "listed in `errors` (`{index, sku?, field, message}`).",
    replies={
        200: Reply("at least one row stored; `errors` lists the rows refused", CatalogPutResult),
        400: Reply("the body is not a JSON object with 1 to 1,000 `products` (the field is named), or no row "
                   "could be stored (`errors` lists why, row by row)", (CatalogRefusal, ErrorBody)),
        **ADMIN_REPLIES,
        408: Reply("BODY_TIMEOUT: the body stopped arriving", ErrorBody),
        413: Reply("BODY_TOO_LARGE: over 16 MB", ErrorBody),
        415: Reply("UNSUPPORTED_MEDIA_TYPE: not JSON", ErrorBody),
    },
    models=(ProductRow,),
)
DELETE = Operation(
    "Delete a product (admin)", path=SkuPath, admin=True, tags=("catalog",), replies={
        204: Reply("deleted"),
        400: Reply("INVALID_PARAMETERS: the sku is longer than 64 characters", ErrorBody),
        **ADMIN_REPLIES,
        404: Reply("NOT_FOUND: no product with that sku", ErrorBody),
    })
STATS = Operation(
    "Catalog counts", tags=("catalog",), replies={
        200: Reply("counts", CatalogStats),
        503: Reply("DB_UNAVAILABLE, SERVER_SHUTTING_DOWN", ErrorBody),
    })


def routes(deps: CatalogDeps) -> list[Route]:
    return [
        ApiRoute("/api/catalog/products", partial(put_products, deps), methods=["PUT"], operation=PUT),
        ApiRoute("/api/catalog/products/{sku}", partial(delete_product, deps), methods=["DELETE"], operation=DELETE),
        ApiRoute("/api/catalog/stats", partial(stats, deps), methods=["GET"], operation=STATS),
    ]


