"""A merchant's synonyms and search rules (admin), applied by every instance within SEARCH_SYNC_S.

    GET    /api/merchandising                 admin; {synonyms: [...], rules: [...]}
    PUT    /api/merchandising/synonyms/{id}   admin; {terms: [...], one_way?}
    DELETE /api/merchandising/synonyms/{id}   admin
    PUT    /api/merchandising/rules/{id}      admin; {query?, match?, filters?, pins?, hide?, boosts?, priority?}
    DELETE /api/merchandising/rules/{id}      admin

What they do: app/search/merchandising.py. A write is in force on this instance at once (the
set is read again from the store) and on the others at their next sync. At most
`MAX_SYNONYMS` synonym sets and `MAX_RULES` rules: every instance holds them all and checks
every rule on every search.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.auth import ADMIN_REPLIES, Authorize
from app.contracts.fields import Contract, Flag, Int, Num, Payload, QueryContract, Text, example
from app.contracts.openapi import ApiRoute, Operation, Reply
from app.contracts.reading import read_json, read_path
from app.errors import BadRequest, ErrorBody, not_found
from app.responses import JSONResponse
from app.routes.body import Bodies
from app.search.merchandising import BOOST_FIELDS, Book
from app.store.database import Database

MAX_SYNONYMS = 5000
MAX_RULES = 1000
MAX_BODY = 256 * 1024
ID_PATTERN = r"^[A-Za-z0-9._-]+$"

Phrase = Annotated[str, Text(128, min_len=1)]
Sku = Annotated[str, Text(64, min_len=1)]


class ItemPath(QueryContract):
    model_config = example(id="tee")

    id: Annotated[str, Text(64, min_len=1, pattern=ID_PATTERN,
                            description="yours to choose: letters, digits, `.`, `_`, `-`")]


class SynonymBody(Contract):
    """Two-way (every phrase stands for the others) or one-way (the first finds the rest)."""

    model_config = example(terms=["tee", "t-shirt"], one_way=False)

    terms: list[Phrase] = Field(min_length=2, max_length=20)
    one_way: Flag = Field(default=False, description="the first phrase finds the others, not the reverse")


class PinBody(Contract):
    sku: Sku
    position: Annotated[int, Int(1, 1000, description="1 = first")]


class BoostBody(Contract):
    field: Annotated[str, Text(80, min_len=1, description=f"one of {', '.join(BOOST_FIELDS)}, or `attributes.<name>`")]
    value: Annotated[str, Text(128, min_len=1)] | bool
    weight: Annotated[float, Num(-100, 100, description="> 0 boosts, < 0 buries; 1 is about twice the reciprocal rank")]

    @model_validator(mode="after")
    def _known_field(self) -> BoostBody:
        name = self.field
        if name not in BOOST_FIELDS and not (name.startswith("attributes.") and len(name) > len("attributes.")):
            raise ValueError(f"field must be one of {', '.join(BOOST_FIELDS)} or attributes.<name>")
        if self.weight == 0:
            raise ValueError("weight must not be 0")
        return self


class RuleBody(Contract):
    """When it applies (`query` and/or `filters`; neither: every search) and what it does."""

    model_config = example(query="wedding saree", match="contains", pins=[{"sku": "SS-000001", "position": 1}],
                           hide=[], boosts=[{"field": "in_stock", "value": False, "weight": -2}])

    query: Phrase | None = None
    match: Literal["exact", "contains"] = "exact"
    filters: dict[Annotated[str, Text(32, min_len=1)], Annotated[str, Text(64, min_len=1)]] = Field(
        default_factory=dict, max_length=8, description="the search's applied filters, e.g. {\"category\": \"saree\"}")
    pins: list[PinBody] = Field(default_factory=list, max_length=50)
    hide: list[Sku] = Field(default_factory=list, max_length=500)
    boosts: list[BoostBody] = Field(default_factory=list, max_length=20)
    priority: Annotated[int, Int(-1000, 1000, description="lower applies first; a later pin wins")] = 0

    @model_validator(mode="after")
    def _does_something(self) -> RuleBody:
        if not (self.pins or self.hide or self.boosts):
            raise ValueError("a rule needs at least one of pins, hide, boosts")
        return self


class Saved(Payload):
    """What was stored: the id and the fields as put (their defaults filled in)."""

    id: str


class MerchandisingSet(Payload):
    synonyms: list[dict[str, Any]] = Field(description="each `{id, terms, one_way}`")
    rules: list[dict[str, Any]] = Field(description="each `{id, ...}` as it was put")


@dataclass(frozen=True, slots=True)
class MerchandisingDeps:
    database: Database
    book: Book
    admin: Authorize
    bodies: Bodies


def _listed(doc: dict[str, Any]) -> dict[str, Any]:
    kind, _, item_id = str(doc["_id"]).partition(":")
    return {"id": item_id, **{k: v for k, v in doc.items() if k not in ("_id", "kind", "updated_at")}}


async def list_all(deps: MerchandisingDeps, request: Request) -> JSONResponse:
    deps.admin(request)
    docs = await deps.database.require().merchandising.all()
    return JSONResponse({"synonyms": [_listed(d) for d in docs if d.get("kind") == "synonym"],
                         "rules": [_listed(d) for d in docs if d.get("kind") == "rule"]})


async def put_item(deps: MerchandisingDeps, kind: str, request: Request) -> JSONResponse:
    deps.admin(request)
    store = deps.database.require()
    item_id = read_path(request, ItemPath).id
    body = await read_json(request, SynonymBody if kind == "synonym" else RuleBody, bodies=deps.bodies,
                           max_bytes=MAX_BODY)
    cap = MAX_SYNONYMS if kind == "synonym" else MAX_RULES
    repo = store.merchandising
    fields = body.model_dump(exclude_none=True)
    if await repo.count(kind) >= cap and not await repo.has(kind, item_id):
        raise BadRequest(f"at most {cap} {kind}s; delete one first", status=409, code="TOO_MANY", field="id")
    created = await repo.put(kind, item_id, fields)
    await deps.book.load(repo)
    return JSONResponse({"id": item_id, **fields}, status_code=201 if created else 200)


async def delete_item(deps: MerchandisingDeps, kind: str, request: Request) -> Response:
    deps.admin(request)
    store = deps.database.require()
    item_id = read_path(request, ItemPath).id
    if not await store.merchandising.delete(kind, item_id):
        raise not_found(f"no {kind} with id {item_id!r}", "id")
    await deps.book.load(store.merchandising)
    return Response(status_code=204)


def _put(kind: str, body: type[Contract]) -> Operation:
    return Operation(
        f"Create or replace a {kind} (admin)", path=ItemPath, body=body, admin=True, tags=("merchandising",),
        description="In force on this instance at once, on the others within SEARCH_SYNC_S.",
        replies={200: Reply("replaced", Saved), 201: Reply("created", Saved),
                 400: Reply("INVALID_PARAMETERS: the field at fault in `field`", ErrorBody),
                 409: Reply(f"TOO_MANY: the {kind}s are at their cap", ErrorBody),
                 408: Reply("BODY_TIMEOUT: the body stopped arriving", ErrorBody),
                 413: Reply("BODY_TOO_LARGE: over 256 KB", ErrorBody),
                 415: Reply("UNSUPPORTED_MEDIA_TYPE: not JSON", ErrorBody), **ADMIN_REPLIES})


def _delete(kind: str) -> Operation:
    return Operation(f"Delete a {kind} (admin)", path=ItemPath, admin=True, tags=("merchandising",), replies={
        204: Reply("deleted"), 400: Reply("INVALID_PARAMETERS: not an id", ErrorBody),
        404: Reply(f"NOT_FOUND: no {kind} with that id", ErrorBody), **ADMIN_REPLIES})


LIST = Operation("Synonyms and search rules (admin)", admin=True, tags=("merchandising",),
                 replies={200: Reply("every synonym set and rule", MerchandisingSet), **ADMIN_REPLIES})


def routes(deps: MerchandisingDeps) -> list[Route]:
    out: list[Route] = [ApiRoute("/api/merchandising", partial(list_all, deps), methods=["GET"], operation=LIST)]
    for kind, path, body in (("synonym", "synonyms", SynonymBody), ("rule", "rules", RuleBody)):
        out += [
            ApiRoute(f"/api/merchandising/{path}/{{id}}", partial(put_item, deps, kind), methods=["PUT"],
                     operation=_put(kind, body)),
            ApiRoute(f"/api/merchandising/{path}/{{id}}", partial(delete_item, deps, kind), methods=["DELETE"],
                     operation=_delete(kind)),
        ]
    return out
