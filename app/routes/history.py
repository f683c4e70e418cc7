"""What the history endpoints share (a chat conversation, an agent session): a record looked up
by the one id in its path, 404 naming that id when there is none, and the replies such a GET
documents."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from pydantic import BaseModel
from starlette.requests import Request

from app.contracts.openapi import Operation, Reply
from app.contracts.reading import read_path
from app.errors import ErrorBody, found
from app.store.database import Database
from app.store.mongo import Store
from app.store.repositories import Doc


async def stored_record(
    database: Database, request: Request, path: type[BaseModel],
    lookup: Callable[[Store, str], Awaitable[Doc | None]], what: str,
) -> tuple[Store, str, Doc]:
    """The store, the id read by `path` (a model of one field) and its record, found by `lookup`."""
    store = database.require()
    field = next(iter(path.model_fields))
    key: str = getattr(read_path(request, path), field)
    return store, key, found(await lookup(store, key), f"no such {what}", field)


def record_operation(summary: str, path: type[BaseModel], answer: type[BaseModel], what: str) -> Operation:
    return Operation(summary, path=path, tags=("history",), replies={
        200: Reply(f"the {what}", answer),
        400: Reply("INVALID_PARAMETERS: the id is longer than 128 characters", ErrorBody),
        404: Reply(f"NOT_FOUND: no such {what}", ErrorBody),
        503: Reply("DB_UNAVAILABLE, SERVER_SHUTTING_DOWN", ErrorBody),
    })
