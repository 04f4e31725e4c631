"""JSON log lines (`HASHBANK_LOG_FORMAT=json`): one JSON object a line, redacted as the text.

A log collector then needs no pattern per line kind. Each line has `time`
(UTC, ISO 8601), `level`, `logger` and `message`; uvicorn's access lines also
carry `client`, `method`, `path`, `http_version` and `status` as fields. The
rules stay those of the text logs: the access log's case ids are already
replaced by `service.api.access_log`'s filter before any formatter runs, and every
message is passed through the same redaction again, in case some other line
quotes a case path. Keys travel in headers, which nothing logs, and no
hashbank message carries a hash value. An exception is given by its type
alone: a traceback can quote SQL statements and their parameters, that is,
hash values.

`install` switches the handlers uvicorn has set up in this worker, and gives
the `hashbank` loggers one of their own. uvicorn's supervisor process (with
`--workers`) never builds the app, so `scripts/serve` also passes
`service/telemetry/log_config.json` to uvicorn, which makes its few lines JSON too.
"""

import json
import logging
import sys
from datetime import UTC, datetime

from service.api.access_log import redact_text

UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
_ACCESS_FIELDS = ("client", "method", "path", "http_version", "status")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact_text(record.getMessage()),
        }
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            entry.update(zip(_ACCESS_FIELDS, args, strict=True))
            entry["path"] = redact_text(str(entry["path"]))
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = record.exc_info[0].__name__
        return json.dumps(entry, default=str)


def install(log_format: str) -> None:
    """For `json`: this process's uvicorn and hashbank lines as JSON (idempotent)."""
    if log_format != "json":
        return
    formatter = JsonFormatter()
    for name in UVICORN_LOGGERS:
        for handler in logging.getLogger(name).handlers:
            handler.setFormatter(formatter)
    hashbank = logging.getLogger("hashbank")
    if not any(isinstance(h.formatter, JsonFormatter) for h in hashbank.handlers):
        # Its lines go to stderr beside uvicorn's; it still propagates, so a root
        # handler an operator configured sees them as before.
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(formatter)
        hashbank.addHandler(handler)
