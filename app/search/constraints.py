"""What a shopper asks for, as one type, and the one order in which it is given up.

`Filters` is what product search takes as parameters, what the query parser reads from a
query's words (`app.search.query_parse`), what the sales agent reads from a message and keeps
in its session memory (`app.agent.slots`, `app.agent.memory`), and what chat searches with.
It lives in its own module, not beside the product table, because the parser, the agent
and the request contracts need the type without the table (and its numpy columns).

When nothing matches every constraint, chat and the agent both widen the search with
`relaxations()`, in the one order `RELAX_ORDER`: the least important constraint first, as a
shopper would give them up:

1. `occasion`: a label the store puts on products; a festive lehenga suits a wedding too;
2. `fabric`: a property of the item, but one a shopper rarely sees on a card;
3. `brand`: mostly remembered from the session or the customer's preferences;
4. `sizes`, 5. `gender`, 6. `colors`: the order both earlier orders agreed on; the colour is
   the first thing a shopper sees on a card;
7. `min_price`: the floor of a range the shopper gave, or "something more premium": dropping
   it shows what was just turned down as too cheap.

Last, that is never: `max_price` (the budget) and `category` (the kind of product), what the
shopper came for (the agent then offers the nearest items over the budget), and `in_stock`,
the storefront's choice. What the shopper asked for in the message itself goes after the
rest, in the same order (`relaxations(..., asked=...)`): the agent knows what came from memory;
all of chat's comes from the question. Before, chat dropped `occasion` before `fabric` and
`min_price` before `colors`, the agent the other way round in both; this takes chat's first
choice and the agent's second.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

RELAX_ORDER: tuple[str, ...] = ("occasion", "fabric", "brand", "sizes", "gender", "colors", "min_price")


@dataclass(frozen=True, slots=True)
class Filters:
    """Every field narrows (AND); several values within a field widen (OR). None / () means
    "not asked", not "any". Declared in `RELAX_ORDER`, between the kind of product and the
    budget and stock, which are never given up."""

    category: str | None = None
    occasion: str | None = None
    fabric: str | None = None
    brand: str | None = None
    sizes: tuple[str, ...] = ()
    gender: str | None = None
    colors: tuple[str, ...] = ()
    min_price: float | None = None
    max_price: float | None = None
    in_stock: bool | None = None

    def __bool__(self) -> bool:
        """Whether anything is asked."""
        return any(getattr(self, name) not in (None, ()) for name in self.__dataclass_fields__)

    def merged_over(self, parsed: Filters) -> Filters:
        """These filters (explicit parameters) over ones parsed from the query text:
        a field set explicitly wins; a field set only in the text is kept."""
        values = {}
        for name in self.__dataclass_fields__:
            mine = getattr(self, name)
            values[name] = mine if mine not in (None, ()) else getattr(parsed, name)
        return replace(self, **values)

    def without(self, name: str) -> Filters:
        """These filters with field `name` unset."""
        unset: dict[str, Any] = {name: () if name in ("colors", "sizes") else None}
        return replace(self, **unset)

    def as_dict(self) -> dict[str, Any]:
        """Only the fields that are set, tuples as lists: JSON-ready for events and the store."""
        return {
            name: list(value) if isinstance(value, tuple) else value
            for name in self.__dataclass_fields__
            if (value := getattr(self, name)) not in (None, ())
        }

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Filters:
        """The inverse of `as_dict`, also for a stored session or a request: unknown keys are
        ignored, unset and empty values skipped, lists made tuples."""
        clean: dict[str, Any] = {}
        for name in cls.__dataclass_fields__:
            value = values.get(name)
            if value in (None, "", (), []):
                continue
            clean[name] = tuple(value) if isinstance(value, (list, tuple)) else value
        return cls(**clean)

    def spelled(self) -> Filters:
        """As the catalog spells values, for constraints a person or a model typed: words
        lower case, sizes upper case, a brand as typed (brands match whatever the case), a
        whole price as an integer."""

        def price(value: float | None) -> float | None:
            return int(value) if value is not None and float(value).is_integer() else value

        return replace(
            self,
            **{name: getattr(self, name).lower() for name in ("occasion", "fabric", "gender", "category")
               if getattr(self, name) is not None},
            colors=tuple(c.lower() for c in self.colors if c),
            sizes=tuple(s.upper() for s in self.sizes if s),
            min_price=price(self.min_price),
            max_price=price(self.max_price),
        )


def relaxations(filters: Filters, *, asked: Filters = Filters()) -> Iterator[tuple[str, Filters]]:
    """What to try when nothing matches every filter: the fields of `RELAX_ORDER` that are
    set, dropped one by one and cumulatively; those set in `asked` (what the shopper said
    this time) after the others. Yields (field dropped, filters)."""
    said = asked.as_dict()
    order = [n for n in RELAX_ORDER if n not in said] + [n for n in RELAX_ORDER if n in said]
    for name in order:
        if getattr(filters, name) not in (None, ()):
            filters = filters.without(name)
            yield name, filters
