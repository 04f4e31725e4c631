"""HASHBANK_LOG_FORMAT=json: every line a JSON object, redacted as the text lines are."""

import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.api.access_log import RedactCaseIds, redact_text
from service.app import create_app
from service.settings import Settings
from service.telemetry.log_format import UVICORN_LOGGERS, JsonFormatter
from tests.service.conftest import make_settings

CASE_ID = "c_0123456789abcdef0123"
ACCESS_ARGS = ("203.0.113.9:5000", "GET", f"/v1/cases/{CASE_ID}?x=1", "1.1", 200)


@pytest.fixture
def loggers() -> Iterator[None]:
    """Put the process's logging back as it was: `install` changes process-wide loggers."""
    saved = []
    for name in ("hashbank", *UVICORN_LOGGERS):
        logger = logging.getLogger(name)
        saved.append((logger, list(logger.handlers), list(logger.filters), logger.level))
    propagates = logging.getLogger("uvicorn.access").propagate
    yield
    for logger, handlers, filters, level in saved:
        logger.handlers[:], logger.filters[:] = handlers, filters
        logger.setLevel(level)
    logging.getLogger("uvicorn.access").propagate = propagates


def _record(
    name: str, message: str, args: tuple[object, ...], **extra: object
) -> logging.LogRecord:
    return logging.LogRecord(name, logging.INFO, __file__, 1, message, args, None, **extra)  # type: ignore[arg-type]


def test_access_line_is_json_with_the_case_id_redacted() -> None:
    record = _record("uvicorn.access", '%s - "%s %s HTTP/%s" %d', ACCESS_ARGS)
    assert RedactCaseIds().filter(record)  # the filter create_app puts on uvicorn's access log
    entry = json.loads(JsonFormatter().format(record))
    assert entry["logger"] == "uvicorn.access"
    assert entry["level"] == "INFO"
    assert entry["method"] == "GET"
    assert entry["path"] == "/v1/cases/{case_id}?x=1"
    assert entry["status"] == 200
    assert entry["message"] == '203.0.113.9:5000 - "GET /v1/cases/{case_id}?x=1 HTTP/1.1" 200'
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", entry["time"])
    assert CASE_ID not in json.dumps(entry)


def test_other_lines_are_redacted_and_an_exception_is_its_type_only() -> None:
    assert redact_text(f"GET /v1/cases/{CASE_ID}/hashes failed") == (
        "GET /v1/cases/{case_id}/hashes failed"
    )
    assert redact_text("/v1/cases/{case_id}") == "/v1/cases/{case_id}"
    hash_value = "ab" * 32
    try:
        raise ValueError(f"INSERT ... parameters ('{hash_value}',)")
    except ValueError:
        record = logging.LogRecord(
            "hashbank.sync",
            logging.ERROR,
            __file__,
            1,
            "poll of /v1/cases/%s failed",
            (CASE_ID,),
            None,
        )
        record.exc_info = __import__("sys").exc_info()
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["message"] == "poll of /v1/cases/{case_id} failed"
    assert entry["exception"] == "ValueError"
    assert hash_value not in line
    assert "Traceback" not in line
    assert "\n" not in line


def test_json_setting_switches_uvicorn_and_hashbank_loggers(tmp_path: Path, loggers: None) -> None:
    access_out, error_out = io.StringIO(), io.StringIO()
    logging.getLogger("uvicorn.access").addHandler(logging.StreamHandler(access_out))
    logging.getLogger("uvicorn").addHandler(logging.StreamHandler(error_out))
    for name in UVICORN_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)  # as uvicorn's own configuration
    logging.getLogger("uvicorn.access").propagate = False
    settings = make_settings(tmp_path / "data", log_format="json")
    app = create_app(settings)
    try:
        create_app(settings).state.services.db.dispose()  # twice: still one handler each
    finally:
        app.state.services.db.dispose()
    hashbank = logging.getLogger("hashbank")
    assert sum(isinstance(h.formatter, JsonFormatter) for h in hashbank.handlers) == 1
    access = logging.getLogger("uvicorn.access")
    access.info('%s - "%s %s HTTP/%s" %d', *ACCESS_ARGS)
    logging.getLogger("uvicorn.error").info("Started server process [%d]", 42)
    lines = [*access_out.getvalue().splitlines(), *error_out.getvalue().splitlines()]
    entries = [json.loads(line) for line in lines]
    assert [e["logger"] for e in entries] == ["uvicorn.access", "uvicorn.error"]
    assert entries[0]["path"] == "/v1/cases/{case_id}?x=1"
    assert CASE_ID not in "".join(lines)


def test_text_is_the_default(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path).log_format == "text"
    with pytest.raises(ValueError, match="log_format"):
        Settings(data_dir=tmp_path, log_format="xml")
