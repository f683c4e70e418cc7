"""What some tests need from the machine (a browser, Redis, espeak-ng, npm packages), and the
one way to skip without it.

On a developer's machine a test whose program is missing skips and says why (`-rs` lists
the reasons). With `CI=true` the same test fails instead: an environment that should have
everything must not turn a missing install into a green run.

    pytestmark = requires(missing_espeak())       # a module or test: a mark
    need(missing_redis())                         # inside a fixture or test: a call
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
FETCH_EVENT_SOURCE = ROOT / "node_modules" / "@microsoft" / "fetch-event-source" / "lib" / "esm"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def need(reason: str | None) -> None:
    """Nothing when `reason` is None; else skip saying it, or fail under `CI=true`."""
    if reason is None:
        return
    if in_ci():
        pytest.fail(f"{reason} (CI=true: a missing requirement fails the run)", pytrace=False)
    pytest.skip(reason)


def need_at_import(reason: str | None) -> None:
    """`need` for a whole test module, at import (before it imports what is missing)."""
    if reason is None:
        return
    if in_ci():
        pytest.fail(f"{reason} (CI=true: a missing requirement fails the run)", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def requires(reason: str | None) -> pytest.MarkDecorator:
    """A mark: tests/conftest.py calls `need(reason)` before each test that carries it."""
    return pytest.mark.requires(reason)


def chromium_path() -> str | None:
    return CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")


def missing_browser() -> str | None:
    if chromium_path() is None:
        return "chromium is not installed (`make install` installs the Debian package as root)"
    return missing_playwright()


def missing_playwright() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (requirements-dev.txt)"
    return None


def missing_redis() -> str | None:
    if shutil.which("redis-server") is None:
        return "redis-server is not installed (Debian package `redis-server`; `make install` as root installs it)"
    return None


def missing_espeak() -> str | None:
    from app.tts import espeak  # the app's own test for it

    if not espeak.available():
        return "espeak-ng is not installed (`make install` installs the Debian package as root)"
    return None


def missing_fetch_event_source() -> str | None:
    if not (FETCH_EVENT_SOURCE / "index.js").is_file():
        return ("node_modules/@microsoft/fetch-event-source is not installed: `make install` runs "
                "`npm ci` (needs npm and the npm registry once)")
    return None


AI_SDK = ROOT / "node_modules" / "ai" / "dist" / "index.mjs"


def node_path() -> str | None:
    return shutil.which("node")


def missing_ai_sdk(*, in_node: bool = True) -> str | None:
    """Why the `ai` package cannot run here; `in_node=False`: its modules are enough (a browser
    loads them)."""
    if in_node and node_path() is None:
        return "node is not installed (the `ai` package's reader runs in Node)"
    if not AI_SDK.is_file():
        return "node_modules/ai is not installed: `make install` runs `npm ci` (needs npm and the npm registry once)"
    return None


AG_UI_CLIENT = ROOT / "node_modules" / "@ag-ui" / "client" / "dist" / "index.mjs"


def missing_ag_ui_client() -> str | None:
    if node_path() is None:
        return "node is not installed (the `@ag-ui/client` HttpAgent runs in Node)"
    if not AG_UI_CLIENT.is_file():
        return ("node_modules/@ag-ui/client is not installed: `make install` runs `npm ci` (needs npm and the npm "
                "registry once)")
    return None
