"""The agent's answer, composed from the turn and the tools' results (the default, offline way).

Sales-like but honest: it recommends from the results and says why (fit to budget, rating,
occasion), answers a price objection with cheaper items and their figures, and says plainly
what it cannot see (discounts, per-size stock, orders, a person to hand over to). Every title,
price, rating, count and stock state is copied from a tool result. In the shopper's language
(`Turn.language`: English, romanised Hindi answered in English, Hindi, Persian, Russian,
Hebrew), every sentence from that language's table (app/llm/phrases.py, by
app/agent/wording.py), English being one of them. Quoted documents and catalog values (titles,
colours, fabrics) stay as they are written.

Counts: every number of products the answer states is one the shopper can see or get. The
list is introduced with the search's exact total (`Found.total`, what product search reports
for the same words and filters) and the number of cards shown: "I found 55 sarees up to
₹10,000; here are the 4 best:", or "Here are the 3 ... I found:" when all are shown. The market
line's counts come from the same match set without the budget, so "N of them fit your budget"
is that same total.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from app.agent.intents import Intent
from app.agent.turn import Outcome, Turn
from app.agent.wording import FIELDS, fields, named, say, says
from app.conversation.formatting import best_sentences, product_line, source_label
from app.llm.phrases import inr
from app.search.constraints import Filters

def compose(turn: Turn, outcome: Outcome) -> str:
    """The whole answer as Markdown."""
    if not turn.confident:
        return say(turn.language, "clarify")
    writer = _WRITERS.get(turn.intent, _browse)
    blocks = [b for b in writer(turn, outcome) if b]
    return "\n\n".join(blocks)


# -- shared pieces -----------------------------------------------------------------------

_WEAR = ("party", "festive", "office", "casual")  # "made for party wear", not "made for a party"


def _market_line(market: dict[str, Any] | None, asked: Filters, language: str) -> str:
    """One sentence of market figures for what was asked (before any relaxing)."""
    if not market or not market.get("matching") or not market.get("price"):
        return ""
    price = market["price"]
    kind = named(language, replace(asked, sizes=(), min_price=None, max_price=None), count=market["matching"])
    spread = (say(language, "spread", low=inr(price["min"]), high=inr(price["max"]), median=inr(price["median"]))
              if price["min"] != price["max"] else say(language, "priced", low=inr(price["min"])))
    budget = market.get("budget")
    if budget and budget["within"] == 0:
        return say(language, "market_none", matching=market["matching"], kind=kind, spread=spread)
    if budget:
        return say(language, "market_budget", "one" if budget["within"] == 1 else None, matching=market["matching"],
                   kind=kind, within=budget["within"], in_stock=budget["in_stock_within"], spread=spread)
    return say(language, "market", matching=market["matching"], kind=kind, in_stock=market["in_stock"], spread=spread)


def _pick(cards: list[dict[str, Any]], filters: Filters, language: str, *, budget_is_theirs: bool = True) -> str:
    """One recommendation with its reasons, all from the card."""
    in_stock = [c for c in cards if c.get("in_stock", True)]
    if not in_stock:
        return ""
    best = max(in_stock, key=lambda c: (c.get("rating") or 0, -(c.get("price") or 0)))
    reasons = []
    if isinstance(best.get("rating"), (int, float)):
        reasons.append(say(language, "rated", rating=best["rating"]))
    if budget_is_theirs and filters.max_price is not None and isinstance(best.get("price"), (int, float)):
        left = filters.max_price - best["price"]
        if left > 0:
            reasons.append(say(language, "under_budget", left=inr(left)))
        elif left == 0:
            reasons.append(say(language, "at_budget"))
    occasion = (best.get("attributes") or {}).get("occasion")
    if filters.occasion and occasion == filters.occasion:
        reasons.append(say(language, "made_for", "wear" if occasion in _WEAR else None, occasion=occasion))
    if not reasons:
        return ""
    return say(language, "pick", title=best["title"], reasons=", ".join(reasons))


def _cards_block(cards: list[dict[str, Any]], language: str) -> str:
    return "\n".join(product_line(c, language) for c in cards)


def _discount_note(cards: list[dict[str, Any]], language: str) -> str:
    """Only discounts the data holds: an `mrp` above the price."""
    lines = []
    for c in cards:
        mrp = (c.get("attributes") or {}).get("mrp") or c.get("mrp")
        if isinstance(mrp, (int, float)) and isinstance(c.get("price"), (int, float)) and mrp > c["price"]:
            lines.append(say(language, "below_mrp", title=c["title"], gap=inr(mrp - c["price"]), mrp=inr(mrp)))
    if lines:
        return " ".join(lines)
    return say(language, "no_discount")


def _documents(turn: Turn, outcome: Outcome, limit: int = 2) -> str:
    """The documents' sentences that answer the message, each after its source, in the answer's language."""
    picked = best_sentences(turn.message, outcome.documents, limit=limit)
    return "\n".join(f"{say(turn.language, 'from_docs', source=source_label(source, turn.language))} {sentence}"
                     for sentence, source in picked)


# -- per intent --------------------------------------------------------------------------


def _browse(turn: Turn, outcome: Outcome) -> list[str]:
    found = outcome.found
    if found is None or not found.cards:
        return _nothing(turn, outcome)
    cards = found.cards
    language = turn.language
    blocks = [_lead(turn, found.relaxed, len(cards), found.total, found.filters), _cards_block(cards, language)]
    if turn.cheaper_than is None:  # after "cheaper", the ceiling is ours, not their budget
        blocks.append(_market_line(outcome.market, turn.filters, language))
    blocks.append(_pick(cards, found.filters, language, budget_is_theirs=turn.cheaper_than is None))
    if turn.cheaper_than is None:
        blocks.append(_closest_line(outcome.market, turn.filters, language, found.relaxed))
    return blocks


def _lead(turn: Turn, relaxed: tuple[str, ...], shown: int, total: int, filters: Filters) -> str:
    """What introduces the cards: cheaper, pricier, widened, or how many match and how many
    are shown (module docstring)."""
    language = turn.language
    widened = say(language, "widened", fields=fields(language, list(relaxed))) if relaxed else ":"
    if turn.cheaper_than is not None:
        return say(language, "cheaper", price=inr(turn.cheaper_than)) + widened
    if turn.pricier_than is not None:
        return say(language, "pricier", price=inr(turn.pricier_than)) + widened
    if relaxed:
        return say(language, "relaxed", kind=named(language, turn.filters), fields=fields(language, list(relaxed)))
    if total > shown:
        return say(language, "lead_best", total=total, kind=named(language, filters, count=total), shown=shown)
    if shown == 1:
        return say(language, "lead_one", kind=named(language, filters, count=1))
    return say(language, "lead_all", shown=shown, kind=named(language, filters, count=shown))


def _closest_line(market: dict[str, Any] | None, asked: Filters, language: str, relaxed: tuple[str, ...] = ()) -> str:
    """When nothing asked for fits the budget: the nearest item over it, with the gap."""
    closest = (market or {}).get("closest")
    if not closest or asked.max_price is None:
        return ""
    first = closest[0]
    kind = named(language, replace(asked, sizes=(), min_price=None, max_price=None), count=1)
    return say(language, "closest", "relaxed" if relaxed else None, kind=kind, budget=inr(asked.max_price),
               title=first["title"], price=inr(first["price"]), over=inr(first["over_budget_by"]))


def _nothing(turn: Turn, outcome: Outcome) -> list[str]:
    """Nothing fits even after relaxing: say so, and show the nearest items over the budget
    (the agent puts them in `outcome.focus`) with their figures."""
    language = turn.language
    if turn.cheaper_than is not None:
        blocks = [say(language, "lowest", kind=named(language, replace(turn.filters, max_price=None)),
                      price=inr(turn.cheaper_than))]
    else:
        blocks = [say(language, "not_found", kind=named(language, turn.filters))]
    if outcome.focus:
        blocks.append(_closest_line(outcome.market, turn.filters, language))
        blocks.append(_cards_block(outcome.focus, language))
    else:
        blocks.append(say(language, "more"))
    return blocks


def _price(turn: Turn, outcome: Outcome) -> list[str]:
    if outcome.found is None and outcome.focus:  # "any discount on this?"
        return [_cards_block(outcome.focus, turn.language), _discount_note(outcome.focus, turn.language)]
    blocks = _browse(turn, outcome)
    if turn.cheaper_than is None:
        blocks.append(_discount_note(outcome.cards, turn.language))
    return blocks


def _compare(turn: Turn, outcome: Outcome) -> list[str]:
    language = turn.language
    rows = (outcome.comparison or {}).get("products") or []
    if len(rows) < 2 and len(outcome.focus) == 1:
        only = outcome.focus[0]
        price = say(language, "at_price", price=inr(only["price"])) if isinstance(only.get("price"), (int, float)) else ""
        return [say(language, "only_one", title=only["title"], price=price)]
    if len(rows) < 2:
        return [say(language, "which_two")]
    a, b = rows[0], rows[1]
    ordinals = say(language, "ordinal").split("|")

    def which(sku: str) -> str:
        index = next(i for i, r in enumerate(rows) if r["sku"] == sku)
        return ordinals[index] if index < len(ordinals) else rows[index]["title"]

    def row(key: str, left: object, right: object) -> str:
        return f"- {say(language, key)}: {left} vs {right}"

    lines = [say(language, "comparing", a=a["title"], b=b["title"])]
    if isinstance(a["price"], (int, float)) and isinstance(b["price"], (int, float)):
        line = row("c_price", inr(a["price"]), inr(b["price"]))
        if a["price"] != b["price"]:
            cheap = a if a["price"] < b["price"] else b
            line += " — " + say(language, "cheaper_by", which=which(cheap["sku"]), gap=inr(abs(a["price"] - b["price"])))
        lines.append(line)
    if a.get("rating") is not None and b.get("rating") is not None:
        lines.append(row("c_rating", f"{a['rating']}/5", f"{b['rating']}/5"))
    for field in ("brand", "fabric", "occasion"):
        if a.get(field) or b.get(field):
            lines.append(row(f"c_{field}", a.get(field) or "—", b.get(field) or "—"))
    lines.append(row("c_sizes", ", ".join(a["sizes"]) or "—", ", ".join(b["sizes"]) or "—"))
    lines.append(row("c_stock", *(_stock(language, r, "row") for r in (a, b))))
    blocks = ["\n".join(lines)]
    comparison = outcome.comparison or {}
    verdict = []
    if cheaper := comparison.get("cheaper"):
        verdict.append(say(language, "wins_price", which=which(cheaper["sku"])))
    if rated := comparison.get("higher_rated"):
        verdict.append(say(language, "wins_rating", which=which(rated)))
    if verdict:
        blocks.append(say(language, "in_short", verdict="; ".join(verdict)))
    return blocks


def _stock(language: str, product: dict[str, Any], variant: str | None = None) -> str:
    """"in stock" or "currently out of stock" (a comparison's row: "out of stock")."""
    in_stock = product.get("in_stock", True)
    return say(language, "is_in_stock" if in_stock else "is_out_of_stock", variant)


def _size(turn: Turn, outcome: Outcome) -> list[str]:
    rows = outcome.stock or []
    language = turn.language
    if not rows:
        blocks = _browse(turn, outcome) if outcome.cards else [say(language, "which_product")]
    else:
        blocks = [_size_line(row, turn.size, language) for row in rows]
        blocks.append(say(language, "per_size"))
    if docs := _documents(turn, outcome):
        blocks.append(docs)
    elif rows:
        blocks.append(say(language, "no_chart"))
    return blocks


def _size_line(row: dict[str, Any], size: str | None, language: str) -> str:
    sizes = ", ".join(row["sizes"]) or say(language, "no_sizes")
    stock = _stock(language, row)
    if size is None:
        return say(language, "comes_in", title=row["title"], sizes=sizes, stock=stock)
    key = "listed_in" if row.get("size_listed") else "not_listed"
    return say(language, key, title=row["title"], size=size, sizes=sizes, stock=stock)


def _availability(turn: Turn, outcome: Outcome) -> list[str]:
    rows = outcome.stock or []
    if not rows:
        return _browse(turn, outcome)
    language = turn.language
    if turn.size is not None:
        return [_size_line(row, turn.size, language) for row in rows] + [say(language, "flag_sizes")]
    lines = [say(language, "stock_state", title=row["title"], stock=_stock(language, row),
                 sizes=say(language, "stock_sizes", sizes=", ".join(row["sizes"])) if row["sizes"] else "")
             for row in rows]
    lines.append(say(language, "flag_only"))
    return ["\n".join(lines)]


def _question(turn: Turn, outcome: Outcome) -> list[str]:
    language = turn.language
    names = FIELDS[language]
    blocks: list[str] = []
    for product in outcome.focus[:2]:
        attributes = product.get("attributes") or {}
        facts = [f"{names.get(k, k)}: {v}" for k, v in attributes.items()
                 if k in ("fabric", "occasion", "work", "pattern") and v]
        by = say(language, "by")
        line = f"**{product['title']}**" + (f" {by} {product['brand']}" if product.get("brand") else "")
        details = []
        if isinstance(product.get("price"), (int, float)):
            details.append(inr(product["price"]))
        details += facts
        if product.get("colors"):
            details.append(say(language, "colours") + " " + ", ".join(product["colors"]))
        if product.get("sizes"):
            details.append(say(language, "sizes") + " " + ", ".join(product["sizes"]))
        details.append(_stock(language, product, "row"))
        blocks.append(f"{line}: {'; '.join(details)}.")
        if product.get("description"):
            blocks.append(str(product["description"]))
    if docs := _documents(turn, outcome):
        blocks.append(docs)
    if not blocks:
        return _browse(turn, outcome)
    return blocks


def _order(turn: Turn, outcome: Outcome) -> list[str]:
    return [say(turn.language, "order"), _documents(turn, outcome), say(turn.language, "capabilities")]


def _returns(turn: Turn, outcome: Outcome) -> list[str]:
    if docs := _documents(turn, outcome, limit=3):
        return [docs]
    return [say(turn.language, "returns")]


def _handoff(turn: Turn, outcome: Outcome) -> list[str]:
    language = turn.language
    return [say(language, "handoff"), say(language, "meanwhile", capabilities=say(language, "capabilities"))]


def _greeting(turn: Turn, outcome: Outcome) -> list[str]:
    language = turn.language
    name = f" {turn.customer_name}" if turn.customer_name else ""
    blocks = [say(language, "greeting", name=name, capabilities=say(language, "capabilities"))]
    if turn.returning and (turn.filters.category or turn.filters.max_price) and says(language, "carry_on"):
        blocks.append(say(language, "carry_on", kind=named(language, turn.filters)))
    else:
        blocks.append(say(language, "what"))
    return blocks


def _out_of_scope(turn: Turn, outcome: Outcome) -> list[str]:
    return [say(turn.language, "out_of_scope") + " " + say(turn.language, "capabilities")]


_WRITERS = {
    Intent.BROWSE_SEARCH: _browse,
    Intent.PRICE_DISCOUNT: _price,
    Intent.COMPARE: _compare,
    Intent.SIZE_FIT: _size,
    Intent.AVAILABILITY: _availability,
    Intent.PRODUCT_QUESTION: _question,
    Intent.ORDER_STATUS: _order,
    Intent.RETURNS_POLICY: _returns,
    Intent.HUMAN_HANDOFF: _handoff,
    Intent.GREETING_SMALLTALK: _greeting,
    Intent.OUT_OF_SCOPE: _out_of_scope,
}
