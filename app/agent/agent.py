"""The Troika sales agent's turn as a stream of events:

    results{intent} -> progress{step: "tool", tool, args}... -> results{market_intelligence}? ->
    results{product_cards}? -> results{comparison | stock}? -> text... -> audio... (when asked) ->
    results{suggestions} -> complete{session_id, conversation_id, message_id, intent, tools, metadata}

Reading the message: the intent classifier (app/agent/intents.py) and the slot extractor
(app/agent/slots.py), then the session's memory (app/agent/memory.py) turns follow-ups into a
full request. Acting: the tools of app/agent/tools.py, chosen by intent, each announced by a
`progress` event before it runs. Answering: the default `grounded` provider composes from the
tool results (app/agent/reply.py); another provider (LLM_PROVIDER=openai) words the answer from
the same results passed as its grounding.

Nothing is lost: the shopper's message is stored before the stream starts (app/routes/troika.py);
memory and the answer are stored when the turn completes, and a partial answer is stored as
`interrupted` or `failed` otherwise.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass, replace
from typing import Any

from app.analytics.recorder import Recorder
from app.agent import calling, reply, tools
from app.agent.intents import Intent, IntentClassifier, IntentResult
from app.agent.memory import Memory, asks_for_two, merge, points_at_shown, references
from app.agent.slots import extract_slots, price_direction
from app.agent.turn import Outcome, Turn
from app.agent.wording import suggestion
from app.conversation.filler import FILLER
from app.conversation.history import recent_history
from app.conversation.stored import StoredAnswer, spoken
from app.ingest.context_index import ContextIndex
from app.llm.base import Grounding, LanguageModel, Message, ProviderError, ToolChooser, model_used
from app.llm.grounded import pieces
from app.search.constraints import Filters
from app.search.query_parse import parse_query
from app.search.service import SearchService
from app.store.database import Database
from app.streams import events as ev
from app.streams.engine import StreamContext
from app.streams.events import Event
from app.tts.engine import TTSEngine
from app.tts.slots import SpeechSlots

log = logging.getLogger("storestream.agent")

_COMPARE_WORDS = re.compile(r"\b(?:compare|comparison|vs\.?|versus|difference|better|behtar|farak|fark)\b", re.I)
_YES = re.compile(r"^\s*(?:yes|yeah|yep|sure|ok|okay|please do|go on|carry on|haan|haa|ha|ji|ji haan|theek hai|chalo)\W*$", re.I)
_FOLLOW_UP_FILLER = FILLER | frozenset(  # and the words of a price follow-up
    "cheaper cheapest less expensive lower price priced more affordable budget friendly too costly pricey "
    "options something else other some kuch aur dikhao wale wala sasta saste sasti".split()
)


@dataclass(frozen=True, slots=True)
class AgentDeps:
    """What a turn of the agent uses: the database (sessions, history, the stored answer), the
    catalog search its tools run on, the uploaded documents (None: none are searched), the
    intent classifier, the model (and the one that chooses the tools, when a model may:
    LLM_TOOL_CALLING with a provider that can), and speech."""

    database: Database
    search: SearchService
    documents: ContextIndex | None
    intents: IntentClassifier
    llm: LanguageModel
    tool_chooser: ToolChooser | None
    tts: TTSEngine | None
    speech_slots: SpeechSlots
    analytics: Recorder | None = None  # records each catalog search (its query_id on the cards)


@dataclass(frozen=True, slots=True)
class AgentRequest:
    """One turn's request. The message is read once, where the turn starts (app/routes/troika.py):
    `language` is what the answer is written and spoken in (`app.language.reading.language_of`),
    `english` the message read into English and romanised Hindi (`app.language.reading.in_english`),
    the words the classifier, the slot extractor and the follow-up rules understand."""

    message: str
    language: str
    english: str
    session_id: str
    conversation_id: str
    user_message_id: str
    customer: dict[str, Any]
    memory: Memory
    enable_tts: bool


def brands(search: SearchService) -> list[str]:
    return list(search.vocabulary.brands)


# -- reading the message ------------------------------------------------------------------


def customer_filters(customer: dict[str, Any]) -> Filters:
    """The customer's stated preferences and budget, as the base every search starts from."""
    prefs = dict(customer.get("preferences") or {})
    if customer.get("budget") is not None:
        prefs.setdefault("max_price", customer["budget"])
    return Filters.from_dict(prefs)


def read_turn(request: AgentRequest, result: IntentResult, asked: Filters, search: SearchService,
              *, confident: bool) -> Turn:
    memory = request.memory
    message = request.english  # read as the classifier and the parser read it
    current = merge(customer_filters(request.customer), memory.preferences)
    filters = merge(current, asked)
    if current.sizes and not filters.sizes and filters.category != current.category:
        # A size is the shopper's, not the product's: it carries to a new kind of product
        # when that kind comes in it (size M from lehengas to kurtas; not to shoes).
        kept = tuple(s for s in current.sizes if search.candidates(Filters(category=filters.category, sizes=(s,))))
        filters = replace(filters, sizes=kept)
    intent = result.intent
    refs = references(message, memory.shown)
    cheaper_than: float | None = None
    pricier_than: float | None = None
    direction = price_direction(message)
    shown_prices = [p["price"] for p in search.products(memory.shown)
                    if isinstance(p.get("price"), (int, float))]
    if direction == "lower" and shown_prices:
        cheaper_than = min(shown_prices)
        ceiling = math.ceil(cheaper_than) - 1
        filters = replace(filters, max_price=min(ceiling, filters.max_price or ceiling))
        if filters.min_price is not None and filters.min_price > ceiling:
            filters = replace(filters, min_price=None)
        intent, confident = Intent.PRICE_DISCOUNT, True
    elif direction == "higher" and shown_prices:
        pricier_than = max(shown_prices)
        floor = math.floor(pricier_than) + 1
        filters = replace(filters, min_price=max(floor, filters.min_price or floor))
        if filters.max_price is not None and filters.max_price < floor:
            filters = replace(filters, max_price=None)
        intent, confident = Intent.BROWSE_SEARCH, True
    if (len(refs) >= 2 or (refs and asks_for_two(message))) and _COMPARE_WORDS.search(message):
        # Two asked for, even if fewer were shown: the reply says what there is to compare.
        intent, confident = Intent.COMPARE, True
    elif len(refs) == 1 and intent == Intent.COMPARE:
        intent = Intent.PRODUCT_QUESTION  # "is the second one pure cotton?": one product, a question
    if not confident and asked.category is not None:
        # Naming a kind of product is a search, whatever else the message is unclear about.
        intent, confident = Intent.BROWSE_SEARCH, True
    elif not confident and _YES.match(message) and memory.preferences.category:
        # "yes" to "Shall I carry on with red lehengas?": the search in memory.
        intent, confident = Intent.BROWSE_SEARCH, True
    parsed = parse_query(message, search.vocabulary)
    own = " ".join(w for w in parsed.residual.split() if w not in _FOLLOW_UP_FILLER)
    if asked.category is not None or not memory.preferences.category:
        query = own
    else:
        query = " ".join(dict.fromkeys(f"{memory.query} {own}".split()))
    return Turn(
        message=message,
        intent=intent,
        confidence=result.confidence,
        confident=confident,
        slots=asked,
        filters=filters,
        query=query,
        references=tuple(refs),
        cheaper_than=cheaper_than,
        pricier_than=pricier_than,
        size=asked.sizes[0] if asked.sizes else None,
        customer_name=request.customer.get("name"),
        returning=memory.turns > 0,
        language=request.language,
    )


def ranking_text(turn: Turn) -> str:
    f = turn.filters
    words = [turn.query, f.category or "", " ".join(f.colors), f.fabric or "", f.occasion or "", f.brand or ""]
    return " ".join(w for w in words if w).strip()


# -- acting -------------------------------------------------------------------------------


_MESSAGES = {
    "search_catalog": "Searching the catalog",
    "market_snapshot": "Reading prices and stock of the matching items",
    "compare_products": "Comparing the products",
    "check_stock": "Checking stock and sizes",
    "search_documents": "Looking through the store's documents",
}


def _tool(name: str, message: str, **args: Any) -> Event:
    return ev.progress("tool", message, tool=name, args=args)


def _targets(turn: Turn, memory: Memory) -> list[str]:
    """The shown products a question is about: those it points at, else the first shown one
    when it says "this"/"it" or names no other kind of product."""
    if turn.references:
        return list(turn.references)
    if memory.shown and (points_at_shown(turn.message) or turn.slots.category is None):
        return [memory.shown[0]]
    return []


async def _search(search: SearchService, turn: Turn, outcome: Outcome, *, market: bool,
                  recorder: Recorder | None = None) -> AsyncIterator[Event]:
    query = ranking_text(turn)
    args = {"query": query, "filters": turn.filters.as_dict()}
    yield _tool("search_catalog", _MESSAGES["search_catalog"], **args)
    outcome.tools.append("search_catalog")
    outcome.found = await tools.search_catalog(search, query, turn.filters, asked=turn.slots, recorder=recorder)
    if market:
        yield _tool("market_snapshot", _MESSAGES["market_snapshot"], **args)
        outcome.tools.append("market_snapshot")
        outcome.market = tools.market_snapshot(search, query, turn.filters)
        if not outcome.found.cards and outcome.market.get("closest"):
            # Nothing fits the budget: the nearest items over it are the honest next best.
            outcome.focus = search.products(c["sku"] for c in outcome.market["closest"])


async def _documents(documents: ContextIndex | None, turn: Turn, outcome: Outcome) -> AsyncIterator[Event]:
    if documents is None or not documents.searchable:
        return
    yield _tool("search_documents", _MESSAGES["search_documents"], query=turn.message)
    outcome.tools.append("search_documents")
    outcome.documents = await tools.search_documents(documents, turn.message)


async def _stock(search: SearchService, turn: Turn, outcome: Outcome, skus: list[str]) -> AsyncIterator[Event]:
    yield _tool("check_stock", _MESSAGES["check_stock"], skus=skus, size=turn.size)
    outcome.tools.append("check_stock")
    outcome.stock = tools.check_stock(search, skus, turn.size)


async def act(deps: AgentDeps, turn: Turn, memory: Memory, outcome: Outcome) -> AsyncIterator[Event]:
    """Run the tools the turn needs, announcing each before it runs: those the model chooses
    (function calling, when configured and it chooses any), else those of the intent."""
    if not turn.confident:
        return
    calls = await _model_calls(deps, turn, memory)
    if calls:
        async for event in _run_calls(deps, calls, outcome):
            yield event
        return
    intent = turn.intent
    search = deps.search
    searchable = search.ready
    if intent == Intent.BROWSE_SEARCH or (intent == Intent.PRICE_DISCOUNT and turn.cheaper_than is not None):
        if searchable:
            async for event in _search(search, turn, outcome, market=True, recorder=deps.analytics):
                yield event
    elif intent == Intent.PRICE_DISCOUNT:
        targets = _targets(turn, memory)
        if targets:
            outcome.focus = search.products(targets)
        elif searchable:
            async for event in _search(search, turn, outcome, market=True, recorder=deps.analytics):
                yield event
    elif intent == Intent.COMPARE:
        skus = list(turn.references)
        about_shown = bool(memory.shown) and turn.slots.category is None
        if len(skus) < 2 and about_shown:
            skus = list(memory.shown[:2])
        if len(skus) < 2 and about_shown:
            # Fewer shown than two: nothing to compare, and no search for something else to
            # compare (the shopper asked about what they saw); the reply names what was shown.
            outcome.focus = search.products(skus)
        elif len(skus) < 2 and searchable:
            async for event in _search(search, turn, outcome, market=False, recorder=deps.analytics):
                yield event
            skus = [c["sku"] for c in outcome.cards[:2]]
            outcome.found = None
        if len(skus) >= 2:
            yield _tool("compare_products", _MESSAGES["compare_products"], skus=skus)
            outcome.tools.append("compare_products")
            outcome.comparison = tools.compare_products(search, skus)
            outcome.focus = search.products(skus)
    elif intent in (Intent.SIZE_FIT, Intent.AVAILABILITY):
        targets = _targets(turn, memory)
        if not targets and searchable:
            async for event in _search(search, turn, outcome, market=False, recorder=deps.analytics):
                yield event
            targets = [c["sku"] for c in outcome.cards]
        else:
            outcome.focus = search.products(targets)
        if targets:
            async for event in _stock(search, turn, outcome, targets):
                yield event
        if intent == Intent.SIZE_FIT:
            async for event in _documents(deps.documents, turn, outcome):
                yield event
    elif intent == Intent.PRODUCT_QUESTION:
        targets = _targets(turn, memory)
        if targets:
            outcome.focus = search.products(targets)
        elif searchable and (turn.filters.category or turn.query):
            async for event in _search(search, turn, outcome, market=False, recorder=deps.analytics):
                yield event
        async for event in _documents(deps.documents, turn, outcome):
            yield event
    elif intent in (Intent.ORDER_STATUS, Intent.RETURNS_POLICY):
        async for event in _documents(deps.documents, turn, outcome):
            yield event


async def _model_calls(deps: AgentDeps, turn: Turn, memory: Memory) -> list[calling.Call]:
    chooser = deps.tool_chooser
    if chooser is None:
        return []
    shown = deps.search.products(memory.shown)
    try:
        raw = await chooser.choose_tools(calling.messages(turn, memory, shown), calling.SCHEMAS)
    except ProviderError as exc:
        log.warning("the model could not choose tools (%s); choosing by intent", exc.message)
        return []
    return calling.checked(raw, known_skus=deps.search.skus())


async def _run_calls(deps: AgentDeps, calls: list[calling.Call], outcome: Outcome) -> AsyncIterator[Event]:
    search = deps.search
    for call in calls:
        yield _tool(call.name, _MESSAGES[call.name], **call.args())
        outcome.tools.append(call.name)
        ranking = " ".join(w for w in (call.query, call.filters.category or "", " ".join(call.filters.colors)) if w)
        if call.name == "search_catalog":
            outcome.found = await tools.search_catalog(search, ranking, call.filters, recorder=deps.analytics)
            outcome.asked = call.filters
        elif call.name == "market_snapshot":
            outcome.market = tools.market_snapshot(search, ranking, call.filters)
        elif call.name == "compare_products":
            outcome.comparison = tools.compare_products(search, list(call.skus))
            outcome.focus = search.products(call.skus)
        elif call.name == "check_stock":
            outcome.stock = tools.check_stock(search, list(call.skus), call.size)
            outcome.focus = search.products(call.skus)
        elif call.name == "search_documents":
            outcome.documents = await tools.search_documents(deps.documents, call.query)



# -- suggestions --------------------------------------------------------------------------


def suggestions(turn: Turn, outcome: Outcome, search: SearchService) -> list[str]:
    """What the shopper might say next, in the answer's language."""
    def say(english: str, **values: object) -> str:
        return suggestion(turn.language, english, **values)

    if not turn.confident:
        return [say("Show me wedding lehengas under 20k"), say("Compare the first two"),
                say("What is your returns policy?")]
    cards = outcome.cards
    out: list[str] = []
    if cards and turn.intent != Intent.COMPARE:
        out.append(say("Show me cheaper ones"))
        if len(cards) >= 2:
            out.append(say("Compare the first two"))
        others = _other_colors(search, turn, cards)
        if others:
            out.append(say("In {color}", color=others[0]))
        sizes = cards[0].get("sizes") or []
        if sizes and turn.intent != Intent.SIZE_FIT:
            out.append(say("Is the first one available in size {size}?", size=sizes[len(sizes) // 2]))
    elif turn.intent == Intent.COMPARE and cards:
        out += [say("Which one is in stock?") if len(cards) > 1 else say("Is it in stock?"),
                say("Show me cheaper ones")]
    if len(out) < 2:
        out += [say("Show me party wear dresses"), say("Red silk sarees under 10k"), say("Talk to a person")]
    return list(dict.fromkeys(out))[:4]


def _other_colors(search: SearchService, turn: Turn, cards: list[dict[str, Any]]) -> list[str]:
    shown = {c for card in cards for c in card.get("colors") or []}
    unpriced = replace(turn.filters, colors=())
    counts: dict[str, int] = {}
    for product in tools.matching(search, ranking_text(turn), unpriced)[:2000]:
        for color in product.get("colors") or []:
            if color not in shown:
                counts[color] = counts.get(color, 0) + 1
    return sorted(counts, key=lambda c: -counts[c])


# -- the stream ---------------------------------------------------------------------------


async def agent_events(deps: AgentDeps, request: AgentRequest, ctx: StreamContext) -> AsyncGenerator[Event, None]:
    store = deps.database.store
    started = time.perf_counter()

    result = await deps.intents.classify(request.english)
    asked = extract_slots(request.english, deps.search.vocabulary, brands(deps.search))
    turn = read_turn(request, result, asked, deps.search, confident=result.confident)
    yield ev.results(
        "intent", intent=turn.intent, confidence=round(result.confidence, 4), slots=asked.as_dict(),
        classified_as=result.intent, source=result.source, clarify=not turn.confident,
        filters=turn.filters.as_dict(),
    )
    outcome = Outcome()
    async for event in act(deps, turn, request.memory, outcome):
        yield event
    if outcome.asked is not None:  # the model chose the search: the turn is about what it searched
        turn = replace(turn, filters=outcome.asked)
    if outcome.market is not None:
        yield ev.results("market_intelligence", **outcome.market)
    cards = outcome.cards
    if cards:
        found = outcome.found
        yield ev.results("product_cards", products=cards, total=found.total if found else len(cards),
                         relaxed=list(found.relaxed) if found else [],
                         **({"query_id": found.query_id} if found and found.query_id else {}))
    if outcome.comparison is not None:
        yield ev.results("comparison", **outcome.comparison)
    if outcome.stock is not None:
        yield ev.results("stock", products=outcome.stock)

    used = model_used(deps.llm)
    answer = await StoredAnswer.start(store, request.conversation_id, model=used, intent=turn.intent)
    async with answer.kept(ctx.tag):
        pieces = _answer(deps, request, turn, outcome)
        async with aclosing(spoken(answer, pieces, deps.tts, turn.language, speak=request.enable_tts,
                                  slots=deps.speech_slots)) as out:
            async for event in out:
                yield event
        yield ev.results("suggestions", suggestions=suggestions(turn, outcome, deps.search))
        memory = _remember(request.memory, turn, outcome)
        await store.agent_sessions.save(request.session_id, memory=memory.to_doc())
        metadata = {
            "tokens": answer.pieces,
            "processing_time_ms": round((time.perf_counter() - started) * 1000, 1),
            "model_used": used,
            "intent_source": result.source,
        }
        await answer.complete(metadata=metadata, products=[c["sku"] for c in cards], tools=outcome.tools)
        yield ev.complete(
            session_id=request.session_id, conversation_id=request.conversation_id, message_id=answer.id,
            intent=turn.intent, tools=outcome.tools, metadata=metadata,
        )


def _remember(memory: Memory, turn: Turn, outcome: Outcome) -> Memory:
    """The session after this turn: the search as asked (not as relaxed), what was shown."""
    updated = replace(memory, last_intent=turn.intent, turns=memory.turns + 1)
    if not turn.confident:
        return updated
    if turn.intent in (Intent.BROWSE_SEARCH, Intent.PRICE_DISCOUNT):
        # Only a search changes the search; "is the second one cotton?" asks about a product.
        updated = replace(updated, preferences=turn.filters, query=turn.query)
    if outcome.found is not None and outcome.found.cards:
        updated = updated.showing([c["sku"] for c in outcome.found.cards])
    return updated


async def _answer(deps: AgentDeps, request: AgentRequest, turn: Turn, outcome: Outcome) -> AsyncIterator[str]:
    """The answer piece by piece: composed offline by default, or worded by the configured
    model from the same tool results."""
    model = deps.llm
    if model.name == "grounded":
        async for piece in pieces(reply.compose(turn, outcome)):
            yield piece
        return
    facts = reply.compose(turn, outcome)
    grounding = Grounding(
        query=request.message, language=turn.language, products=outcome.cards,
        sources=[{"file_name": "the agent's tool results", "text": facts, "score": 1.0}, *outcome.documents],
        filters=turn.filters.as_dict(),
    )
    history = await recent_history(deps.database.store, request.conversation_id, request.user_message_id)
    async for piece in model.stream([*history, Message("user", request.message)], grounding):
        yield piece


