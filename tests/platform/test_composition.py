"""What code may touch is in its signature: only the composition (app/platform.py, the app
factory app/main.py and the process runner app/__main__.py) knows the Platform; routes,
producers and tools get typed services. These checks read the source, so a new module that
reaches for the platform again fails here, not in review."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

from app.main import create_app
from app.streams.endpoint import StreamRoute
from app.streams.engine import StreamContext
from config.settings import load_settings

APP = Path(__file__).resolve().parents[2] / "app"
COMPOSITION = {APP / "platform.py", APP / "main.py", APP / "__main__.py"}


def _reaches_platform(path: Path) -> list[str]:
    """Imports of app.platform and reads of an attribute named `platform` in one module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if (isinstance(node, ast.ImportFrom) and node.module == "app.platform") or (
            isinstance(node, ast.Import) and any(alias.name == "app.platform" for alias in node.names)
        ):
            found.append(f"{path.name}:{node.lineno} imports app.platform")
        elif isinstance(node, ast.Attribute) and node.attr == "platform":
            found.append(f"{path.name}:{node.lineno} reads .platform")
    return found


def test_nothing_outside_the_composition_reaches_the_platform() -> None:
    modules = [p for p in APP.rglob("*.py") if p not in COMPOSITION]
    assert len(modules) > 50  # the walk found the package
    offenders = [hit for path in modules for hit in _reaches_platform(path)]
    assert offenders == []


def test_the_check_sees_a_reach_into_the_platform(tmp_path: Path) -> None:
    module = tmp_path / "leaky.py"
    module.write_text("from app.platform import Platform\n\n"
                      "def f(request):\n    return request.app.state.platform.store\n")
    assert _reaches_platform(module) == ["leaky.py:1 imports app.platform", "leaky.py:4 reads .platform"]


def test_a_stream_context_names_the_stream_and_nothing_else() -> None:
    assert [f.name for f in dataclasses.fields(StreamContext)] == ["stream", "stream_id", "client", "started"]


def test_every_stream_route_is_registered_for_the_stop_route() -> None:
    """The stop route authorizes a stream by the route that opened it: each stream endpoint
    the app serves is in the engine's registry (what `stream_routes` records)."""
    app = create_app(load_settings(env_file=None))
    routes = {route.name for route in app.routes if isinstance(route, StreamRoute)}
    registered = set(app.state.platform.streams.endpoints)
    # a native stream's route is `<name>_stream`; a protocol's is its name (and a resume of it)
    assert {name.removesuffix("_stream").removesuffix("_resume") for name in routes} == registered
    assert {"search", "aza", "chat", "chat_get", "troika", "context_upload"} <= registered
