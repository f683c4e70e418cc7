"""The default provider: offline and deterministic. It composes the answer from what retrieval
found and nothing else: the most relevant sentences of uploaded context (with their source),
product recommendations with their catalog prices, or a clarifying question when nothing
matches. Every fact it states is copied from a product or a document.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

from app.llm.base import Grounding, Message
from app.llm.phrases import inr, phrase

MAX_PRODUCTS = 4
MAX_SENTENCES = 3
_SENTENCE = re.compile(r"(?<=[.!?।؟])\s+")
_HEADING = re.compile(r"^\s*(?:#{1,6}(?:\s|$)|(\*\*|__)[^*_]+\1\s*:?\s*$)")
_WORD = re.compile(r"\w+", re.UNICODE)
_PIECE = re.compile(r"\S+\s*|\s+")


def _words(text: str) -> set[str]:
    return {w.lower().rstrip("s") for w in _WORD.findall(text) if len(w) > 2}


def sentences(text: str) -> Iterator[str]:
    """The sentences of a document chunk, each on one line. A blank line or a heading (a
    Markdown `#` line, or a line that is bold throughout) ends a sentence too, and a heading is
    a label, not a sentence to quote: otherwise "# Returns" would run into the text under it.
    A single line break inside a paragraph does not end one (extracted PDFs wrap lines)."""
    block: list[str] = []
    for line in [*text.splitlines(), ""]:
        if line.strip() and not _HEADING.match(line):
            block.append(line)
            continue
        for sentence in _SENTENCE.split(" ".join(block)):
            if sentence := " ".join(sentence.split()):
                yield sentence
        block = []


def best_sentences(query: str, sources: list[dict[str, Any]], limit: int = MAX_SENTENCES) -> list[tuple[str, dict[str, Any]]]:
    """The sentences of the retrieved chunks that share the most words with the question,
    best first, each with the chunk it came from."""
    asked = _words(query)
    scored: list[tuple[float, int, str, dict[str, Any]]] = []
    for rank, source in enumerate(sources):
        for sentence in sentences(source.get("text", "")):
            if len(sentence) < 12:
                continue
            overlap = len(asked & _words(sentence))
            if overlap:
                scored.append((overlap + float(source.get("score", 0)), -rank, sentence, source))
    scored.sort(key=lambda item: (item[0], item[1]), reverse=True)
    seen: set[str] = set()
    out: list[tuple[str, dict[str, Any]]] = []
    for _, _, sentence, source in scored:
        if sentence not in seen:
            seen.add(sentence)
            out.append((sentence, source))
        if len(out) == limit:
            break
    return out


def source_label(source: dict[str, Any], language: str) -> str:
    name = source.get("file_name") or source.get("title") or "our store documents"
    page = source.get("page")
    return f"{name}, {phrase(language, 'page', page=page)}" if page else str(name)


def product_line(product: dict[str, Any], language: str) -> str:
    parts = [f"**{product['title']}**"]
    if product.get("brand"):
        parts.append(f"{phrase(language, 'by')} {product['brand']}")
    line = " ".join(parts)
    details = []
    if isinstance(product.get("price"), (int, float)):
        details.append(inr(product["price"]))
    if product.get("sizes"):
        details.append(f"{phrase(language, 'sizes')} {', '.join(product['sizes'][:6])}")
    if isinstance(product.get("rating"), (int, float)):
        details.append(phrase(language, "rated", rating=product["rating"]))
    details.append(phrase(language, "in_stock" if product.get("in_stock", True) else "out_of_stock"))
    return f"- {line}: {'; '.join(details)}"


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
    name = "grounded"
    model = ""  # it composes the answer itself

    async def aclose(self) -> None:
        """Nothing to release."""

    async def stream(self, history: list[Message], grounding: Grounding) -> AsyncIterator[str]:
        async for piece in pieces(compose(grounding)):
            yield piece
