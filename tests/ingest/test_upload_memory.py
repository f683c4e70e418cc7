"""Memory stays flat: a ~20 MB text upload raises the server's RSS by less than 100 MB.

Runs with SEARCH_EMBEDDINGS=false, on purpose: embedding 20 MB of text (about 10,000
chunks) takes far longer than a test may, and the model's memory is not the upload's. So
this measures the pipeline itself: multipart spooling, decoding, chunking, token counting,
the chunk spool and storing every chunk in MongoDB.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.ingest import documents as d
from tests.ingest.documents import ADMIN
from tests.support.sampling import PeakRss
from tests.support.server import AppServer

MB = 1024 * 1024


def big_text(path: Path, size: int) -> None:
    rng = random.Random(11)
    words = ("silk cotton saree lehenga kurta zari brocade handwoven festive bridal delivery refund "
             "exchange policy customer order Varanasi Kanchipuram Mumbai pashmina embroidery").split()
    with path.open("w", encoding="utf-8") as out:
        written = 0
        while written < size:
            sentences = [" ".join(rng.choice(words) for _ in range(rng.randint(5, 25))).capitalize() + "."
                         for _ in range(rng.randint(2, 9))]
            paragraph = " ".join(sentences) + "\n\n"
            out.write(paragraph)
            written += len(paragraph)


@pytest.fixture(scope="module")
def server(mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    log_dir = tmp_path_factory.mktemp("memory")
    env = {"MONGODB_URL": mongo_url, "MONGODB_DB": f"memory_{uuid.uuid4().hex[:8]}",
           "DATA_DIR": str(log_dir / "data"), "ADMIN_TOKEN": d.ADMIN_TOKEN, "SEARCH_EMBEDDINGS": "false"}
    with AppServer(env, log_dir=log_dir) as app:
        yield app


def test_twenty_mb_upload_keeps_rss_growth_under_100_mb(server: AppServer, tmp_path: Path) -> None:
    assert server.process is not None
    warmup = d.multipart([("file", b"warm.txt", b"Warm up the upload path once. " * 100)])
    with httpx.Client(timeout=30) as client:
        assert client.post(f"{server.url}/api/context/upload-file", content=warmup[0],
                           headers={**ADMIN, "Content-Type": warmup[1]}).status_code == 200
    time.sleep(0.5)
    path = tmp_path / "big.txt"
    big_text(path, 20 * MB - 4096)
    with PeakRss(server.process.pid, interval=0.02) as rss:
        started = time.monotonic()
        with httpx.Client(timeout=120) as client, path.open("rb") as fh:
            got = client.post(f"{server.url}/api/context/upload-file", headers=ADMIN,
                              files={"file": ("big.txt", fh, "text/plain")})
    elapsed = time.monotonic() - started
    assert got.status_code == 200, got.text
    result = got.json()
    assert result["status"] == "ok" and result["count"] > 5000 and result["embedded"] is False
    baseline, peak = rss.before, rss.peak
    growth_mb = (peak - baseline) / MB
    print(f"20 MB upload: {result['count']} chunks, {result['tokens']} tokens in {elapsed:.1f} s; "
          f"RSS {baseline / MB:.0f} MB -> peak {peak / MB:.0f} MB (+{growth_mb:.0f} MB)")
    assert growth_mb < 100
