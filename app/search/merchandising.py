"""A merchant's say in search: synonyms, and rules that pin, hide, boost or bury products.

Synonyms widen what a query's words find, before ranking:
- two-way: every phrase of the set stands for the others ("tee", "t-shirt");
- one-way: a phrase also finds its targets, not the reverse ("sherwani" -> "wedding").
They add words to the ranking text only, never filters: a synonym can widen what is found,
never narrow it.

A rule applies when its condition holds: the query is its `query` phrase (`match="exact"`) or
holds it (`"contains"`), and/or a filter the search applied has its value (`category` =
"saree"); a rule with neither applies to every search. Its actions, in this order:
1. hide: the products never show;
2. boost and bury: a product matching an attribute (`brand`, `category`, `subcategory`,
   `in_stock`, `colors` or `attributes.<name>`, e.g. a margin tag) gets its rank score
   multiplied by `1 + weight` (weight > 0) or divided by `1 - weight` (weight < 0); the rank
   score is `1 / (RANK_OFFSET + rank)`, so a boost of 1 lifts a product about as far as doubling
   its reciprocal rank, more near the top than far down;
3. pins: the product goes to its position (1 = first), whether the words found it or not, as
   long as it is in the catalog, not hidden, and inside the filters the shopper chose.
Rules and their actions apply in the order given (rules by `priority`, then id); a later pin of
the same position, or of the same product, wins. Every product a rule moved carries `Move`s naming the rule and action,
so a card can say why it is there.

Pure functions over a ranking (a list of SKUs, best first) and the products, and `Book`: the
set in force on this instance, read again from the store every SEARCH_SYNC_S when it changed
(the admin routes write it: app/routes/merchandising.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from app.search.text import words

log = logging.getLogger("storestream.search")

RANK_OFFSET = 10.0
BOOST_FIELDS = ("brand", "category", "subcategory", "in_stock", "colors")
Action = Literal["pin", "hide", "boost", "bury"]


def phrase(text: str) -> str:
    """A phrase as the index reads it (case, letter forms and punctuation do not matter)."""
    return " ".join(words(text))


def _holds(text: str, part: str) -> bool:
    return f" {part} " in f" {text} "


@dataclass(frozen=True, slots=True)
class Synonym:
    id: str
    terms: tuple[str, ...]  # two-way: all of them alike; one-way: the first finds the rest
    one_way: bool = False


def expansions(query: str, synonyms: Iterable[Synonym]) -> list[str]:
    """The phrases `query`'s synonyms add, each once, none the query already holds."""
    text = phrase(query)
    out: dict[str, None] = {}
    for synonym in synonyms:
        terms = [phrase(t) for t in synonym.terms]
        sources = terms[:1] if synonym.one_way else terms
        if any(t and _holds(text, t) for t in sources):
            out.update((t, None) for t in terms if t and not _holds(text, t))
    return list(out)


@dataclass(frozen=True, slots=True)
class Boost:
    field: str  # one of BOOST_FIELDS or "attributes.<name>"
    value: str | bool
    weight: float  # > 0 boost, < 0 bury


@dataclass(frozen=True, slots=True)
class Pin:
    sku: str
    position: int  # 1 = first


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    query: str | None = None
    match: Literal["exact", "contains"] = "exact"
    filters: Mapping[str, str] = field(default_factory=dict)  # e.g. {"category": "saree"}
    pins: tuple[Pin, ...] = ()
    hide: tuple[str, ...] = ()
    boosts: tuple[Boost, ...] = ()
    priority: int = 0

    def applies(self, query: str, filters: Mapping[str, Any]) -> bool:
        if self.query is not None:
            asked, wanted = phrase(query), phrase(self.query)
            if not (asked == wanted if self.match == "exact" else _holds(asked, wanted)):
                return False
        return all(_same(filters.get(name), value) for name, value in self.filters.items())


def _same(have: Any, want: str) -> bool:
    if isinstance(have, (list, tuple)):
        return any(_same(h, want) for h in have)
    return isinstance(have, (str, int, float)) and phrase(str(have)) == phrase(want)


@dataclass(frozen=True, slots=True)
class Move:
    rule: str
    action: Action


def _value(product: Mapping[str, Any], name: str) -> Any:
    if name.startswith("attributes."):
        return (product.get("attributes") or {}).get(name.removeprefix("attributes."))
    if name == "in_stock":
        return product.get("in_stock", True)
    return product.get(name)


def _matches(product: Mapping[str, Any], boost: Boost) -> bool:
    have = _value(product, boost.field)
    if isinstance(boost.value, bool) or isinstance(have, bool):
        return have is boost.value or have == boost.value
    return _same(have, boost.value) if have is not None else False


@dataclass(frozen=True, slots=True)
class Arranged:
    skus: list[str]
    moves: dict[str, list[Move]]


def arrange(ranked: Sequence[str], product: Callable[[str], Mapping[str, Any] | None], rules: Iterable[Rule], *,
            query: str, filters: Mapping[str, Any], allowed: Callable[[str], bool] = lambda sku: True,
            reorder: bool = True) -> Arranged:
    """`ranked` with the rules that apply to (`query`, `filters`) applied. `allowed(sku)`:
    whether a pinned product is inside the shopper's filters. `reorder=False` (a sort by price
    or rating the shopper chose): only hiding applies."""
    active = sorted((r for r in rules if r.applies(query, filters)), key=lambda r: (r.priority, r.id))
    moves: dict[str, list[Move]] = {}
    hidden = {sku: r.id for r in active for sku in r.hide}
    skus = [sku for sku in ranked if sku not in hidden]
    if not reorder or not active:
        return Arranged(skus, moves)
    score = {sku: 1.0 / (RANK_OFFSET + rank) for rank, sku in enumerate(skus, start=1)}
    for rule in active:
        for boost in rule.boosts:
            for sku in skus:
                item = product(sku)
                if item is not None and boost.weight and _matches(item, boost):
                    score[sku] *= 1 + boost.weight if boost.weight > 0 else 1 / (1 - boost.weight)
                    moves.setdefault(sku, []).append(Move(rule.id, "boost" if boost.weight > 0 else "bury"))
    skus.sort(key=lambda sku: -score[sku])  # stable: equal scores keep the ranking's order
    pinned: dict[int, tuple[str, str]] = {}
    for rule in active:
        for pin in rule.pins:
            if pin.sku not in hidden and product(pin.sku) is not None and allowed(pin.sku):
                pinned = {at: held for at, held in pinned.items() if held[0] != pin.sku}  # its last pin wins
                pinned[pin.position] = (pin.sku, rule.id)
    chosen = {sku for sku, _ in pinned.values()}
    rest = [sku for sku in skus if sku not in chosen]
    for position in sorted(pinned):
        sku, rule_id = pinned[position]
        rest.insert(min(position, len(rest) + 1) - 1, sku)
        moves.setdefault(sku, []).append(Move(rule_id, "pin"))
    return Arranged(rest, moves)


# -- what is in force ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Merchandise:
    synonyms: tuple[Synonym, ...] = ()
    rules: tuple[Rule, ...] = ()


def from_docs(docs: Iterable[Mapping[str, Any]]) -> Merchandise:
    """Stored documents (app/store/repositories.py `Merchandising`) as synonyms and rules."""
    synonyms: list[Synonym] = []
    rules: list[Rule] = []
    for doc in docs:
        item_id = str(doc["_id"]).partition(":")[2]
        if doc.get("kind") == "synonym":
            synonyms.append(Synonym(item_id, tuple(doc["terms"]), bool(doc.get("one_way"))))
        elif doc.get("kind") == "rule":
            rules.append(Rule(
                item_id, query=doc.get("query"), match=doc.get("match") or "exact", filters=doc.get("filters") or {},
                pins=tuple(Pin(p["sku"], p["position"]) for p in doc.get("pins") or ()),
                hide=tuple(doc.get("hide") or ()),
                boosts=tuple(Boost(b["field"], b["value"], b["weight"]) for b in doc.get("boosts") or ()),
                priority=doc.get("priority") or 0))
    return Merchandise(tuple(synonyms), tuple(rules))


class Feed(Protocol):
    async def all(self) -> list[dict[str, Any]]: ...
    async def changed(self) -> tuple[int, float]: ...


class Book:
    """The synonyms and rules this instance applies, handed to `apply` (the search service)
    whole each time they change, never edited in place, so a search reads one consistent set."""

    def __init__(self, apply: Callable[[Merchandise], None]) -> None:
        self.current = Merchandise()
        self._apply = apply
        self._seen: tuple[int, float] | None = None

    async def load(self, feed: Feed) -> None:
        """Read the whole set again (after a write here, or when `follow` sees a change)."""
        seen = await feed.changed()
        self.current = from_docs(await feed.all())
        self._apply(self.current)
        self._seen = seen

    async def follow(self, feed: Callable[[], Feed | None], interval_s: float,
                     sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        """Every `interval_s`, read the set again if another instance changed it; runs forever."""
        while True:
            try:
                source = feed()
                if source is not None and await source.changed() != self._seen:
                    await self.load(source)
                    log.info("merchandising: %d synonyms, %d rules in force",
                             len(self.current.synonyms), len(self.current.rules))
            except Exception as exc:  # noqa: BLE001 - the database may be down for a while
                log.warning("merchandising sync skipped: %s", type(exc).__name__)
            await sleep(interval_s)
