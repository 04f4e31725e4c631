"""Say what is wrong with a JSON request body that could not be parsed.

FastAPI parses each JSON body once, with the standard library's `json`. A
syntax error comes back as a validation error; anything else the parser
raises (invalid UTF-8, nesting deeper than the parser's recursion allows, an
integer with more digits than Python converts) becomes a bare 400 "There was
an error parsing the body". `explain` names the problem from the exception
that caused it, without parsing the body again: only the failure path comes
here, so the hot path (`POST /v1/match`, up to 2 MB of JSON) still parses once.

Nothing here knows about HTTP; `service.api.errors` decides the status.
"""

import sys
from typing import NamedTuple


class BodyProblem(NamedTuple):
    """What to tell the caller: a stable `code`, a `message`, and the detail's `reason`."""

    code: str
    message: str
    reason: str


def explain(cause: BaseException | None) -> BodyProblem:
    """The problem `cause` (the JSON parser's exception) points at."""
    if isinstance(cause, UnicodeDecodeError):
        return BodyProblem(
            "invalid_utf8",
            "request body is not valid UTF-8",
            f"byte {cause.start} cannot be decoded as {cause.encoding}",
        )
    if isinstance(cause, RecursionError):
        return BodyProblem(
            "json_too_deep",
            "JSON body is nested too deeply",
            "arrays and objects nested deeper than the parser accepts",
        )
    # Python refuses to convert integers longer than this (CVE-2020-10735); the
    # parser's ValueError says so in its text, the only place it can be told apart.
    if isinstance(cause, ValueError) and "integer string conversion" in str(cause):
        return BodyProblem(
            "number_too_long",
            "a number in the JSON body is too long",
            f"integers may have at most {sys.get_int_max_str_digits():,} digits",
        )
    return BodyProblem("malformed_json", "request body is not valid JSON", "it could not be parsed")


def syntax_reason(message: str, position: object) -> str:
    """The detail for a JSON syntax error: the parser's words and where (a character offset)."""
    where = f" at character {position}" if isinstance(position, int) else ""
    return f"{message or 'invalid JSON'}{where}"
