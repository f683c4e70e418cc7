"""Fixtures of the multi-instance tests: a real `redis-server` per test (skipped, with the
reason, when it is not installed; failed under CI=true) and two real app instances sharing
it and one MongoDB."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.redis_server import RedisServer
from tests.support.requirements import missing_redis, need
from tests.support.server import AppServer


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    need(missing_redis())
    server = RedisServer(tmp_path / "redis").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def instances(
    redis_server: RedisServer, app_server: Callable[..., AppServer]
) -> Callable[..., tuple[AppServer, AppServer]]:
    """`instances(VAR=value, ...)`: two app instances (tests/support/stream_app.py) on their
    own loopback ports, the rate limiter and the replay buffer in the test's Redis."""

    def start(**env: str) -> tuple[AppServer, AppServer]:
        shared = {
            "RATE_LIMIT_STORAGE_URL": redis_server.url,
            "STREAM_REPLAY_URL": redis_server.url,
            "REDIS_LEASE_S": "2",
            **env,
        }
        return app_server(**shared), app_server(**shared)

    return start
