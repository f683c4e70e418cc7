"""The default provider: offline and deterministic. It composes the answer from what retrieval
found and nothing else: the most relevant sentences of uploaded context (with their source),
product recommendations with their catalog prices, or a clarifying question when nothing
matches. Every fact it states is copied from a product or a document.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

from app.conversation.formatting import best_sentences, product_line, source_label
from app.llm.base import Grounding, Message
from app.llm.phrases import inr, phrase

MAX_PRODUCTS = 4
_PIECE = re.compile(r"\S+\s*|\s+")


def found_line(language: str, shown: int, total: int) -> str:
    """What introduces the list: how many match and, when that is more, how many are shown
    (see app/llm/phrases.py on counts)."""
    total = max(total, shown)
    if total > shown:
        return phrase(language, "found_best", total=total, n=shown)
    return phrase(language, "found_one" if shown == 1 else "found_all", n=shown)


def compose(grounding: Grounding) -> str:
    """The whole answer, as Markdown."""
    lang = grounding.language
    blocks: list[str] = []
    for sentence, source in best_sentences(grounding.query, grounding.sources):
        blocks.append(f"{phrase(lang, 'from_docs', source=source_label(source, lang))} {sentence}")
    products = grounding.products[:MAX_PRODUCTS]
    if products:
        lines = [found_line(lang, len(products), grounding.total)]
        lines += [product_line(p, lang) for p in products]
        budget = grounding.filters.get("max_price")
        if budget and all(isinstance(p.get("price"), (int, float)) and p["price"] <= budget for p in products):
            lines.append(phrase(lang, "within_budget", budget=inr(budget)))
        rated = [p for p in products if isinstance(p.get("rating"), (int, float))]
        if len(rated) > 1:
            best = max(rated, key=lambda p: p["rating"])
            lines.append(phrase(lang, "best_rated", title=best["title"], rating=best["rating"]))
        blocks.append("\n".join(lines))
    if not blocks:
        blocks.append(phrase(lang, "nothing"))
    return "\n\n".join(blocks)


async def pieces(text: str) -> AsyncIterator[str]:
    """A composed answer as a model would stream it: word by word (with the spaces after)."""
    for i, piece in enumerate(_PIECE.findall(text)):
        yield piece
        if i % 8 == 7:
            await asyncio.sleep(0)  # let the engine flush what is ready


class GroundedProvider:
    """`LanguageModel` that composes the answer itself (`compose`): no model, nothing to close."""

    name = "grounded"
    model = ""

    async def aclose(self) -> None:
        pass

    async def stream(self, history: list[Message], grounding: Grounding) -> AsyncIterator[str]:
        async for piece in pieces(compose(grounding)):
            yield piece
