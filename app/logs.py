"""Log output: `LOG_FORMAT=text` (default, for people) or `json` (for a log pipeline).

In JSON every record is one object on one line: `ts` (UTC, ISO 8601 with milliseconds),
`level`, `logger`, `msg` (the formatted message), `exc` when there is a traceback, and every
`extra={...}` field of the call as a key of its own. The stream engine logs its start and end
lines with `event`, `stream_id`, `stream`, `route`, `client`, `outcome`, `events` and
`duration_ms` as such fields, so they can be filtered without parsing the message.
Standard library only.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message", "asctime", "taskName",
    "color_message",  # uvicorn's copy of the message with terminal colours
}
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_") and key not in doc:
                doc[key] = value
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            doc["exc"] = record.exc_text
        if record.stack_info:
            doc["stack"] = self.formatStack(record.stack_info)
        return json.dumps(doc, ensure_ascii=False, default=str)


def configure(level: str, fmt: str = "text") -> None:
    """Root logging at `level` in `fmt`. With JSON, the handlers uvicorn installed on its own
    loggers (when it runs the app factory) get the JSON formatter too, and warnings go through
    logging, so every line the process writes is one JSON object."""
    if fmt != "json":
        logging.basicConfig(level=level, format=TEXT_FORMAT, force=False)
        logging.getLogger("storestream").setLevel(level)
        return
    formatter = JsonFormatter()
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    root.setLevel(level)
    for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access"):
        for handler in logging.getLogger(name).handlers:
            handler.setFormatter(formatter)
    logging.getLogger("storestream").setLevel(level)
    logging.captureWarnings(True)
