"""Pass one of an upload: extract -> chunk -> count, section by section, into a `ChunkSpool`.

It is CPU work (tiktoken, pypdf), so it runs in a worker thread; `in_thread` steps the
generator there one section at a time, which lets the stream report progress between
sections and stop within one section when the client leaves or the deadline passes.
Nothing here holds more than one section of text.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import AsyncIterator, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from app.ingest.chunking import Chunker
from app.ingest.detect import Detected
from app.ingest.extract import PageReport, sections
from app.ingest.spool import ChunkSpool

T = TypeVar("T")
PREVIEWS = 3
PREVIEW_CHARS = 200


def preview(text: str, limit: int = PREVIEW_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


@dataclass(slots=True)
class Prepared:
    """What pass one found: running totals while it runs, the final ones after."""

    chunks: int = 0
    tokens: int = 0
    chars: int = 0
    pages: int | None = None
    skipped_pages: list[int] = field(default_factory=list)
    previews: list[dict[str, Any]] = field(default_factory=list)


def prepare(
    path: Path, detected: Detected, chunker: Chunker, spool: ChunkSpool, out: Prepared
) -> Generator[float, None, None]:
    """Yields the share of the input consumed after each section."""
    report = PageReport()
    for section in sections(path, detected, report):
        out.chars += len(section.text)
        for chunk in chunker.split(section.text, offset=section.offset, page=section.page):
            spool.write(chunk)
            out.chunks += 1
            out.tokens += chunk.tokens
            if len(out.previews) < PREVIEWS:
                out.previews.append({"index": out.chunks - 1, "page": chunk.page, "tokens": chunk.tokens,
                                     "text": preview(chunk.text)})
        if detected.kind == "pdf":
            out.pages = report.pages
        yield section.done
    spool.close()
    out.skipped_pages = list(report.skipped or [])
    if detected.kind == "pdf":
        out.pages = report.pages


_DONE = object()
# Pass one of at most two uploads at a time (2-core machines): more would only share the cores.
_WORKERS = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="ingest")


async def in_thread(steps: Generator[T, None, None]) -> AsyncIterator[T]:
    """Iterate a blocking generator in a worker thread, one step per call. If the consumer
    stops early (cancelled, closed), the step in flight finishes first and the generator is
    then closed, so its `finally` (file handles) runs and no thread touches it afterwards."""
    step: concurrent.futures.Future[Any] | None = None
    try:
        while True:
            step = _WORKERS.submit(next, steps, _DONE)
            item = await asyncio.wrap_future(step)
            if item is _DONE:
                return
            yield item
    finally:
        if step is not None and not step.done():
            await asyncio.shield(_settled(step))
        steps.close()


async def _settled(step: concurrent.futures.Future[Any]) -> None:
    while not step.done():
        await asyncio.sleep(0.02)
