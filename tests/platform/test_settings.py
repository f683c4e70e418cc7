"""Settings: defaults, parsing, one clear line per bad value."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from config.settings import ConfigError, Settings, load_settings, variables


def test_defaults_work_without_any_environment() -> None:
    settings = load_settings({}, env_file=None)
    assert settings == Settings()
    assert (settings.streaming_rate_limit, settings.streaming_window_ms) == (30, 60000)
    assert settings.streaming_timeout == 30000 and settings.streaming_ping_s == 15
    assert settings.embedded_db and settings.rate_limit_storage_url == "memory://"


def test_values_are_parsed() -> None:
    settings = load_settings(
        {
            "STREAMING_ENABLED": "no",
            "STREAMING_TIMEOUT": "5000",
            "RATE_LIMIT_WHITELIST": "10.0.0.0/8, 192.0.2.7",
            "MONGODB_URL": "mongodb://db:27017",
        },
        env_file=None,
    )
    assert settings.streaming_enabled is False and settings.streaming_timeout == 5000
    assert settings.rate_limit_whitelist == (
        ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("192.0.2.7/32"),
    )
    assert not settings.embedded_db


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("STREAMING_RATE_LIMIT", "-1", "a positive integer"),
        ("STREAMING_ENABLED", "maybe", "true or false"),
        ("TRUSTED_PROXIES", "10.0.0.300", "a comma-separated list of IP addresses or CIDR ranges"),
        ("RATE_LIMIT_STORAGE_URL", "mysql://x", "memory:// or a redis:// URL"),
        ("PORT", "70000", "a port number from 1 to 65535"),
        # the multi-instance settings
        ("STREAM_REPLAY_URL", "memcached://x", "a redis:// URL, or nothing for the in-process buffer"),
        ("REDIS_LEASE_S", "0.5", "a number of seconds, 1 or more"),
        ("REDIS_TIMEOUT_MS", "0", "a positive integer"),
        ("RATE_LIMIT_FAIL_OPEN", "sometimes", "true or false"),
        ("LOG_FORMAT", "xml", "text or json"),
    ],
)
def test_bad_value_names_the_variable(name: str, value: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({name: value}, env_file=None)
    assert str(caught.value) == f"{name}={value!r} is invalid: expected {expected}"


def test_env_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("STREAMING_RATE_LIMIT=7\nSTREAMING_PING_S=2\n")
    settings = load_settings({"STREAMING_PING_S": "3"}, env_file=env_file)
    assert settings.streaming_rate_limit == 7 and settings.streaming_ping_s == 3


def test_every_variable_is_listed_with_its_default() -> None:
    names = dict(variables())
    assert names["STREAMING_RATE_LIMIT"] == "30" and names["MONGODB_URL"] == ""
