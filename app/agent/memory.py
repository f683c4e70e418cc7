"""What the agent remembers of a session, and how a follow-up reads against it.

Stored in MongoDB (`agent_sessions`, see app/store/repositories.py) after every turn:
- `preferences`: the filters of the current search (category, colours, sizes, budget,
  occasion, fabric, brand, gender) — a follow-up changes only what it names;
- `shown`: the products of the last cards, in order, so "the first two" means something;
- `seen`: every product shown this session (newest last, bounded);
- `last_intent`, `turns`.

Follow-ups refine instead of restarting:
- "in blue" / "size M" / "under 10k": a message that names no product kind keeps the current
  search and swaps what it names;
- "show me cheaper ones" / "too expensive": the price ceiling drops below the cheapest product
  shown; "something more premium": the floor rises above the dearest one (the direction comes
  from `app.agent.slots.price_direction`);
- "compare the first two", "the second one": ordinals point into `shown`.
A message that names a new kind of product starts a new search that keeps only the budget,
occasion and gender (colours, fabric and brand belong to the old kind; the agent carries the
size over too when the new kind comes in it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from app.search.constraints import Filters

SEEN_MAX = 200

_CARRY_TO_NEW_KIND = ("min_price", "max_price", "occasion", "gender")

_ORDINAL_WORDS = {
    "first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3,
    "last": -1, "pehla": 0, "pehli": 0, "pehle": 0, "doosra": 1, "doosri": 1, "dusra": 1, "dusri": 1,
}
_PAIR = re.compile(
    r"\b(?:(?:the\s+)?(?:first|top)\s+(?:two|2)|(?:these|those|the)\s+(?:two|2)|both(?:\s+of\s+them)?|"
    r"dono|pehle\s+do)\b",
    re.IGNORECASE,
)
_ORDINAL = re.compile(r"\b(" + "|".join(_ORDINAL_WORDS) + r")\b", re.IGNORECASE)
_NUMBERED = re.compile(r"(?:#|\bno\.?\s*|\bnumber\s+|\boption\s+|\bitem\s+)([1-9])\b", re.IGNORECASE)
_BARE_PAIR = re.compile(r"\b([1-9])\s*(?:and|&|vs\.?|or|,)\s*([1-9])\b")
_DEICTIC = re.compile(r"\b(?:this|that|it|this one|that one|yeh|ye|woh|wo|iska|uska)\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Memory:
    preferences: Filters = Filters()
    query: str = ""  # words of the current search that are not filters ("kanjeevaram")
    shown: tuple[str, ...] = ()
    seen: tuple[str, ...] = ()
    last_intent: str | None = None
    turns: int = 0

    def to_doc(self) -> dict[str, Any]:
        return {
            "preferences": self.preferences.as_dict(),
            "query": self.query,
            "shown": list(self.shown),
            "seen": list(self.seen[-SEEN_MAX:]),
            "last_intent": self.last_intent,
            "turns": self.turns,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any] | None) -> Memory:
        doc = doc or {}
        return cls(
            preferences=Filters.from_dict(doc.get("preferences") or {}),
            query=str(doc.get("query") or ""),
            shown=tuple(doc.get("shown") or ()),
            seen=tuple(doc.get("seen") or ()),
            last_intent=doc.get("last_intent"),
            turns=int(doc.get("turns") or 0),
        )

    def showing(self, skus: list[str]) -> Memory:
        """After cards were shown: they become `shown`, and join `seen`."""
        seen = [s for s in self.seen if s not in skus] + list(skus)
        return replace(self, shown=tuple(skus), seen=tuple(seen[-SEEN_MAX:]))


def merge(current: Filters, asked: Filters) -> Filters:
    """The search after a message that set `asked`, given the current one.

    Same kind of product (or none named): every field `asked` sets replaces the current one.
    A new kind: only budget, occasion and gender carry over."""
    if asked.category is not None and asked.category != current.category:
        base = Filters(**{name: getattr(current, name) for name in _CARRY_TO_NEW_KIND})
    else:
        base = current
    merged = asked.merged_over(base)
    # A new ceiling below the current floor (or the reverse) replaces the other end too.
    if merged.min_price is not None and merged.max_price is not None and merged.min_price > merged.max_price:
        return replace(merged, min_price=None) if asked.max_price is not None else replace(merged, max_price=None)
    return merged


def references(message: str, shown: tuple[str, ...]) -> list[str]:
    """Products of `shown` the message points at: "the first two", "both", "1 and 3",
    "the second one", "#2". Empty when it points at none (or nothing was shown)."""
    if not shown:
        return []
    if _PAIR.search(message):
        return list(shown[:2])
    if match := _BARE_PAIR.search(message):
        picks = [int(match.group(1)) - 1, int(match.group(2)) - 1]
        return [shown[i] for i in dict.fromkeys(picks) if i < len(shown)]
    picked: list[int] = [_ORDINAL_WORDS[m.group(1).lower()] for m in _ORDINAL.finditer(message)]
    picked += [int(m.group(1)) - 1 for m in _NUMBERED.finditer(message)]
    out: list[str] = []
    for index in picked:
        if -len(shown) <= index < len(shown) and shown[index] not in out:
            out.append(shown[index])
    return out


def asks_for_two(message: str) -> bool:
    """"the first two", "both", "1 and 3": the message is about two shown products (whether or
    not two were shown)."""
    return bool(_PAIR.search(message) or _BARE_PAIR.search(message))


def points_at_shown(message: str) -> bool:
    """"Is this available in M?" — "this"/"it" means the first product shown."""
    return bool(_DEICTIC.search(message))
