"""`/openapi.json`, built in one place from the routes' `Operation` declarations and the
models they name: path, query and header parameters, JSON and multipart request bodies, every
status a route answers with its body schema, the bearer scheme of the admin routes, and the
Server-Sent Events responses with one schema per event.

A route declares itself by being an `ApiRoute` (a Starlette `Route` that carries its
`Operation`); `stream_routes` (app/streams/endpoint.py) builds those of the streaming
endpoints from their `StreamEndpoint`. `build_openapi(app.routes)` reads them all.

Event streams: OpenAPI 3.1 has no keyword for one schema per event; the `text/event-stream`
schema here describes one item of the stream as OpenAPI 3.2 does (`{event, data, id, retry}`,
`data` being JSON text whose `contentSchema` is the event's payload), which is how
schemathesis validates streams in 3.1 documents too (its `schema` is read per event there).
Explorers do not read that schema as a sequence: the 200's description and example list the
events in order (app/contracts/stream_doc.py).

Examples: a contract declares one example request as its model's JSON Schema `examples`
(`model_config = example(...)`, app/contracts/fields.py); the builder copies it to where
explorers and schemathesis read it: each parameter's `example`, the request body's `example`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, models_json_schema
from starlette.routing import BaseRoute, Route

from app.contracts import stream_doc

REF = "#/components/schemas/{model}"
ADMIN_SCHEME = "adminToken"


class _NoFieldTitles(GenerateJsonSchema):
    """Field titles ("Limit" for `limit`) say nothing the name does not; model titles stay."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def json_schema(model: type[BaseModel], *, mode: str = "validation") -> dict[str, Any]:
    """A model's JSON Schema on its own (nested models under `$defs`), without field titles:
    what function calling and tests use."""
    return tidy(model.model_json_schema(mode=mode, schema_generator=_NoFieldTitles))  # type: ignore[arg-type]


def _allows_null(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    return any(isinstance(s, dict) and _allows_null(s) for s in [*schema.get("anyOf", ()), *schema.get("oneOf", ())])


def tidy(schema: Any) -> Any:
    """A `default: null` on a field that may be absent but never null (`x: int = None`) is no
    value of its schema: such defaults are dropped (an absent field has no value)."""
    if isinstance(schema, dict):
        if "default" in schema and schema["default"] is None and not _allows_null(schema):
            del schema["default"]
        for value in schema.values():
            tidy(value)
    elif isinstance(schema, list):
        for value in schema:
            tidy(value)
    return schema


Schema = type[BaseModel] | dict[str, Any]


@dataclass(frozen=True)
class Reply:
    """One documented response: its description, and its body's schema (a model, or a
    schema dict that may `$ref` models listed in `refs`), as `media`."""

    description: str
    body: Schema | Sequence[Schema] | None = None  # a sequence: any of these
    media: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)  # header name -> description
    more: dict[str, dict[str, Any]] = field(default_factory=dict)  # other media types -> their schemas


@dataclass(frozen=True)
class Operation:
    summary: str
    replies: dict[int, Reply]
    description: str = ""
    query: type[BaseModel] | None = None
    path: type[BaseModel] | None = None
    body: type[BaseModel] | None = None  # application/json
    form: type[BaseModel] | None = None  # multipart/form-data
    headers: tuple[dict[str, Any], ...] = ()  # OpenAPI header parameters (e.g. Last-Event-ID)
    admin: bool = False  # needs `Authorization: Bearer <ADMIN_TOKEN>`
    tags: tuple[str, ...] = ()
    extensions: dict[str, Any] = field(default_factory=dict)  # x-... fields
    # The schema of a `text/event-stream` 200 (built by the stream endpoint), if any.
    stream: Callable[[], dict[str, Any]] | None = None
    models: tuple[type[BaseModel], ...] = ()  # models the hand-built parts above refer to

    def schemas(self) -> Iterable[type[BaseModel]]:
        for model in (self.query, self.path, self.body, self.form, *self.models):
            if model is not None:
                yield model
        for reply in self.replies.values():
            yield from _models_of(reply.body)


def _models_of(body: Any) -> Iterable[type[BaseModel]]:
    if isinstance(body, type) and issubclass(body, BaseModel):
        yield body
    elif isinstance(body, (list, tuple)):
        for item in body:
            yield from _models_of(item)


class ApiRoute(Route):
    """A Route that documents itself: one `Operation` per method (HEAD follows GET)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], *, methods: Sequence[str],
                 operation: Operation | dict[str, Operation], **options: Any) -> None:
        super().__init__(path, endpoint, methods=list(methods), **options)
        if isinstance(operation, Operation):
            operation = {m.lower(): operation for m in methods if m.upper() != "HEAD"}
        self.operations: dict[str, Operation] = operation


def ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _schema_of(body: Any) -> dict[str, Any]:
    if isinstance(body, type) and issubclass(body, BaseModel):
        return ref(body)
    if isinstance(body, dict):
        return body
    items = [_schema_of(item) for item in body]
    return items[0] if len(items) == 1 else {"anyOf": items}


def _model_schema(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    """The model's own schema as collected into components (properties, required)."""
    return components[model.__name__]


def _example(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any] | None:
    """The model's declared example request (the first of its schema's `examples`), if any."""
    examples = _model_schema(model, components).get("examples")
    return examples[0] if examples else None


def _parameters(model: type[BaseModel], where: str, components: dict[str, Any]) -> list[dict[str, Any]]:
    schema = _model_schema(model, components)
    required = set(schema.get("required", ()))
    example = _example(model, components) or {}
    out = []
    for name, prop in schema.get("properties", {}).items():
        prop = dict(prop)
        description = prop.pop("description", None)
        param: dict[str, Any] = {"name": name, "in": where, "required": where == "path" or name in required,
                                 "schema": prop}
        if description:
            param["description"] = description
        if name in example:
            param["example"] = example[name]
        if where == "query" and prop.get("type") == "array":
            param["style"], param["explode"] = "form", False  # color=red,blue
        out.append(param)
    return out


def _operation(op: Operation, components: dict[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = {"summary": op.summary}
    if op.description:
        doc["description"] = op.description
    if op.tags:
        doc["tags"] = list(op.tags)
    parameters: list[dict[str, Any]] = []
    if op.path is not None:
        parameters += _parameters(op.path, "path", components)
    if op.query is not None:
        parameters += _parameters(op.query, "query", components)
    parameters += [dict(h) for h in op.headers]
    if parameters:
        doc["parameters"] = parameters
    if op.body is not None:
        media: dict[str, Any] = {"schema": ref(op.body)}
        if (example := _example(op.body, components)) is not None:
            media["example"] = example
        doc["requestBody"] = {"required": True, "content": {"application/json": media}}
    elif op.form is not None:
        media = {"schema": ref(op.form), "encoding": {"file": {"contentType": "application/octet-stream"}}}
        if (example := _example(op.form, components)) is not None:
            media["example"] = example
            # Explorers fill a form's fields from each field's own examples, not the body's.
            fields = _model_schema(op.form, components).get("properties", {})
            for name, value in example.items():
                fields.get(name, {}).setdefault("examples", [value])
        doc["requestBody"] = {"required": True, "content": {"multipart/form-data": media}}
    responses: dict[str, Any] = {}
    for status, reply in sorted(op.replies.items()):
        item: dict[str, Any] = {"description": reply.description}
        if status == 200 and op.stream is not None:
            stream = op.stream()
            item["content"] = {"text/event-stream": {"schema": stream}}
            events = op.extensions.get("x-events")
            item["content"]["text/event-stream"]["example"] = stream_doc.example(events, stream, components)
            item["description"] = stream_doc.description(reply.description, events, stream, components)
        elif reply.body is not None:
            item["content"] = {reply.media: {"schema": _schema_of(reply.body)}}
        elif reply.media != "application/json":
            item["content"] = {reply.media: {"schema": {"type": "string"}}}
        if reply.more:
            item.setdefault("content", {}).update({media: {"schema": schema} for media, schema in reply.more.items()})
        if reply.headers:
            item["headers"] = {name: {"description": text, "schema": {"type": "string"}}
                               for name, text in reply.headers.items()}
        responses[str(status)] = item
    doc["responses"] = responses
    if op.admin:
        doc["security"] = [{ADMIN_SCHEME: []}]
    doc.update(op.extensions)
    return doc


def build_openapi(routes: Iterable[BaseRoute], *, extra_models: Sequence[type[BaseModel]] = (),
                  tags: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
    """The document of these routes' operations; `tags` are (name, description) in the order an
    explorer should show them."""
    declared: list[tuple[str, str, Operation]] = []
    for route in routes:
        if isinstance(route, ApiRoute) and route.include_in_schema:
            declared += [(route.path, method, op) for method, op in route.operations.items()]
    models: dict[str, type[BaseModel]] = {}
    for model in [*extra_models, *(m for _, _, op in declared for m in op.schemas())]:
        known = models.setdefault(model.__name__, model)
        if known is not model:
            raise ValueError(f"two models are named {model.__name__}: {known} and {model}")
    _, top = models_json_schema([(m, "validation") for m in models.values()], ref_template=REF,
                                schema_generator=_NoFieldTitles)
    components: dict[str, Any] = tidy(dict(sorted(top.get("$defs", {}).items())))
    paths: dict[str, dict[str, Any]] = {}
    for path, method, op in declared:
        paths.setdefault(path, {})[method] = _operation(op, components)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "storestream",
            "version": "0.1.0",
            "description": (
                "Streaming commerce AI over Server-Sent Events. Every stream speaks one vocabulary of "
                "eight events (`connected`, `progress`, `results`, `text`, `audio`, `complete`, `error`, "
                "`close`; their payloads are the `*Event` schemas; docs/events.md). Refusals before a "
                "stream starts are JSON (`ErrorBody`) naming the field at fault as a dotted path. "
                "Routes marked with a lock need the admin token: Authorize takes it (`ADMIN_TOKEN`)."
            ),
        },
        **({"tags": [{"name": name, "description": text} for name, text in tags]} if tags else {}),
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": components,
            "securitySchemes": {ADMIN_SCHEME: {
                "type": "http", "scheme": "bearer",
                "description": "`Authorization: Bearer <ADMIN_TOKEN>`; missing 401, wrong 403, "
                               "no ADMIN_TOKEN set on the server 503 `ADMIN_DISABLED`",
            }},
        },
    }
