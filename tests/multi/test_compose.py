"""docker-compose.yml cannot be run here (no Docker engine): check what can be checked. Both
replicas get settings the app accepts and share one Redis for the budget, the stream cap and
the replay buffer; nginx is the one trusted proxy and fronts both."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import yaml

from config.settings import _PARSERS, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_compose_runs_two_replicas_on_one_redis() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    replicas = {name: svc for name, svc in services.items() if svc.get("build")}
    assert sorted(replicas) == ["app1", "app2"]
    settings = []
    for name, service in replicas.items():
        env = {k: str(v) for k, v in service["environment"].items()}
        assert set(env) <= set(_PARSERS), f"{name}: unknown variables {set(env) - set(_PARSERS)}"
        settings.append(load_settings(env, env_file=None))  # raises ConfigError on a bad value
        assert set(service["depends_on"]) == {"mongo", "redis"}
    a, b = settings
    assert a.rate_limit_storage_url == b.rate_limit_storage_url == "redis://redis:6379/0"
    assert a.stream_replay_url == b.stream_replay_url == a.rate_limit_storage_url
    assert a.mongodb_url == b.mongodb_url and a.mongodb_url.startswith("mongodb://mongo:")
    assert (a.demo_catalog_size, b.demo_catalog_size) == (5000, 0)  # only one loads the demo
    nginx = services["nginx"]
    proxy_ip = ipaddress.ip_address(nginx["networks"]["backend"]["ipv4_address"])
    assert all(any(proxy_ip in net for net in s.trusted_proxies) for s in settings)
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "server app1:8000" in conf and "server app2:8000" in conf
    assert "proxy_buffering off" in conf
    assert nginx["volumes"] == ["./deploy/nginx.conf:/etc/nginx/nginx.conf:ro"]
