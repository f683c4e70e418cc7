"""What the protocol adapters' tests share: each module's own app over a 300-product demo
catalog, with a budget no test here runs out of."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.server import AppServer, isolated_env, wait_for_search


@pytest.fixture(scope="module")
def server(mongo_url: str, tmp_path_factory: pytest.TempPathFactory,
           request: pytest.FixtureRequest) -> Iterator[AppServer]:
    name = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    env = isolated_env(mongo_url, tmp_path_factory.mktemp(f"{name}data"), name, catalog=300,
                       STREAMING_RATE_LIMIT="100000")
    with AppServer(env, log_dir=tmp_path_factory.mktemp(f"{name}logs")) as app:
        wait_for_search(app, min_vectors=0)
        yield app
