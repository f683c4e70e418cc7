"""Follow-ups: "and in blue?" after "red silk lehenga" means "blue silk lehenga".

A message that names no product kind and has fewer than two words of its own refines the
previous product question: the fields it sets (colour, size, budget, fabric...) replace
those of the previous one, the rest is kept.
"""

from __future__ import annotations

from dataclasses import replace

from app.conversation.filler import FILLER
from app.search.query_parse import ParsedQuery, parse_query
from app.search.vocabulary import Vocabulary


def _own_words(parsed: ParsedQuery) -> list[str]:
    return [w for w in parsed.residual.lower().split() if w not in FILLER and len(w) > 1]


def is_refinement(message: str, vocabulary: Vocabulary) -> bool:
    parsed = parse_query(message, vocabulary)
    return parsed.filters.category is None and len(_own_words(parsed)) < 2 and bool(parsed.filters)


def render(parsed: ParsedQuery) -> str:
    """A query string that parses back to the same filters."""
    asked = parsed.filters
    parts = [parsed.residual, " ".join(asked.colors), asked.fabric or "", asked.occasion or "", asked.category or ""]
    if asked.sizes:
        parts.append("size " + " ".join(asked.sizes))
    if asked.min_price is not None:
        parts.append(f"above {int(asked.min_price)}")
    if asked.max_price is not None:
        parts.append(f"under {int(asked.max_price)}")
    return " ".join(p for p in parts if p).strip()


def contextual_query(previous_questions: list[str], message: str, vocabulary: Vocabulary) -> str:
    """The query to retrieve with, given the shopper's earlier questions (oldest first), read
    in the store's `vocabulary`."""
    if not previous_questions or not is_refinement(message, vocabulary):
        return message
    new = parse_query(message, vocabulary)
    for earlier in reversed(previous_questions):
        before = parse_query(earlier, vocabulary)
        if before.filters:  # what the refinement names replaces the earlier question's
            return render(replace(before, filters=new.filters.merged_over(before.filters)))
    return message
