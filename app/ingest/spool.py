"""Chunks on disk between the two passes of an upload.

Pass one (extract, chunk, count) runs in a worker thread and must report the chunk count
before embedding starts; holding every chunk of a 20 MB file in memory until then would
cost as much as the text itself. So chunks go to a JSON-lines file next to the upload and
pass two reads them back a batch at a time.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from app.ingest.chunking import Chunk


class ChunkSpool:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._out: IO[str] | None = None
        self.count = 0

    def write(self, chunk: Chunk) -> None:
        if self._out is None:
            self._out = self.path.open("w", encoding="utf-8", buffering=1 << 20)
        record = {"text": chunk.text, "start": chunk.start, "end": chunk.end,
                  "tokens": chunk.tokens, "page": chunk.page}
        self._out.write(json.dumps(record, ensure_ascii=False))
        self._out.write("\n")
        self.count += 1

    def close(self) -> None:
        if self._out is not None:
            self._out.close()

    def batches(self, size: int) -> Iterator[list[dict[str, Any]]]:
        """The chunks in order, `size` at a time, each with its `index`."""
        self.close()
        if self.count == 0:
            return
        batch: list[dict[str, Any]] = []
        with self.path.open(encoding="utf-8") as fh:
            for index, line in enumerate(fh):
                record = json.loads(line)
                record["index"] = index
                batch.append(record)
                if len(batch) == size:
                    yield batch
                    batch = []
        if batch:
            yield batch

    def remove(self) -> None:
        self.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
