"""The agent's tools offered to a language model through function calling (LLM_PROVIDER=openai,
LLM_TOOL_CALLING=true).

The model sees the shopper's message, the session's current search and the products shown,
and may call any of the tools in `SCHEMAS`. Its calls are checked here before anything runs:
an unknown tool, or arguments of the wrong shape, are dropped (logged), never passed on. When
the model calls no valid tool, or fails, the agent falls back to choosing tools by intent, so
a weak or unavailable model never leaves the shopper without an answer.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from app.agent.memory import Memory
from app.agent.tools import DESCRIPTIONS
from app.agent.turn import Turn
from app.contracts.fields import NeverNull, Rules, safe_text
from app.contracts.openapi import json_schema
from app.contracts.reading import path_of, phrase
from app.llm.base import ToolCall
from app.search.constraints import Filters

log = logging.getLogger("storestream.agent")

MAX_CALLS = 4


# -- the tools' arguments, declared: the schemas offered to the model come from these ----------


def _trimmed(limit: int) -> Rules:
    """Text a model wrote: trimmed, then cut to `limit` characters (a model that writes a
    long query still gets its search); empty is the same as absent."""

    def clean(value: Any) -> Any:
        return safe_text(value.strip()[:limit]) if isinstance(value, str) else value

    return Rules(Field(max_length=limit), BeforeValidator(clean))


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


Words = Annotated[list[Annotated[str, _trimmed(30)]], BeforeValidator(_one_or_many), Field(max_length=10)]
Rupees = Annotated[float, Field(gt=0, lt=1e9, description="rupees")]


class ToolArguments(NeverNull):
    """Arguments as a model writes them: JSON types (a number written as text is read), unknown
    fields ignored, text trimmed and cut to its length."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _nulls_are_absent(cls, value: Any) -> Any:
        """Models often write `null` for an argument they leave out."""
        return {k: v for k, v in value.items() if v is not None} if isinstance(value, dict) else value


class CatalogQuery(ToolArguments):
    """`search_catalog` and `market_snapshot`: words and filters (what the shopper asked)."""

    query: Annotated[str, _trimmed(200)] = Field(default="", description="the words to search for")
    category: Annotated[str, _trimmed(60)] = ""
    occasion: Annotated[str, _trimmed(60)] = ""
    fabric: Annotated[str, _trimmed(60)] = ""
    brand: Annotated[str, _trimmed(60)] = ""
    gender: Annotated[str, _trimmed(60)] = ""
    colors: Words = Field(default_factory=list)
    sizes: Words = Field(default_factory=list)
    min_price: Rupees | None = None
    max_price: Rupees | None = None

    def filters(self) -> Filters:
        return Filters.from_dict(self.model_dump(exclude={"query"}, exclude_defaults=True)).spelled()


class DocumentQuery(ToolArguments):
    """`search_documents`: what to look for in the store's uploaded documents."""

    query: Annotated[str, _trimmed(200)] = Field(description="the words to search for in the store's documents")


Skus = Annotated[list[Annotated[str, Field(max_length=64)]], Field(min_length=1, max_length=4,
                                                                       description="skus from products_shown")]


class ProductPair(ToolArguments):
    """`compare_products`: two to four products shown to the shopper."""

    skus: Skus


class StockQuestion(ToolArguments):
    """`check_stock`: products shown, and the size asked about."""

    skus: Skus
    size: Annotated[str, _trimmed(20)] = ""


ARGUMENTS: dict[str, type[ToolArguments]] = {
    "search_catalog": CatalogQuery,
    "market_snapshot": CatalogQuery,
    "compare_products": ProductPair,
    "check_stock": StockQuestion,
    "search_documents": DocumentQuery,
}
_REQUIRED = {"search_catalog": ["query"], "market_snapshot": ["query"]}  # asked of the model; not enforced


def _parameters(name: str) -> dict[str, Any]:
    schema = json_schema(ARGUMENTS[name])
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        if prop.get("default") in ("", [], ()):
            del prop["default"]
    if name in _REQUIRED:
        schema["required"] = _REQUIRED[name]
    return schema


SCHEMAS: list[dict[str, Any]] = [
    {"type": "function", "function": {"name": name, "description": DESCRIPTIONS[name], "parameters": _parameters(name)}}
    for name in ARGUMENTS
]


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    query: str = ""
    filters: Filters = Filters()
    skus: tuple[str, ...] = ()
    size: str | None = None

    def args(self) -> dict[str, Any]:
        """As shown in the `progress{step: "tool"}` event."""
        if self.name in ("search_catalog", "market_snapshot"):
            return {"query": self.query, "filters": self.filters.as_dict()}
        if self.name == "search_documents":
            return {"query": self.query}
        return {"skus": list(self.skus), **({"size": self.size} if self.size else {})}


def _call(name: str, arguments: ToolArguments, known_skus: set[str]) -> Call | None:
    if isinstance(arguments, CatalogQuery):
        filters = arguments.filters()
        return Call(name, query=arguments.query or "", filters=filters) if arguments.query or filters.as_dict() else None
    if isinstance(arguments, DocumentQuery):
        return Call(name, query=arguments.query) if arguments.query else None
    assert isinstance(arguments, (ProductPair, StockQuestion))
    kept = tuple(dict.fromkeys(s for s in arguments.skus if s in known_skus))
    if not kept or (name == "compare_products" and len(kept) < 2):
        return None
    return Call(name, skus=kept, size=getattr(arguments, "size", "") or None)


def checked(raw: Sequence[ToolCall], known_skus: set[str]) -> list[Call]:
    """The model's calls that may run; each dropped one is logged with why. The provider has
    checked only their shape: the name may be any text, the arguments any JSON object."""
    calls: list[Call] = []
    for item in raw[:MAX_CALLS]:
        name = item["name"]
        model = ARGUMENTS.get(name)
        why = "unknown tool"
        call: Call | None = None
        if model is not None:
            try:
                call = _call(name, model.model_validate(item.get("arguments") or {}), known_skus)
                why = "nothing to act on (no query, no filter, or no sku that was shown)"
            except ValidationError as exc:
                error = exc.errors(include_url=False, include_input=False)[0]
                why = f"{path_of(error['loc']) or 'arguments'} {phrase(error)}"
        if call is None:
            log.info("dropped a tool call from the model (%s): %s", why,
                     json.dumps(item, ensure_ascii=False, default=str)[:300])
        else:
            calls.append(call)
    return calls


def messages(turn: Turn, memory: Memory, shown: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the model sees to choose its tools: the rules, the session's state, the message."""
    state = {
        "current_search": turn.filters.as_dict(),
        "products_shown": [{"position": i + 1, "sku": p["sku"], "title": p.get("title"), "price": p.get("price")}
                           for i, p in enumerate(shown)],
        "intent_guess": turn.intent,
    }
    system = (
        "You are the sales agent of an Indian fashion store. Decide which tools to call to answer the "
        "shopper's message; call only tools that help. Prices are rupees. Products the shopper refers to "
        "by position are in products_shown; pass their sku values. Current state:\n"
        + json.dumps(state, ensure_ascii=False)
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": turn.message}]
