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
from dataclasses import dataclass
from typing import Any

from app.agent.memory import Memory
from app.agent.tools import DESCRIPTIONS
from app.agent.turn import Turn
from app.search.products import Filters

log = logging.getLogger("storestream.agent")

MAX_CALLS = 4
_TEXT_FILTERS = ("category", "occasion", "fabric", "brand", "gender")
_LIST_FILTERS = ("colors", "sizes")
_PRICES = ("min_price", "max_price")

_FILTER_PROPERTIES: dict[str, Any] = {
    **{name: {"type": "string"} for name in _TEXT_FILTERS},
    **{name: {"type": "array", "items": {"type": "string"}} for name in _LIST_FILTERS},
    **{name: {"type": "number", "description": "rupees"} for name in _PRICES},
}
_SKUS = {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 4}


def _tool(name: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "function", "function": {
        "name": name, "description": DESCRIPTIONS[name],
        "parameters": {"type": "object", "properties": properties, "required": required},
    }}


SCHEMAS: list[dict[str, Any]] = [
    _tool("search_catalog", {"query": {"type": "string"}, **_FILTER_PROPERTIES}, ["query"]),
    _tool("market_snapshot", {"query": {"type": "string"}, **_FILTER_PROPERTIES}, ["query"]),
    _tool("compare_products", {"skus": _SKUS}, ["skus"]),
    _tool("check_stock", {"skus": _SKUS, "size": {"type": "string"}}, ["skus"]),
    _tool("search_documents", {"query": {"type": "string"}}, ["query"]),
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


def _text(value: Any, limit: int = 200) -> str | None:
    return value.strip()[:limit] if isinstance(value, str) and value.strip() else None


def _filters(arguments: dict[str, Any]) -> Filters:
    values: dict[str, Any] = {}
    for name in _TEXT_FILTERS:
        if text := _text(arguments.get(name), 60):
            values[name] = text.lower() if name != "brand" else text
    for name in _LIST_FILTERS:
        items = arguments.get(name)
        items = [items] if isinstance(items, str) else items
        if isinstance(items, list):
            kept = tuple(t.lower() if name == "colors" else t.upper() for i in items[:10] if (t := _text(i, 30)))
            if kept:
                values[name] = kept
    for name in _PRICES:
        number = arguments.get(name)
        if isinstance(number, (int, float)) and not isinstance(number, bool) and 0 < number < 1e9:
            values[name] = number
    return Filters(**values)


def checked(raw: list[dict[str, Any]], known_skus: set[str]) -> list[Call]:
    """The model's calls that may run; each dropped one is logged with why."""
    calls: list[Call] = []
    for item in raw[:MAX_CALLS]:
        name, arguments = item.get("name"), item.get("arguments") or {}
        call: Call | None = None
        if name in ("search_catalog", "market_snapshot", "search_documents"):
            query = _text(arguments.get("query")) or ""
            filters = _filters(arguments) if name != "search_documents" else Filters()
            if query or filters.as_dict():
                call = Call(name, query=query, filters=filters)
        elif name in ("compare_products", "check_stock"):
            skus = arguments.get("skus")
            if isinstance(skus, list):
                kept = tuple(dict.fromkeys(s for s in skus[:4] if isinstance(s, str) and s in known_skus))
                if kept and (name == "check_stock" or len(kept) >= 2):
                    call = Call(name, skus=kept, size=_text(arguments.get("size"), 20))
        if call is None:
            log.info("dropped a tool call from the model: %s", json.dumps(item, ensure_ascii=False)[:300])
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
