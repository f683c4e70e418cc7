"""The settings table (docs/settings.md) stays true: every variable `config/settings.py` reads
is in it, with the default the code has."""

from __future__ import annotations

import re
from pathlib import Path

from config.settings import _PARSERS, variables

SETTINGS_DOC = Path(__file__).resolve().parents[2] / "docs" / "settings.md"


def settings_table() -> dict[str, str]:
    """variable -> the default docs/settings.md gives, from its table."""
    section = SETTINGS_DOC.read_text()
    rows: dict[str, str] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`"):
            continue
        names = re.findall(r"`([A-Z][A-Z0-9_]*)`", cells[0])
        defaults = [d.strip() for d in re.split(r",\s+(?=`|\()", cells[1])] if cells[1] else [""]
        if len(defaults) == 1:
            defaults *= len(names)
        assert len(defaults) == len(names), f"docs/settings.md row {line!r}: one default per variable, or one for all"
        for name, default in zip(names, defaults):
            rows[name] = default
    return rows


def same_default(documented: str, code: str) -> bool:
    if documented.startswith("(empty"):
        return code == ""
    value = documented.strip("`")
    if value.lower() == code.lower():  # true / True
        return True
    try:
        return float(value) == float(code)  # 15 / 15.0
    except ValueError:
        return False


def test_every_variable_is_in_the_settings_table() -> None:
    table = settings_table()
    missing = [name for name in _PARSERS if name not in table]
    assert not missing, f"add these to the table in docs/settings.md: {missing}"
    unknown = [name for name in table if name not in _PARSERS]
    assert not unknown, f"docs/settings.md lists variables the code does not read: {unknown}"


def test_the_table_gives_the_defaults_of_the_code() -> None:
    table = settings_table()
    wrong = {name: (table[name], default) for name, default in variables()
             if name in table and not same_default(table[name], default)}
    assert not wrong, f"docs/settings.md default vs code default: {wrong}"
