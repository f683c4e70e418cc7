"""Reading JSON values in assertions: e.g. every amount an answer may quote."""

from __future__ import annotations

from typing import Any


def numbers(value: Any) -> list[float]:
    """Every number inside a JSON value (booleans are not numbers here)."""
    if isinstance(value, bool):
        return []
    if isinstance(value, (int, float)):
        return [value]
    if isinstance(value, dict):
        return [n for v in value.values() for n in numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in numbers(v)]
    return []
