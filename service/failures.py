"""What the service refuses, in domain terms: a kind, a stable code, a message, details.

Repositories, the match pipeline and the decode budget raise these; they carry
no HTTP. The API layer (`service.api.errors`) maps each kind to one status in one
table, as it does for `hashing` and `index` errors, and the admin CLI prints
the message. `details` lists per-item problems (`location`, `reason`).
"""

from typing import Any


class Failure(Exception):
    """A refusal the caller can act on; `code` is stable and machine-readable."""

    default_code = "refused"

    def __init__(
        self, message: str, code: str | None = None, details: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.message, self.code = message, code or self.default_code
        self.details = details or []


class NotFound(Failure):
    """No such thing for this caller (another platform's match is as unknown as none)."""

    default_code = "not_found"


class Unauthorized(Failure):
    """Missing or wrong credentials."""

    default_code = "unauthorized"


class Forbidden(Failure):
    """Credentials that are right but do not allow this."""

    default_code = "forbidden"


class Conflict(Failure):
    """The thing is in a state that does not allow this (withdrawn, not disputed, exists)."""

    default_code = "conflict"


class TooLarge(Failure):
    """More than a limit allows (items, hashes, pixels, decode memory)."""

    default_code = "too_large"


class Invalid(Failure):
    """Input that is well-formed but not acceptable (a bad hash, an unknown scope)."""

    default_code = "invalid"


class Throttled(Failure):
    """Too many wrong attempts; `retry_after` seconds until the next is counted."""

    default_code = "too_many_attempts"

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many wrong keys; try again later")
        self.retry_after = retry_after


class Busy(Failure):
    """No room now (the decode budget); worth trying again after `retry_after` seconds."""

    default_code = "busy"

    def __init__(self, message: str, code: str, retry_after: int) -> None:
        super().__init__(message, code)
        self.retry_after = retry_after
