"""What the typed contracts cost on the hot path, in-process (no server), on this machine.

    .venv/bin/python -m bench.contracts          # about 30 s

1. Reading a request: each route's model (`model_validate_json` for JSON bodies,
   `model_validate` for query strings) against `json.loads` alone, and against the
   hand-written parsers they replaced (app/routes/params.py as of commit 4c892a3, read with
   `git show`; that column is left out when git or the commit is not there).
2. Building an event: the constructors (plain dicts, what producers call for every token)
   against validating the same payload with its model (what it would cost to build events
   through the models).
3. Writing a frame: `wire.encode` (now with `allow_nan=False` and its never-raise guard)
   against the encoder it had before.

Each figure is the best of 9 runs of `timeit` (µs per call: the least disturbed by other
work on a shared machine, as the timeit documentation advises), the runs of the figures on
one row interleaved. Results: bench/results/contracts.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import timeit  # noqa: E402
import types  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

from app.routes.chat import ChatBody  # noqa: E402
from app.routes.search import AzaBody, SearchQuery  # noqa: E402
from app.routes.troika import TroikaBody  # noqa: E402
from app.streams import events as ev  # noqa: E402
from app.streams import wire  # noqa: E402
from app.streams.schema import ProductCardsResult, TextEvent  # noqa: E402

BEFORE = "4c892a3"
RESULTS = ROOT / "bench" / "results" / "contracts.md"

CHAT = b'{"query": "blue kurta under 2000 for office", "sessionId": "s-5f0c3e1b", "enableTTS": true}'
TROIKA = (b'{"message": "shaadi ke liye red lehenga 20k tak", "sessionId": "s-5f0c3e1b", '
          b'"customer": {"name": "Asha", "budget": 20000, "preferences": {"colors": ["red", "maroon"], '
          b'"occasion": "wedding"}}}')
AZA = b'{"query": "elegant outfit for a reception", "limit": 10, "min_score": 0.3, "filters": {"max_price": 5000}}'
SEARCH = {"q": "red silk lehenga", "limit": "24", "color": "red,maroon", "max_price": "20000", "sort": "relevance"}
CARD = {"sku": "SS-000117", "title": "Phoolwari Scarlet Ready-to-wear Saree", "brand": "Phoolwari",
        "category": "saree", "subcategory": "ready-to-wear saree", "price": 3299, "currency": "INR",
        "colors": ["red", "yellow"], "sizes": ["Free Size"], "rating": 3.0, "in_stock": True,
        "image_url": "/static/products/saree.svg", "attributes": {"fabric": "chiffon", "occasion": "wedding"},
        "score": 0.0164, "text_score": 7.2249, "vector_score": None}


def per_call_us(fn: Callable[[], Any], number: int = 20000) -> float:
    return row_us(fn, number=number)[0]


def row_us(*fns: Callable[[], Any] | None, number: int = 20000, repeat: int = 9) -> list[float | None]:
    """Best µs per call of each function, their runs interleaved (None stays None)."""
    best: list[float | None] = [None if fn is None else float("inf") for fn in fns]
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            if fn is not None:
                best[i] = min(best[i], timeit.timeit(fn, number=number) / number * 1e6)  # type: ignore[type-var]
    return best


def old_module(path: str) -> types.ModuleType | None:
    """A module of this project as it was at BEFORE (from git; None without it)."""
    try:
        source = subprocess.run(["git", "show", f"{BEFORE}:{path}"], cwd=ROOT, check=True,
                                capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    module = types.ModuleType("old_" + Path(path).stem)
    exec(compile(source, f"old_{Path(path).name}", "exec"), module.__dict__)  # noqa: S102 - our own file, from git
    return module


def old_readers(p: types.ModuleType) -> dict[str, Callable[[], Any]]:
    def chat() -> Any:
        body = json.loads(CHAT)
        return (p.text(body, "query", max_len=4000), p.text(body, "sessionId", max_len=128, required=False),
                p.text(body, "chatbotId", max_len=128, required=False), p.boolean(body, "enableTTS"),
                p.text(body, "language", max_len=8, required=False))

    def troika() -> Any:  # the route's own checks, as they were, for the same body
        body = json.loads(TROIKA)
        sorted(set(body) - {"message", "sessionId", "customer", "enableTTS"})
        customer = body["customer"]
        prefs = customer["preferences"]
        return (p.text(body, "message", max_len=4000), p.text(body, "sessionId", max_len=128, required=False),
                p.boolean(body, "enableTTS"), p.text(customer, "name", max_len=100, required=False),
                [i.strip().lower() for i in prefs["colors"]], p.text(prefs, "occasion", max_len=60, required=False))

    def aza() -> Any:
        body = json.loads(AZA)
        return (p.text(body, "query", max_len=512), p.integer(body, "limit", default=10, low=1, high=50),
                p.number(body, "min_score", low=-1.0, high=1.0), p.number(body["filters"], "max_price"))

    def search() -> Any:
        q = SEARCH
        return (p.text(q, "q", max_len=512), p.integer(q, "limit", default=20, low=1, high=50),
                p.choice(q, "sort", ("relevance", "price_asc", "price_desc", "rating"), "relevance"),
                p.words(q, "color"), p.number(q, "max_price"), p.number(q, "min_price"), p.boolean(q, "in_stock"))

    return {"chat": chat, "troika": troika, "aza": aza, "search": search}


def main() -> None:
    rows: list[tuple[str, float, float | None, float | None]] = []
    old = old_module("app/routes/params.py")
    before = old_readers(old) if old is not None else {}
    new = {
        "chat": (lambda: ChatBody.model_validate_json(CHAT), lambda: json.loads(CHAT)),
        "troika": (lambda: TroikaBody.model_validate_json(TROIKA), lambda: json.loads(TROIKA)),
        "aza": (lambda: AzaBody.model_validate_json(AZA), lambda: json.loads(AZA)),
        "search": (lambda: SearchQuery.model_validate(SEARCH), None),
    }
    for name, (model, loads) in new.items():
        m, j, b = row_us(model, loads, before.get(name))
        assert m is not None
        rows.append((name, m, j, b))

    token = ev.text("tok", "tok")
    cards = ev.results("product_cards", products=[CARD] * 20, total=20)
    text_dict, text_model = row_us(lambda: ev.text("tok", "tok"), lambda: TextEvent.model_validate(token.data))
    cards_dict, cards_model = row_us(lambda: ev.results("product_cards", products=[CARD] * 20, total=20),
                                     lambda: ProductCardsResult.model_validate(cards.data), number=2000)
    build = [
        ("`ev.text(...)` (a dict)", text_dict),
        ("`TextEvent.model_validate` of it", text_model),
        ("`ev.results('product_cards', 20 cards)`", cards_dict),
        ("`ProductCardsResult.model_validate` of it", cards_model),
    ]
    old_wire = old_module("app/streams/wire.py")
    frames = []
    for label, event, number in (("text frame", token, 20000), ("20-card frame", cards, 2000)):
        frame_id = "5f0c3e1b9a7d4c2e8f6a0b1c2d3e4f50-2"
        then, now = row_us(None if old_wire is None else (lambda: old_wire.encode(event, frame_id)),
                           lambda: wire.encode(event, frame_id), number=number)
        if then is not None:
            frames.append((f"{label}, before (`wire.encode` at {BEFORE})", then))
        frames.append((f"{label}, now", now))

    load = os.getloadavg()[0]
    lines = [
        "# Contracts on the hot path (`bench/contracts.py`)", "",
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load:.2f}; µs per call, "
        "best of 9 interleaved `timeit` runs.", "",
        "| request | typed model | `json.loads` alone | hand-written parser (before) |", "|---|---:|---:|---:|",
        *(f"| {n} | {m:.2f} | {'-' if j is None else f'{j:.2f}'} | {'-' if b is None else f'{b:.2f}'} |"
          for n, m, j, b in rows),
        "", "| building an event | µs |", "|---|---:|", *(f"| {n} | {v:.2f} |" for n, v in build),
        "", "| writing a frame | µs |", "|---|---:|", *(f"| {n} | {v:.2f} |" for n, v in frames), "",
    ]
    text = "\n".join(lines)
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
