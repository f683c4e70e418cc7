"""Prometheus metrics of the stream engine and the rate limiter, served at `/metrics`.

One registry per app so that several apps in one process (tests, benchmarks) keep separate
counts.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class StreamMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}
        self.open_streams = Gauge(
            "storestream_open_streams", "Streams open now", ["stream"], registry=self.registry
        )
        self.detached = Gauge(
            "storestream_detached_streams", "Streams running on with no client attached (STREAM_DETACH_S)",
            registry=self.registry,
        )
        self.duration = Histogram(
            "storestream_stream_duration_seconds",
            "Stream duration from connected to close",
            ["stream", "outcome"],
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
            registry=self.registry,
        )
        self.events = Counter(
            "storestream_events_sent_total", "Events written to clients", ["stream", "type"],
            registry=self.registry,
        )
        self.errors = Counter(
            "storestream_stream_errors_total", "Error events by code", ["stream", "code"],
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "storestream_rate_limit_rejections_total",
            "Requests refused by the rate limiter or the concurrent-stream cap",
            ["reason"],
            registry=self.registry,
        )

        self.analytics = Counter(
            "storestream_analytics_records_total",
            "Searches and shopper events recorded for analytics: written, or dropped (buffer full, refused)",
            ["kind", "outcome"],
            registry=self.registry,
        )

    def child(self, metric: Any, *labels: str) -> Any:
        """`metric.labels(*labels)`, kept: a stream's start and end each touch several
        metrics, and prometheus_client looks the labels up anew on every call."""
        key = (id(metric), labels)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*labels)
        return found
