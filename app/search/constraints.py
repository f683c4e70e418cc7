"""What a shopper asks for, as one type.

`Filters` is what product search takes as parameters, what the query parser reads from a
query's words (`app.search.query_parse`), what the sales agent reads from a message and keeps
in its session memory (`app.agent.slots`, `app.agent.memory`), and what chat searches with.
It lives in its own module, not beside the product table, because the parser, the agent
and the request contracts need the type without the table (and its numpy columns).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True, slots=True)
class Filters:
    """Every field narrows (AND); several values within a field widen (OR). None / () means
    "not asked", not "any"."""

    category: str | None = None
    brand: str | None = None
    colors: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    fabric: str | None = None
    occasion: str | None = None
    gender: str | None = None
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


def relaxations(filters: Filters, order: Iterable[str]) -> Iterator[tuple[str, Filters]]:
    """What to try when nothing matches every filter: the fields of `order` that are set,
    dropped one by one and cumulatively, least telling first. Yields (field dropped, filters)."""
    for name in order:
        if getattr(filters, name) not in (None, ()):
            filters = filters.without(name)
            yield name, filters
