"""Hash lists in python-threatexchange's plain-text file format (export and import).

The format is the one `threatexchange.exchanges.impl.file_api.LocalFileSignalExchangeAPI`
reads (checked against threatexchange 1.2.17): text, one signal per line, the signal
type's name and the hash separated by exactly one space, no comments:

    pdq 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef

When the collaboration config sets `signal_type`, a line may be the hash alone.
The signal types written and read are those python-threatexchange has a name
for (the descriptor's `threatexchange`: `pdq` for PDQ, `video_md5` for MD5),
each hash in its own lowercase hex.

Hash lists are sensitive (hashes can be partly inverted): files are written
atomically and readable only by their owner (0600), and no error message repeats
a hash value. This module knows the format only; the database side is in
`service.exchange.hashlist_store` and the commands in `service.admin.cli`.
"""

import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

from hashing import SIGNAL_TYPES as REGISTRY
from hashing import HashingError
from hashing.atomic import atomic_open
from service.match.validation import parse_one
from service.store.signals import SignalInput

# python-threatexchange signal type name -> hashbank algorithm name.
SIGNAL_TYPES: dict[str, str] = {
    s.threatexchange: s.name for s in REGISTRY.in_exchange("threatexchange") if s.threatexchange
}
_TYPE_OF = {algorithm: name for name, algorithm in SIGNAL_TYPES.items()}
EXPORTABLE = frozenset(SIGNAL_TYPES.values())
_MAX_REPORTED = 10  # bad lines named in one error message


class HashListError(ValueError):
    """The list cannot be read. `problems` are (line number, reason) for every bad line."""

    def __init__(self, message: str, problems: list[tuple[int, str]] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []

    @classmethod
    def bad_lines(cls, problems: list[tuple[int, str]]) -> "HashListError":
        named = [f"line {n}: {reason}" for n, reason in problems[:_MAX_REPORTED]]
        if len(problems) > len(named):
            named.append(f"... and {len(problems) - len(named)} more bad lines")
        return cls("\n".join(named), problems)


@dataclass(frozen=True)
class HashList:
    """A parsed list: the hashes in file order (duplicates kept) and the non-blank line count."""

    inputs: list[SignalInput]
    lines: int


def format_line(algorithm: str, value: bytes) -> str:
    """`<pytx signal type> <hex>` (`pdq <hex>`) for an exportable algorithm; `KeyError` else."""
    return f"{_TYPE_OF[algorithm]} {value.hex()}"


def parse_lines(lines: Iterable[str], signal_type: str | None = None) -> HashList:
    """Validate every line with the project's own parsing; report every bad one at once."""
    if signal_type is not None and signal_type not in SIGNAL_TYPES:
        raise HashListError(f"--signal-type: {_unknown_type(signal_type)}")
    inputs: list[SignalInput] = []
    problems: list[tuple[int, str]] = []
    count = 0
    for number, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text:
            continue
        count += 1
        try:
            inputs.append(_parse_line(text, signal_type))
        except HashingError as exc:
            problems.append((number, str(exc)))
    if problems:
        raise HashListError.bad_lines(problems)
    return HashList(inputs, count)


def read(path: Path, signal_type: str | None = None) -> HashList:
    """Parse a file, or standard input for `-`. UTF-8; a leading byte-order mark is allowed."""
    if str(path) == "-":
        return parse_lines(_decoded(sys.stdin.buffer), signal_type)
    with path.open("rb") as f:
        return parse_lines(_decoded(f), signal_type)


def write(path: Path, lines: Iterable[str]) -> int:
    """Write the lines to `path` (or standard output for `-`); return how many.

    A file is replaced atomically (`hashing.atomic`): written in full to a private
    (0600) temporary file beside it, synced, then renamed over the target, so a
    reader never sees a partial list and an interrupted export leaves the previous
    file as it was.
    """
    if str(path) == "-":
        return _write_lines(sys.stdout, lines)
    with atomic_open(path, "w", newline="\n") as f:
        return _write_lines(f, lines)


# -- internals ----------------------------------------------------------------------


def _parse_line(text: str, signal_type: str | None) -> SignalInput:
    name, space, value = text.partition(" ")
    if not space:
        if signal_type is None:
            raise HashingError(
                "no signal type: expected 'pdq <hash>' "
                "(a file of bare hashes needs --signal-type pdq)"
            )
        name, value = signal_type, text
    elif name not in SIGNAL_TYPES:
        raise HashingError(_unknown_type(name))
    if any(c.isspace() for c in value):
        raise HashingError(
            "expected the signal type, exactly one space, then the hash and nothing after it"
        )
    return parse_one(SIGNAL_TYPES[name], value)


def _unknown_type(name: str) -> str:
    # A long token is probably a hash on a malformed line: never repeat it.
    shown = repr(name) if len(name) <= 16 else f"of {len(name)} characters"
    return (
        f"unknown signal type {shown}; supported: {', '.join(sorted(SIGNAL_TYPES))} "
        "(names are lowercase)"
    )


def _decoded(stream: BinaryIO) -> Iterator[str]:
    for number, raw in enumerate(stream, start=1):
        try:
            yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            raise HashListError.bad_lines([(number, "not UTF-8 text")]) from None


def _write_lines(stream: TextIO, lines: Iterable[str]) -> int:
    count = 0
    for line in lines:
        stream.write(line + "\n")
        count += 1
    return count
