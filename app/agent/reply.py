"""The agent's answer, composed from the turn and the tools' results (the default, offline way).

Sales-like but honest: it recommends from the results and says why (fit to budget, rating,
occasion), answers a price objection with cheaper items and their figures, and says plainly
what it cannot see (discounts, per-size stock, orders, a person to hand over to). Every title,
price, rating, count and stock state is copied from a tool result. In the shopper's language
(`Turn.language`): English (romanised Hindi too) as written here; Hindi, Persian, Russian and
Hebrew from app/agent/wording.py for the clarifying question, the product list's lead, nothing
found, the market and budget lines, the pick, the comparison, sizes and stock, and the fixed
answers (order, returns, hand-off, greeting, out of scope). Quoted documents and catalog values
(titles, colours, fabrics) stay as they are written.

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
from app.agent.wording import FIELDS, brief, fields, say
from app.conversation.formatting import best_sentences, product_line, source_label
from app.llm.phrases import inr, phrase
from app.search.constraints import Filters

CAPABILITIES = (
    "I can find products by kind, colour, size, occasion and budget, compare them side by side, "
    "and tell you the sizes they are listed in and whether they are in stock."
)


def compose(turn: Turn, outcome: Outcome) -> str:
    """The whole answer as Markdown."""
    if not turn.confident:
        return _clarify(turn)
    writer = _WRITERS.get(turn.intent, _browse)
    blocks = [b for b in writer(turn, outcome) if b]
    return "\n\n".join(blocks)


# -- shared pieces -----------------------------------------------------------------------


def _plural(category: str) -> str:
    if category.endswith(("s", "wear")):
        return category
    if category.endswith(("ch", "sh", "x")):
        return category + "es"
    return category + "s"


def describe(filters: Filters, *, count: int | None = None) -> str:
    """"red wedding lehengas in size M between ₹5,000 and ₹20,000" from the filters."""
    words: list[str] = []
    if filters.colors:
        words.append("/".join(filters.colors))
    for name in ("fabric", "occasion"):
        if value := getattr(filters, name):
            words.append(value)
    if filters.brand:
        words.append(filters.brand)
    kind = filters.category or "item"
    words.append(kind if count == 1 else _plural(kind))
    if filters.gender and filters.gender != "unisex":
        words.append(f"for {filters.gender}")
    if filters.sizes:
        words.append("in size " + " or ".join(filters.sizes))
    if filters.min_price is not None and filters.max_price is not None:
        words.append(f"between {inr(filters.min_price)} and {inr(filters.max_price)}")
    elif filters.max_price is not None:
        words.append(f"up to {inr(filters.max_price)}")
    elif filters.min_price is not None:
        words.append(f"from {inr(filters.min_price)}")
    return " ".join(words)


def _market_line(market: dict[str, Any] | None, asked: Filters, language: str = "en") -> str:
    """One sentence of market figures for what was asked (before any relaxing)."""
    if not market or not market.get("matching") or not market.get("price"):
        return ""
    price = market["price"]
    if language != "en":
        return _market_line_in(language, market, asked)
    kind = describe(replace(asked, sizes=(), min_price=None, max_price=None), count=market["matching"])
    spread = (f"prices run {inr(price['min'])} to {inr(price['max'])}, median {inr(price['median'])}"
              if price["min"] != price["max"] else f"priced {inr(price['min'])}")
    budget = market.get("budget")
    if budget and budget["within"] == 0:
        return f"We have {market['matching']} {kind}, none of them within your budget — {spread}."
    if budget:
        verb = "fits" if budget["within"] == 1 else "fit"
        return (f"We have {market['matching']} {kind}; {budget['within']} of them {verb} your budget "
                f"({budget['in_stock_within']} in stock) — {spread}.")
    return f"We have {market['matching']} {kind} ({market['in_stock']} in stock); {spread}."


def _market_line_in(language: str, market: dict[str, Any], asked: Filters) -> str:
    price = market["price"]
    kind = brief(language, replace(asked, sizes=(), min_price=None, max_price=None))
    spread = (say(language, "spread", low=inr(price["min"]), high=inr(price["max"]), median=inr(price["median"]))
              if price["min"] != price["max"] else say(language, "priced", low=inr(price["min"])))
    budget = market.get("budget")
    if budget and budget["within"] == 0:
        return say(language, "market_none", matching=market["matching"], kind=kind, spread=spread)
    if budget:
        return say(language, "market_budget", matching=market["matching"], kind=kind, within=budget["within"],
                   in_stock=budget["in_stock_within"], spread=spread)
    return say(language, "market", matching=market["matching"], kind=kind, in_stock=market["in_stock"], spread=spread)


def _pick(cards: list[dict[str, Any]], filters: Filters, *, budget_is_theirs: bool = True,
          language: str = "en") -> str:
    """One recommendation with its reasons, all from the card."""
    in_stock = [c for c in cards if c.get("in_stock", True)]
    if not in_stock:
        return ""
    best = max(in_stock, key=lambda c: (c.get("rating") or 0, -(c.get("price") or 0)))
    reasons = []
    if isinstance(best.get("rating"), (int, float)):
        reasons.append(f"rated {best['rating']}/5")
    if budget_is_theirs and filters.max_price is not None and isinstance(best.get("price"), (int, float)):
        left = filters.max_price - best["price"]
        if left > 0:
            reasons.append(f"{inr(left)} under your budget")
        elif left == 0:
            reasons.append("right at your budget")
    occasion = (best.get("attributes") or {}).get("occasion")
    if filters.occasion and occasion == filters.occasion:
        reasons.append(f"made for {occasion} wear" if occasion in ("party", "festive", "office", "casual")
                       else f"made for a {occasion}")
    if not reasons:
        return ""
    if language != "en":
        return _pick_in(language, best, filters, budget_is_theirs)
    return f"My pick: **{best['title']}** — {', '.join(reasons)}."


def _pick_in(language: str, best: dict[str, Any], filters: Filters, budget_is_theirs: bool) -> str:
    """`_pick`'s reasons in another language (the same facts, in the same order)."""
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
        reasons.append(say(language, "made_for", occasion=occasion))
    return say(language, "pick", title=best["title"], reasons=", ".join(reasons))


def _cards_block(cards: list[dict[str, Any]], language: str = "en") -> str:
    return "\n".join(product_line(c, language) for c in cards)


def _discount_note(cards: list[dict[str, Any]], language: str = "en") -> str:
    """Only discounts the data holds: an `mrp` above the price."""
    lines = []
    for c in cards:
        mrp = (c.get("attributes") or {}).get("mrp") or c.get("mrp")
        if isinstance(mrp, (int, float)) and isinstance(c.get("price"), (int, float)) and mrp > c["price"]:
            lines.append(f"**{c['title']}** is {inr(mrp - c['price'])} below its MRP of {inr(mrp)}.")
    if lines:
        return " ".join(lines)
    if language != "en":
        return say(language, "no_discount")
    return ("I can't see any discount, sale or coupon in our catalog data, so I won't promise one: "
            "the prices here are the current prices.")


def _documents(turn: Turn, outcome: Outcome, limit: int = 2) -> str:
    picked = best_sentences(turn.message, outcome.documents, limit=limit)
    return "\n".join(f"From {source_label(source, 'en')}: {sentence}" for sentence, source in picked)


# -- per intent --------------------------------------------------------------------------


def _browse(turn: Turn, outcome: Outcome) -> list[str]:
    found = outcome.found
    if found is None or not found.cards:
        return _nothing(turn, outcome)
    cards = found.cards
    filters = found.filters
    language = turn.language
    widened = _and([_FIELD_NAMES.get(r, r) for r in found.relaxed])
    blocks: list[str] = []
    if language != "en":
        blocks.append(_browse_lead_in(language, turn, found.relaxed, len(cards), found.total, filters))
    elif turn.cheaper_than is not None:
        blocks.append(f"Here are cheaper options, all under the {inr(turn.cheaper_than)} I showed you before"
                      + (f" (I widened the {widened} to find them):" if widened else ":"))
    elif turn.pricier_than is not None:
        blocks.append(f"Here are more premium options, all above the {inr(turn.pricier_than)} I showed you before"
                      + (f" (I widened the {widened} to find them):" if widened else ":"))
    elif found.relaxed:
        blocks.append(f"Nothing matches all of \"{describe(turn.filters)}\", so I widened the {widened}. "
                      "The closest:")
    else:
        blocks.append(_lead(len(cards), found.total, filters))
    blocks.append(_cards_block(cards, language))
    if turn.cheaper_than is None:  # after "cheaper", the ceiling is ours, not their budget
        blocks.append(_market_line(outcome.market, turn.filters, language))
    blocks.append(_pick(cards, filters, budget_is_theirs=turn.cheaper_than is None, language=language))
    if turn.cheaper_than is None:
        blocks.append(_closest_line(outcome.market, turn.filters, found.relaxed, language))
    return blocks


def _browse_lead_in(language: str, turn: Turn, relaxed: tuple[str, ...], shown: int, total: int,
                    filters: Filters) -> str:
    """`_browse`'s first line in another language: cheaper, pricier, widened, or the count."""
    widened = say(language, "widened", fields=fields(language, list(relaxed))) if relaxed else ":"
    if turn.cheaper_than is not None:
        return say(language, "cheaper", price=inr(turn.cheaper_than)) + widened
    if turn.pricier_than is not None:
        return say(language, "pricier", price=inr(turn.pricier_than)) + widened
    if relaxed:
        return say(language, "relaxed", kind=brief(language, turn.filters), fields=fields(language, list(relaxed)))
    kind = brief(language, filters)
    if total > shown:
        return say(language, "lead_best", total=total, kind=kind, shown=shown)
    if shown == 1:
        return say(language, "lead_one", kind=kind)
    return say(language, "lead_all", shown=shown, kind=kind)


def _lead(shown: int, total: int, filters: Filters) -> str:
    """What introduces the cards: how many match and how many are shown (module docstring)."""
    if total > shown:
        return f"I found {total} {describe(filters, count=total)}; here are the {shown} best:"
    if shown == 1:
        return f"Here is the only {describe(filters, count=1)} I found:"
    return f"Here are the {shown} {describe(filters, count=shown)} I found:"


def _and(items: list[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    return " and ".join(items) if len(items) <= 2 else ", ".join(items[:-1]) + " and " + items[-1]


def _closest_line(market: dict[str, Any] | None, asked: Filters, relaxed: tuple[str, ...] = (),
                  language: str = "en") -> str:
    """When nothing asked for fits the budget: the nearest item over it, with the gap."""
    closest = (market or {}).get("closest")
    if not closest or asked.max_price is None:
        return ""
    first = closest[0]
    if language != "en":
        return say(language, "closest", budget=inr(asked.max_price), title=first["title"],
                   price=inr(first["price"]), over=inr(first["over_budget_by"]))
    kind = describe(replace(asked, sizes=(), min_price=None, max_price=None), count=1)
    lead = "Nothing in stock" if not relaxed else f"No {kind} in stock"
    return (f"{lead} fits {inr(asked.max_price)}; the closest {kind} is **{first['title']}** at "
            f"{inr(first['price'])}, {inr(first['over_budget_by'])} over.")


_FIELD_NAMES = {"min_price": "minimum price", "sizes": "size", "colors": "colour"}


def _nothing(turn: Turn, outcome: Outcome) -> list[str]:
    """Nothing fits even after relaxing: say so, and show the nearest items over the budget
    (the agent puts them in `outcome.focus`) with their figures."""
    language = turn.language
    if language != "en":
        kind = brief(language, replace(turn.filters, max_price=None) if turn.cheaper_than else turn.filters)
        blocks = [say(language, "lowest", kind=kind, price=inr(turn.cheaper_than)) if turn.cheaper_than is not None
                  else say(language, "nothing", kind=kind)]
    elif turn.cheaper_than is not None:
        blocks = [f"Those were already our lowest-priced {describe(replace(turn.filters, max_price=None))}: "
                  f"nothing under {inr(turn.cheaper_than)} matches."]
    else:
        blocks = [f"I couldn't find {describe(turn.filters)} in our catalog."]
    if outcome.focus:
        blocks.append(_closest_line(outcome.market, turn.filters, language=language))
        blocks.append(_cards_block(outcome.focus, language))
    elif language != "en":
        blocks.append(say(language, "more"))
    else:
        blocks.append("Could you tell me a bit more — the kind of product, a colour or a budget?")
    return blocks


def _price(turn: Turn, outcome: Outcome) -> list[str]:
    if outcome.found is None and outcome.focus:  # "any discount on this?"
        return [_cards_block(outcome.focus, turn.language), _discount_note(outcome.focus, turn.language)]
    blocks = _browse(turn, outcome)
    if turn.cheaper_than is None:
        blocks.append(_discount_note(outcome.cards, turn.language))
    return blocks


def _compare(turn: Turn, outcome: Outcome) -> list[str]:
    if turn.language != "en":
        return _compare_in(turn.language, outcome)
    rows = (outcome.comparison or {}).get("products") or []
    if len(rows) < 2 and len(outcome.focus) == 1:
        only = outcome.focus[0]
        price = f" at {inr(only['price'])}" if isinstance(only.get("price"), (int, float)) else ""
        return [f"I've shown you only one product so far, **{only['title']}**{price}, so there is nothing "
                "to compare it with yet. Ask me for more options, or name another product, and I'll "
                "compare them side by side."]
    if len(rows) < 2:
        return ["Which two should I compare? Ask me for some products first, then say "
                "\"compare the first two\" or \"compare 1 and 3\"."]
    a, b = rows[0], rows[1]
    lines = [f"Comparing **{a['title']}** and **{b['title']}**:"]
    if isinstance(a["price"], (int, float)) and isinstance(b["price"], (int, float)):
        line = f"- Price: {inr(a['price'])} vs {inr(b['price'])}"
        if a["price"] != b["price"]:
            cheap = a if a["price"] < b["price"] else b
            line += f" — the {_which(rows, cheap['sku'])} is {inr(abs(a['price'] - b['price']))} cheaper"
        lines.append(line)
    if a.get("rating") is not None and b.get("rating") is not None:
        lines.append(f"- Rating: {a['rating']}/5 vs {b['rating']}/5")
    for field, label in (("brand", "Brand"), ("fabric", "Fabric"), ("occasion", "Occasion")):
        if a.get(field) or b.get(field):
            lines.append(f"- {label}: {a.get(field) or '—'} vs {b.get(field) or '—'}")
    lines.append(f"- Sizes: {', '.join(a['sizes']) or '—'} vs {', '.join(b['sizes']) or '—'}")
    lines.append(f"- Stock: {_stock(a)} vs {_stock(b)}")
    blocks = ["\n".join(lines)]
    verdict = []
    comparison = outcome.comparison or {}
    if cheaper := comparison.get("cheaper"):
        verdict.append(f"on price the {_which(rows, cheaper['sku'])} wins")
    if rated := comparison.get("higher_rated"):
        verdict.append(f"on ratings the {_which(rows, rated)} does")
    if verdict:
        blocks.append("In short: " + "; ".join(verdict) + ".")
    return blocks


def _compare_in(language: str, outcome: Outcome) -> list[str]:
    """`_compare` in another language: the same rows and verdict."""
    rows = (outcome.comparison or {}).get("products") or []
    if len(rows) < 2 and len(outcome.focus) == 1:
        only = outcome.focus[0]
        price = f", {inr(only['price'])}" if isinstance(only.get("price"), (int, float)) else ""
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
    lines.append(row("c_stock", *(say(language, "in_stock" if r.get("in_stock", True) else "out_of_stock")
                                  for r in (a, b))))
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


def _which(rows: list[dict[str, Any]], sku: str) -> str:
    index = next(i for i, r in enumerate(rows) if r["sku"] == sku)
    return ("first", "second", "third", "fourth")[index] if index < 4 else rows[index]["title"]


def _stock(row: dict[str, Any]) -> str:
    return "in stock" if row.get("in_stock", True) else "out of stock"


def _size(turn: Turn, outcome: Outcome) -> list[str]:
    rows = outcome.stock or []
    language = turn.language
    english = language == "en"
    if not rows:
        blocks = _browse(turn, outcome) if outcome.cards else [
            "Which product do you mean? Ask me for something first and I'll tell you the sizes it comes in."
            if english else say(language, "which_product")]
    else:
        blocks = [_size_line(row, turn.size, language) for row in rows]
        blocks.append("I can see the sizes each product is listed in and whether it is in stock, "
                      "not how many pieces are left in each size." if english else say(language, "per_size"))
    if docs := _documents(turn, outcome):
        blocks.append(docs)
    elif rows:
        blocks.append("I don't have a size chart for these in my documents." if english else say(language, "no_chart"))
    return blocks


def _size_line(row: dict[str, Any], size: str | None, language: str = "en") -> str:
    if language != "en":
        sizes = ", ".join(row["sizes"]) or say(language, "no_sizes")
        stock = say(language, "in_stock" if row["in_stock"] else "out_of_stock")
        if size is None:
            return say(language, "comes_in", title=row["title"], sizes=sizes, stock=stock)
        key = "listed_in" if row.get("size_listed") else "not_listed"
        return say(language, key, title=row["title"], size=size, sizes=sizes, stock=stock)
    sizes = ", ".join(row["sizes"]) or "no sizes listed"
    stock = "in stock" if row["in_stock"] else "currently out of stock"
    if size is None:
        return f"**{row['title']}** comes in {sizes}, and it is {stock}."
    if row.get("size_listed"):
        return f"Yes — **{row['title']}** is listed in size {size}, and it is {stock}."
    return f"**{row['title']}** is not listed in size {size}; it comes in {sizes}."


def _availability(turn: Turn, outcome: Outcome) -> list[str]:
    rows = outcome.stock or []
    if not rows:
        return _browse(turn, outcome)
    language = turn.language
    if language != "en":
        return _availability_in(language, rows, turn.size)
    if turn.size is not None:
        return [_size_line(row, turn.size) for row in rows] + [
            "I see an in-stock flag and the sizes a product is listed in — not quantities per size."]
    lines = []
    for row in rows:
        state = "is in stock" if row["in_stock"] else "is currently out of stock"
        lines.append(f"**{row['title']}** {state}" + (f" (sizes {', '.join(row['sizes'])})" if row["sizes"] else "") + ".")
    lines.append("I see an in-stock flag only — not quantities or delivery dates.")
    return ["\n".join(lines)]


def _availability_in(language: str, rows: list[dict[str, Any]], size: str | None) -> list[str]:
    if size is not None:
        return [_size_line(row, size, language) for row in rows] + [say(language, "flag_sizes")]
    lines = [say(language, "stock_state", title=row["title"],
                 stock=say(language, "in_stock" if row["in_stock"] else "out_of_stock"),
                 sizes=say(language, "stock_sizes", sizes=", ".join(row["sizes"])) if row["sizes"] else "")
             for row in rows]
    lines.append(say(language, "flag_only"))
    return ["\n".join(lines)]


def _question(turn: Turn, outcome: Outcome) -> list[str]:
    blocks: list[str] = []
    for product in outcome.focus[:2]:
        attributes = product.get("attributes") or {}
        names = FIELDS.get(turn.language, {})
        facts = [f"{names.get(k, k)}: {v}" for k, v in attributes.items()
                 if k in ("fabric", "occasion", "work", "pattern") and v]
        english = turn.language == "en"
        by = "by" if english else phrase(turn.language, "by")
        line = f"**{product['title']}**" + (f" {by} {product['brand']}" if product.get("brand") else "")
        details = []
        if isinstance(product.get("price"), (int, float)):
            details.append(inr(product["price"]))
        details += facts
        if product.get("colors"):
            details.append(("colours " if english else say(turn.language, "colours") + " ") + ", ".join(product["colors"]))
        if product.get("sizes"):
            details.append(("sizes " if english else phrase(turn.language, "sizes") + " ") + ", ".join(product["sizes"]))
        stock = "in_stock" if product.get("in_stock", True) else "out_of_stock"
        details.append(("in stock" if stock == "in_stock" else "out of stock") if english else say(turn.language, stock))
        blocks.append(f"{line}: {'; '.join(details)}.")
        if product.get("description"):
            blocks.append(str(product["description"]))
    if docs := _documents(turn, outcome):
        blocks.append(docs)
    if not blocks:
        return _browse(turn, outcome)
    return blocks


def _order(turn: Turn, outcome: Outcome) -> list[str]:
    if turn.language != "en":
        return [say(turn.language, "order"), _documents(turn, outcome), say(turn.language, "capabilities")]
    blocks = ["I can't look up orders: this assistant has no access to order, payment or delivery data. "
              "Your order confirmation email or the Orders page of your account shows the tracking status, "
              "and the store's support team can help with anything else."]
    if docs := _documents(turn, outcome):
        blocks.append(docs)
    blocks.append(CAPABILITIES)
    return blocks


def _returns(turn: Turn, outcome: Outcome) -> list[str]:
    if docs := _documents(turn, outcome, limit=3):
        return [docs]
    if turn.language != "en":
        return [say(turn.language, "returns")]
    return ["I don't have the store's returns or exchange policy in my documents, so I can't quote it. "
            "Please check the Returns page on the site or ask the support team."]


def _handoff(turn: Turn, outcome: Outcome) -> list[str]:
    if turn.language != "en":
        return [say(turn.language, "handoff"), say(turn.language, "capabilities")]
    return ["I can't connect you to a person from this chat: there is no live-agent queue behind it. "
            "The store's support team can be reached through the Contact page of the site.",
            "Meanwhile, " + CAPABILITIES[0].lower() + CAPABILITIES[1:]]


def _greeting(turn: Turn, outcome: Outcome) -> list[str]:
    if turn.language != "en":
        name = f" {turn.customer_name}" if turn.customer_name else ""
        return [say(turn.language, "greeting", name=name, capabilities=say(turn.language, "capabilities")),
                say(turn.language, "what")]
    hello = f"Hi {turn.customer_name}!" if turn.customer_name else "Hi!"
    blocks = [f"{hello} I'm the store's shopping assistant. {CAPABILITIES}"]
    if turn.returning and (turn.filters.category or turn.filters.max_price):
        blocks.append(f"Shall I carry on with {describe(turn.filters)}?")
    else:
        blocks.append("What are you shopping for?")
    return blocks


def _out_of_scope(turn: Turn, outcome: Outcome) -> list[str]:
    if turn.language != "en":
        return [say(turn.language, "out_of_scope") + " " + say(turn.language, "capabilities")]
    return ["That's outside what I can help with here — I'm the store's shopping assistant. " + CAPABILITIES]


def _clarify(turn: Turn) -> str:
    if turn.language != "en":
        return say(turn.language, "clarify")
    return ("I'm not sure what you're after. Are you looking for a product (tell me the kind, a colour, "
            "a size or a budget), comparing items, or asking about an order or returns?")


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
