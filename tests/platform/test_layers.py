"""Features depend on shared services, not on each other: the chat and the sales agent share
what they both use through `app/conversation/`, which depends on neither. Read from the
source with `ast`, so an import inside a function or under `TYPE_CHECKING` counts too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHAT = ("app.chat", "app.routes.chat")
AGENT = ("app.agent", "app.routes.troika")


def imported(source: str, package: str) -> set[str]:
    """Every module a file of `package` imports, absolute; `from app.x import y` counts as
    `app.x.y` too, since `y` may be a module."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from ..y import z
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            out.add(base)
            out.update(f"{base}.{alias.name}" for alias in node.names)
    return out


def files(*modules: str) -> list[Path]:
    """The source files of these modules and packages."""
    out = []
    for module in modules:
        path = ROOT.joinpath(*module.split("."))
        out += sorted(path.rglob("*.py")) if path.is_dir() else [path.with_suffix(".py")]
    return out


def reaching(sources: list[Path], targets: tuple[str, ...]) -> list[str]:
    """`file: module` for every import in `sources` of a module in `targets` or under it."""
    return sorted(
        f"{path.relative_to(ROOT)}: {name}"
        for path in sources
        for name in imported(path.read_text(), ".".join(path.relative_to(ROOT).parts[:-1]))
        if any(name == t or name.startswith(t + ".") for t in targets)
    )


@pytest.mark.parametrize(("feature", "other"), [(CHAT, AGENT), (AGENT, CHAT)], ids=["chat", "agent"])
def test_the_chat_and_the_agent_do_not_import_each_other(feature: tuple[str, ...], other: tuple[str, ...]) -> None:
    sources = files(*feature)
    assert len(sources) >= 2
    found = reaching(sources, other)
    assert not found, f"{feature[0]} reaches into {other[0]}: {found}"


def test_the_shared_conversation_package_imports_neither_feature() -> None:
    sources = files("app.conversation")
    assert len(sources) >= 2
    found = reaching(sources, CHAT + AGENT)
    assert not found, f"app/conversation depends on a feature: {found}"


def test_the_import_reader_sees_every_form() -> None:
    """The reader itself: absolute, from-imports, relative imports and function-local ones."""
    source = ("import app.chat.answer\nfrom app.routes import chat\nfrom ..chat import stored\n"
              "def f():\n    from app.chat.followup import FILLER\n")
    found = imported(source, "app.agent")
    assert {"app.chat.answer", "app.routes.chat", "app.chat.stored", "app.chat.followup"} <= found


def test_search_and_the_agent_do_not_read_the_demo_generator() -> None:
    """Their shopping words are the store's (`app.search.vocabulary`), so editing the demo
    generator cannot change how a query is read."""
    found = reaching(files("app.search", "app.agent"), ("app.catalog.demo",))
    assert not found, f"reads the demo generator: {found}"


def test_outside_the_catalog_only_the_demo_catalog_itself_is_imported() -> None:
    """The platform seeds an empty store with `generate_catalog`; no vocabulary table of the
    generator is read anywhere else."""
    sources = [p for p in files("app") if "catalog" not in p.relative_to(ROOT).parts[:2]]
    allowed = {"app.catalog.demo", "app.catalog.demo.generate_catalog"}
    found = [f for f in reaching(sources, ("app.catalog.demo",)) if f.split(": ")[1] not in allowed]
    assert not found, f"reads the demo generator's tables: {found}"
