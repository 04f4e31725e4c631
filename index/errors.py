"""Domain errors of the index package (no HTTP: the service maps them)."""


class IndexError_(Exception):  # noqa: N801 - avoid shadowing the builtin IndexError
    """Base class for index errors."""


class InvalidCodes(IndexError_):
    """Codes or ids of the wrong shape, type or width for this index."""


class SnapshotError(IndexError_):
    """A snapshot is missing, corrupt, truncated or for another algorithm: rebuild instead."""
