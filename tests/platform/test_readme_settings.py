"""The README's settings table stays true: every variable `config/settings.py` reads is in it,
with the default the code has."""

from __future__ import annotations

import re
from pathlib import Path

from config.settings import _PARSERS, variables

README = Path(__file__).resolve().parents[2] / "README.md"


def settings_table() -> dict[str, str]:
    """variable -> the default the README gives, from the table under `## Settings`."""
    text = README.read_text()
    section = text.split("\n## Settings", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`"):
            continue
        names = re.findall(r"`([A-Z][A-Z0-9_]*)`", cells[0])
        defaults = [d.strip() for d in re.split(r",\s+(?=`|\()", cells[1])] if cells[1] else [""]
        if len(defaults) == 1:
            defaults *= len(names)
        assert len(defaults) == len(names), f"README row {line!r}: one default per variable, or one for all"
        for name, default in zip(names, defaults):
            rows[name] = default
    return rows


def same_default(readme: str, code: str) -> bool:
    if readme.startswith("(empty"):
        return code == ""
    value = readme.strip("`")
    if value.lower() == code.lower():  # true / True
        return True
    try:
        return float(value) == float(code)  # 15 / 15.0
    except ValueError:
        return False


def test_every_variable_is_in_the_readme_table() -> None:
    table = settings_table()
    missing = [name for name in _PARSERS if name not in table]
    assert not missing, f"add these to the README's settings table: {missing}"
    unknown = [name for name in table if name not in _PARSERS]
    assert not unknown, f"the README lists variables the code does not read: {unknown}"


def test_the_readme_gives_the_defaults_of_the_code() -> None:
    table = settings_table()
    wrong = {name: (table[name], default) for name, default in variables()
             if name in table and not same_default(table[name], default)}
    assert not wrong, f"README default vs code default: {wrong}"
