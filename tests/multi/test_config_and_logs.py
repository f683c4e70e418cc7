"""The multi-instance settings' defaults (their bad values are refused with the others, in
tests/platform/test_settings.py); the JSON log formatter writes one object per line, extras
as keys."""

from __future__ import annotations

import json
import logging

from app.logs import JsonFormatter
from app.redis_link import redacted
from config.settings import load_settings


def test_defaults_keep_one_instance_in_process() -> None:
    settings = load_settings({}, env_file=None)
    assert settings.stream_replay_url == "" and settings.rate_limit_storage_url == "memory://"
    assert settings.rate_limit_fail_open is False and settings.log_format == "text"
    assert (settings.redis_timeout_ms, settings.redis_lease_s) == (500, 15.0)


def test_json_formatter_one_line_with_extras_and_traceback() -> None:
    record = logging.LogRecord("storestream.streams", logging.ERROR, __file__, 1, "end %s\nsecond line",
                               ("x",), None)
    record.stream_id, record.duration_ms = "abc123", 1.5
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    assert "\n" not in line
    doc = json.loads(line)
    assert doc["msg"] == "end x\nsecond line" and doc["level"] == "ERROR"
    assert doc["stream_id"] == "abc123" and doc["duration_ms"] == 1.5
    assert "ValueError: boom" in doc["exc"] and doc["ts"].endswith("Z")


def test_logged_redis_urls_hide_the_password() -> None:
    assert redacted("redis://:s3cret@cache:6379/0") == "redis://:***@cache:6379/0"
    assert redacted("redis://user:s3cret@cache/0") == "redis://user:***@cache/0"
    assert redacted("redis://cache:6379/0") == "redis://cache:6379/0"
