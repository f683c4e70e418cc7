"""One agent turn: what the message was read as (`Turn`) and what the tools found (`Outcome`).

The composer (app/agent/reply.py) writes the answer from these two and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.agent.intents import Intent
from app.agent.tools import Found
from app.search.constraints import Filters


@dataclass(frozen=True, slots=True)
class Turn:
    message: str
    intent: Intent
    confidence: float
    confident: bool  # at or above the classifier's threshold; below it the agent asks
    slots: Filters  # what the message itself said (category, colors, budget, ...)
    filters: Filters  # the search after memory and customer preferences are applied
    query: str  # words to rank by
    references: tuple[str, ...] = ()  # SKUs of shown products the message points at
    cheaper_than: float | None = None  # "cheaper ones": the lowest price shown before
    pricier_than: float | None = None  # "more premium": the highest price shown before
    size: str | None = None  # a size asked about ("is it available in M?")
    customer_name: str | None = None
    returning: bool = False  # the session had earlier turns
    language: str = "en"  # what the answer is written and spoken in (app.language.reading.language_of)


@dataclass(slots=True)
class Outcome:
    found: Found | None = None
    market: dict[str, Any] | None = None
    comparison: dict[str, Any] | None = None
    stock: list[dict[str, Any]] | None = None
    documents: list[dict[str, Any]] = field(default_factory=list)
    focus: list[dict[str, Any]] = field(default_factory=list)  # products a question is about
    asked: Filters | None = None  # the search a model chose (function calling), if it chose one
    tools: list[str] = field(default_factory=list)

    @property
    def cards(self) -> list[dict[str, Any]]:
        if self.found is not None and self.found.cards:
            return self.found.cards
        return self.focus
