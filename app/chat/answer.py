"""One chat answer as a stream of events:

    progress{retrieval} -> results{sources} -> results{product_cards}? -> text... ->
    audio... (when asked) -> results{suggestions} -> complete{message_id, conversation_id, metadata}

Nothing is lost: the shopper's message is stored before the stream starts (in `parse`, see
app/routes/chat.py); the answer is stored when it completes, and if it does not (the client
left, the deadline passed, the model failed) whatever was said so far is stored with
`status: "interrupted"` or `"failed"`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass, replace
from typing import Any

from app.chat.followup import contextual_query
from app.chat.suggestions import suggest
from app.conversation.documents import document_sources
from app.conversation.history import recent_history
from app.conversation.stored import StoredAnswer, spoken
from app.ingest.context_index import ContextIndex
from app.llm.base import Grounding, LanguageModel, Message, model_used
from app.search.constraints import Filters, relaxations
from app.search.products import card
from app.search.service import SearchService
from app.store.database import Database
from app.streams import events as ev
from app.streams.engine import StreamContext
from app.streams.events import Event
from app.tts.engine import TTSEngine
from app.tts.slots import SpeechSlots

PRODUCTS = 4
PRODUCT_WORD_FLOOR = 3.0  # BM25 score that makes products relevant to a question without filters


@dataclass(frozen=True, slots=True)
class ChatDeps:
    """What a chat answer uses: the database (history, the stored answer), the product search,
    the uploaded documents (None: none are searched), the model, and speech."""

    database: Database
    search: SearchService
    documents: ContextIndex | None
    llm: LanguageModel
    tts: TTSEngine | None
    speech_slots: SpeechSlots


@dataclass(frozen=True, slots=True)
class ChatRequest:
    query: str
    conversation_id: str
    user_message_id: str
    language: str
    enable_tts: bool
    chatbot_id: str | None


async def _products(search: SearchService, query: str) -> tuple[list[dict[str, Any]], int, dict[str, Any], list[str]]:
    """(cards, how many products match in all, filters asked for, other colours of the same
    kind) — cards only when the question is about products: it sets a product filter, or its
    words match products well."""
    if not search.ready:
        return [], 0, {}, []
    plan = search.plan(query, Filters())
    found = await search.hybrid(plan, k=50)
    for _, relaxed in relaxations(plan.filters):
        if found.total:
            break
        # Nothing fits every detail: the closest items, dropping the least telling first.
        plan = replace(plan, filters=relaxed, candidates=search.candidates(relaxed))
        found = await search.hybrid(plan, k=50)
    asks_for_products = bool(plan.filters.as_dict()) or any(
        (h.text_score or 0) >= PRODUCT_WORD_FLOOR for h in found.hits[:3]
    )
    if not asks_for_products:
        return [], 0, {}, []
    page = search.page(found, PRODUCTS)
    cards = [card(p, score=h.score) for p, h in page]
    shown = {c for p, _ in page for c in p.get("colors") or []}
    others: list[str] = []
    for hit in found.hits:
        product = search.product(hit.sku)
        for color in (product or {}).get("colors") or []:
            if color not in shown and color not in others:
                others.append(color)
    return cards, found.total, plan.filters.as_dict(), others


async def answer_events(deps: ChatDeps, request: ChatRequest, ctx: StreamContext) -> AsyncGenerator[Event, None]:
    store = deps.database.store
    started = time.perf_counter()

    history = await recent_history(store, request.conversation_id, request.user_message_id)
    previous_questions = [m.content for m in history if m.role == "user"]
    query = contextual_query(previous_questions, request.query, deps.search.vocabulary)
    yield ev.progress("retrieval", "Looking through the catalog and store documents", query=query)
    sources = await document_sources(deps.documents, query)
    yield ev.results("sources", sources=sources)
    products, total, filters, other_colors = await _products(deps.search, query)
    if products:
        yield ev.results("product_cards", products=products, total=total)

    grounding = Grounding(query=query, language=request.language, products=products,
                          sources=sources, filters=filters, total=total)
    model = deps.llm
    used = model_used(model)
    answer = await StoredAnswer.start(store, request.conversation_id, model=used)
    async with answer.kept(ctx.tag):
        pieces = model.stream([*history, Message("user", request.query)], grounding)
        async with aclosing(spoken(answer, pieces, deps.tts, request.language, speak=request.enable_tts,
                                  slots=deps.speech_slots)) as out:
            async for event in out:
                yield event
        yield ev.results("suggestions", suggestions=suggest(request.language, products, sources, other_colors))
        metadata = {
            "tokens": answer.pieces,
            "processing_time_ms": round((time.perf_counter() - started) * 1000, 1),
            "model_used": used,
            "cached": False,
            "language": request.language,
        }
        await answer.complete(
            metadata=metadata,
            sources=[{k: s[k] for k in ("file_id", "file_name", "page", "score")} for s in sources],
            products=[p["sku"] for p in products],
        )
        yield ev.complete(message_id=answer.id, conversation_id=request.conversation_id, metadata=metadata)
