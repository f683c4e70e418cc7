"""How an answer states what retrieval found, in the chat's grounded answer and the sales
agent's alike: a product as one line of catalog facts, and the sentences of uploaded documents
worth quoting, with where they came from. Every fact is copied, never reworded."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from app.llm.phrases import inr, phrase

MAX_SENTENCES = 3
_SENTENCE = re.compile(r"(?<=[.!?।؟])\s+")
_HEADING = re.compile(r"^\s*(?:#{1,6}(?:\s|$)|(\*\*|__)[^*_]+\1\s*:?\s*$)")
_WORD = re.compile(r"\w+", re.UNICODE)


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
