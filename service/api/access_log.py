"""Keep case ids out of the access log.

A case id alone opens nothing, but next to a client address in a log it says
who checked which case: uvicorn's access lines are rewritten before any
handler sees them, so `/v1/cases/c_…` is logged as `/v1/cases/{case_id}` (and
the rest of that path, e.g. `/hashes`, is kept). Case keys and API keys travel
in headers, which uvicorn does not log. Installed once per process by
`create_app`.
"""

import logging
import re

_CASE_PATH = re.compile(r"^(/v1/cases/)[^/?#]+")
_CASE_PATH_ANYWHERE = re.compile(r"(/v1/cases/)(?!\{case_id\})[^/?#\s\"']+")
REDACTED = r"\1{case_id}"


def redact_path(path: str) -> str:
    return _CASE_PATH.sub(REDACTED, path)


def redact_text(text: str) -> str:
    """Any case path inside a message (a second line of defence for JSON log lines)."""
    return _CASE_PATH_ANYWHERE.sub(REDACTED, text)


class RedactCaseIds(logging.Filter):
    """For uvicorn's access logger: its record's args are
    (client address, method, path with query, HTTP version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_path(args[2]), *args[3:])
        return True


def install(logger_name: str = "uvicorn.access") -> None:
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactCaseIds) for f in logger.filters):
        logger.addFilter(RedactCaseIds())
