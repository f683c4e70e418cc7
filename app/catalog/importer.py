"""`python -m app catalog import FILE`: CSV or JSONL into the store, row by row validated.

Bad rows are reported with their line number and reason; good rows still land (upserted by
`sku`, in batches, with embeddings computed for them when the model is available). A running
app picks imported products up within `SEARCH_SYNC_S` seconds (it polls `updated_at`).
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.catalog.validate import RowError, validate_product

if TYPE_CHECKING:
    from app.search.service import SearchService
    from app.store.repositories import Products

FORMATS = (".csv", ".jsonl", ".ndjson")


@dataclass
class ImportReport:
    rows: int = 0
    imported: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def read_rows(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, raw row) pairs; a row that cannot even be parsed comes as a RowError."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"{path.name}: expected a .csv or .jsonl file")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        if suffix == ".csv":
            reader = csv.DictReader(handle)
            if not reader.fieldnames or "sku" not in reader.fieldnames or "title" not in reader.fieldnames:
                raise ValueError(f"{path.name}: the header must name at least sku and title")
            line = reader.line_num
            for row in reader:
                yield line + 1, row
                line = reader.line_num
        else:
            for number, text in enumerate(handle, start=1):
                if not text.strip():
                    continue
                try:
                    yield number, json.loads(text)
                except json.JSONDecodeError as exc:
                    yield number, RowError(f"not valid JSON ({exc.msg})")


def count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


async def import_file(
    path: Path,
    products: Products,
    search: SearchService | None = None,
    *,
    batch_size: int = 500,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    report = ImportReport()
    total = count_lines(path)
    pending: list[dict[str, Any]] = []

    async def flush() -> None:
        batch = await search.embed(pending) if search is not None else list(pending)
        report.imported += await products.upsert_many(batch)
        pending.clear()

    for line, row in read_rows(path):
        report.rows += 1
        try:
            if isinstance(row, RowError):
                raise row
            pending.append(validate_product(row))
        except RowError as exc:
            report.errors.append((line, str(exc)))
        if len(pending) >= batch_size:
            await flush()
        if progress is not None and report.rows % 100 == 0:
            progress(line, total)
    if pending:
        await flush()
    if progress is not None:
        progress(total, total)
    return report


def progress_bar(done: int, total: int, width: int = 30) -> None:
    share = 1.0 if total == 0 else min(done / total, 1.0)
    filled = int(share * width)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} lines")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()
