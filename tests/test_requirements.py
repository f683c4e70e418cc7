"""The one rule for tests that need a program: skip saying why, or fail when CI=true."""

from __future__ import annotations

import pytest

from tests.support.requirements import need, need_at_import


@pytest.mark.parametrize("check", [need, need_at_import])
def test_a_missing_requirement_skips_saying_why(check, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="redis-server is not installed"):
        check("redis-server is not installed")


@pytest.mark.parametrize("check", [need, need_at_import])
@pytest.mark.parametrize("value", ["true", "TRUE", " true "])
def test_under_ci_a_missing_requirement_fails(check, value: str, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.fail.Exception, match="chromium is not installed.*CI=true"):
        check("chromium is not installed")


@pytest.mark.parametrize("value", ["true", ""])
def test_nothing_missing_does_nothing(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", value)
    need(None)
    need_at_import(None)
