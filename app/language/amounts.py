"""The words that multiply an amount ("20k", "1.5 lakh", "2 million", "3 crore", "20 hazaar"):
one table for the query parser (`app.search.query_parse`) and the reader of other languages
(`app.language.reading`, which reads "میلیون", "миллион", "करोड़" into these words)."""

from __future__ import annotations

UNITS: dict[str, int] = {
    "k": 1_000, "thousand": 1_000, "hazar": 1_000, "hazaar": 1_000, "hajar": 1_000,
    "l": 100_000, "lakh": 100_000, "lakhs": 100_000, "lac": 100_000, "lacs": 100_000,
    "million": 1_000_000, "millions": 1_000_000,
    "crore": 10_000_000, "crores": 10_000_000,
}
SUFFIXES = ("k", "l")  # written right after the digits ("20k"); the others are words
WORDS = tuple(sorted((u for u in UNITS if u not in SUFFIXES), key=len, reverse=True))
