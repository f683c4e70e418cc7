"""The README's layout table matches the tree (every path it names exists, every package under
`app/` has a row), and every relative link in the README and `docs/` reaches a file, and a
heading of it when the link names one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "examples" / "README.md"]
# A file or folder named in a row's description: `events.py`, `static/`, `config/intents.toml`.
PATHLIKE = re.compile(r"^[\w.*/-]+(\.(py|js|css|html|toml|md|svg|json)|/)$")


def layout_rows() -> list[tuple[list[str], str]]:
    """(paths of the first column, description) for each row of the table under `## Layout`."""
    section = README.read_text().split("\n## Layout", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0].startswith("`"):
            rows.append((re.findall(r"`([^`]+)`", cells[0]), cells[1]))
    return rows


def test_the_layout_table_names_paths_that_exist() -> None:
    rows = layout_rows()
    assert len(rows) >= 10
    missing = []
    for paths, description in rows:
        missing += [path for path in paths if not (ROOT / path).exists()]
        # Files named in the description, relative to the row's folder or to the checkout.
        folder = ROOT / paths[0] if paths[0].endswith("/") else ROOT
        named = [n for n in re.findall(r"`([^`\s]+)`", description) if PATHLIKE.match(n) and not n.startswith("/")]
        missing += [f"{paths[0]}: {n}" for n in named if not (list(folder.glob(n)) or list(ROOT.glob(n)))]
    assert not missing, f"the README's layout table names what is not in the tree: {missing}"


def test_every_package_under_app_has_a_row() -> None:
    listed = {path.rstrip("/") for paths, _ in layout_rows() for path in paths}
    packages = sorted(f"app/{d.name}" for d in (ROOT / "app").iterdir()
                      if d.is_dir() and not d.name.startswith(("_", ".")))
    unlisted = [p for p in packages if p not in listed]
    assert not unlisted, f"add these folders to the README's layout table: {unlisted}"
    modules = sorted(f"app/{f.name}" for f in (ROOT / "app").glob("*.py") if f.name != "__init__.py")
    named = " ".join(description for _, description in layout_rows()) + " " + " ".join(listed)
    unnamed = [m for m in modules if m not in named]
    assert not unnamed, f"name these modules in the README's layout table: {unnamed}"


def anchors(text: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    out = set()
    for heading in re.findall(r"^#+ (.+)$", text, flags=re.MULTILINE):
        out.add(re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-"))
    return out


@pytest.mark.parametrize("doc", [README, *DOCS], ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(doc: Path) -> None:
    text = doc.read_text()
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"^[a-z]+:", target):  # https:, mailto:
            continue
        path, _, fragment = target.partition("#")
        file = (doc.parent / path).resolve() if path else doc
        if not file.exists() or (fragment and file.suffix == ".md" and fragment not in anchors(file.read_text())):
            broken.append(target)
    assert not broken, f"{doc.name}: links to nothing: {broken}"
