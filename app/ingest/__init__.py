"""Context-file ingestion: an uploaded document becomes searchable chunks.

    upload.py         multipart body -> one spooled file (size limits, file-name checks)
    detect.py         what the file is, by content; refusals (415/422) before any stream
    extract.py        text out of txt/md/html/csv/json/pdf/docx, section by section
    chunking.py       token-aware recursive chunks with overlap and exact source positions
    tokens.py         cl100k token counts, offline
    pipeline.py       pass one (extract -> chunk -> count) in a worker thread
    spool.py          chunks on disk between pass one and pass two
    embed.py          chunk embeddings over the whole chunk (windows, averaged)
    context_index.py  the in-memory vector index over stored chunks; `search` for chat

The endpoints are in app/routes/context.py.
"""

from __future__ import annotations


def preload() -> None:
    """Load the tokenizer and import pypdf once, at start-up, not inside the first upload."""
    import pypdf  # noqa: F401 - imported for its side effect: the import cost is paid now

    from app.ingest import tokens

    tokens.preload()
