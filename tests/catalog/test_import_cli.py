"""`python -m app catalog import FILE` and `catalog stats`, as a shopkeeper runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from tests.support.server import ROOT


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args], cwd=ROOT, env={**os.environ, **env},
        capture_output=True, text=True, timeout=120,
    )


def test_csv_import_reports_bad_rows_and_lands_good_ones(mongo_url: str, tmp_path: Path) -> None:
    env = {"MONGODB_URL": mongo_url, "MONGODB_DB": f"imp_{uuid.uuid4().hex[:8]}", "SEARCH_EMBEDDINGS": "false"}
    csv_file = tmp_path / "catalog.csv"
    csv_file.write_text(
        "sku,title,category,price,colors,in_stock,fabric\n"
        "K-1,Red Silk Saree,saree,12999,red|maroon,yes,silk\n"
        "K-2,,saree,100,,yes,\n"
        'K-3,"Blue Kurta, cotton",kurta,not-a-price,blue,yes,cotton\n'
        "K-4,Green Lehenga,lehenga,45000,green,no,velvet\n",
        encoding="utf-8",
    )
    result = run(["catalog", "import", str(csv_file)], env)
    assert result.returncode == 0, result.stderr
    assert "line 3: title is required" in result.stdout
    assert "line 4: price must be a number, not 'not-a-price'" in result.stdout
    assert "2 products imported, 2 rows refused, 4 rows read" in result.stdout
    assert "5/5 lines" in result.stderr  # the progress bar reached the end

    jsonl = tmp_path / "more.jsonl"
    jsonl.write_text(
        json.dumps({"sku": "K-1", "title": "Red Silk Saree (new)", "price": 11999}) + "\n"
        + "{broken\n"
        + json.dumps({"sku": "K-5", "title": "Tan Loafers", "sizes": ["UK 8"]}) + "\n",
        encoding="utf-8",
    )
    again = run(["catalog", "import", str(jsonl)], env)
    assert "line 2: not valid JSON" in again.stdout
    assert "2 products imported, 1 rows refused, 3 rows read" in again.stdout

    stats = run(["catalog", "stats"], env)
    assert stats.returncode == 0
    assert "products: 3" in stats.stdout and "in stock: 2" in stats.stdout
    assert "  saree: 1" in stats.stdout


def test_import_refuses_unknown_formats(mongo_url: str, tmp_path: Path) -> None:
    env = {"MONGODB_URL": mongo_url, "MONGODB_DB": f"imp_{uuid.uuid4().hex[:8]}", "SEARCH_EMBEDDINGS": "false"}
    bad = tmp_path / "catalog.xlsx"
    bad.write_bytes(b"PK\x03\x04")
    result = run(["catalog", "import", str(bad)], env)
    assert result.returncode == 2
    assert "expected a .csv or .jsonl file" in result.stderr
