"""`pip install .` installs what the app needs at run time: the wheel holds every file git
tracks under app/ and config/ (code, pages, static files, intents.toml) and nothing else of
the checkout. Built offline from this tree by the installed build backend (hatchling)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_holds_exactly_the_tracked_files_of_app_and_config(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "--disable-pip-version-check", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True, timeout=300, cwd=tmp_path,
    )
    (wheel,) = tmp_path.glob("storestream-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        packaged = {name for name in archive.namelist() if ".dist-info/" not in name}
    tracked = set(subprocess.run(["git", "ls-files", "app", "config"], cwd=ROOT, check=True, timeout=60,
                                 capture_output=True, text=True).stdout.split())
    assert packaged == tracked, (sorted(packaged - tracked)[:10], sorted(tracked - packaged)[:10])
