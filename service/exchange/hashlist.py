"""Hash lists in python-threatexchange's plain-text file format (export and import).

The format is the one `threatexchange.exchanges.impl.file_api.LocalFileSignalExchangeAPI`
reads (checked against threatexchange 1.2.17): text, one signal per line, the signal
type's name and the hash separated by exactly one space, no comments:

    pdq 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef

When the collaboration config sets `signal_type`, a line may be the hash alone.
The signal types written and read are those python-threatexchange has a name
for (the descriptor's `threatexchange`: `pdq` for PDQ, `video_md5` for MD5),
each hash in its own lowercase hex.

Videos travel whole, in one of two forms (`FORMATS`), and import reads both,
mixed in one file if need be; each becomes one video of the imported case (its
frames with their times, and its MD5):

- `pytx` (the default export): pytx's own signals for a video, the `video_md5`
  line, then one `vpdq` line whose value is pytx 1.2.17's `VPDQSignal` value (a
  JSON list of `"hash,quality,timestamp"` strings, `hashing.format_pytx_vpdq`).
  pytx's file exchange reads both as they are; hashbank reads a `video_md5` line
  directly followed by a `vpdq` line as one video.
- `vpdq`: Meta's vPDQ text format inside the list. A line `video` (or `video MD5`)
  starts a video; its frames follow, one `frame_number,quality,hash,timestamp`
  line each, exactly as Meta's `vpdq` writes them (`hashing.format_vpdq`), so a
  block cut out of the file is a file Meta's tools read. pytx's file exchange
  reads the other lines of such a list and skips the videos.

Frames travel at millisecond precision (3 decimals, as Meta writes them) and are
numbered from 0 in time order (hashbank keeps no frame numbers). On import,
frames below vPDQ's quality floor are dropped (Meta's matcher ignores them too)
and counted.

Hash lists are sensitive (hashes can be partly inverted): files are written
atomically and readable only by their owner (0600), and no error message repeats
a hash value. This module knows the format only; the database side is in
`service.exchange.hashlist_store` and the commands in `service.admin.cli`.
"""

import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO, TextIO

from hashing import MD5_ALGORITHM, VPDQ_ALGORITHM, HashingError, VideoFrameHash
from hashing import SIGNAL_TYPES as REGISTRY
from hashing.atomic import atomic_open
from hashing.vpdq_text import format_pytx_vpdq, format_vpdq, parse_pytx_vpdq, parse_vpdq
from service.match.validation import parse_one
from service.store.signals import SignalInput

# python-threatexchange signal type name -> hashbank algorithm name.
SIGNAL_TYPES: dict[str, str] = {
    s.threatexchange: s.name for s in REGISTRY.in_exchange("threatexchange") if s.threatexchange
}
_TYPE_OF = {algorithm: name for name, algorithm in SIGNAL_TYPES.items()}
EXPORTABLE = frozenset(SIGNAL_TYPES.values())
FORMATS = ("pytx", "vpdq")  # how videos are written (module docstring)
VPDQ_NAME = "vpdq"  # pytx 1.2.17's whole-video signal type (threatexchange.extensions.vpdq)
VIDEO_HEADER = "video"  # starts a video in Meta's text format (the `vpdq` form)
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
    """A parsed list: the hashes in file order (duplicates kept; a video's hashes share an
    image number, its frames have their times), the non-blank line count, the videos,
    and the frames dropped below the quality floor."""

    inputs: list[SignalInput]
    lines: int
    videos: int = 0
    low_quality_frames: int = 0


@dataclass(frozen=True)
class Video:
    """A video to export: its MD5 (None if it has none) and its frames in time order."""

    md5: bytes | None
    frames: list[VideoFrameHash] = field(default_factory=list)


def format_line(algorithm: str, value: bytes) -> str:
    """`<pytx signal type> <hex>` (`pdq <hex>`) for an exportable algorithm; `KeyError` else."""
    return f"{_TYPE_OF[algorithm]} {value.hex()}"


def format_video(video: Video, form: str = "pytx") -> list[str]:
    """A video's lines in one of `FORMATS` (module docstring)."""
    md5 = None if video.md5 is None else MD5_ALGORITHM.format(video.md5)
    if form == "pytx":
        head = [] if md5 is None else [f"{_TYPE_OF[MD5_ALGORITHM.name]} {md5}"]
        return [*head, f"{VPDQ_NAME} {format_pytx_vpdq(video.frames)}"]
    if form == "vpdq":
        numbered = [replace(f, frame_number=n) for n, f in enumerate(video.frames)]
        header = VIDEO_HEADER if md5 is None else f"{VIDEO_HEADER} {md5}"
        return [header, *format_vpdq(numbered).splitlines()]
    raise ValueError(f"unknown format {form!r}; known: {', '.join(FORMATS)}")


def parse_lines(lines: Iterable[str], signal_type: str | None = None) -> HashList:
    """Validate every line with the project's own parsing; report every bad one at once."""
    if signal_type is not None and signal_type not in SIGNAL_TYPES:
        raise HashListError(f"--signal-type: {_unknown_type(signal_type)}")
    parser = _Parser(signal_type)
    for number, raw in enumerate(lines, start=1):
        parser.line(number, raw.strip())
    parser.end_video()
    if parser.problems:
        raise HashListError.bad_lines(parser.problems)
    return HashList(parser.inputs, parser.count, parser.videos, parser.low_quality)


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


class _Parser:
    """One pass over a list: plain lines, and videos in either form."""

    def __init__(self, signal_type: str | None) -> None:
        self.signal_type = signal_type
        self.inputs: list[SignalInput] = []
        self.problems: list[tuple[int, str]] = []
        self.count = self.videos = self.low_quality = 0
        self._block: tuple[int, bytes | None, list[str]] | None = None  # a `video` block
        self._last_md5: tuple[int, int] | None = None  # (line, position in inputs)

    def line(self, number: int, text: str) -> None:
        if not text:
            return
        self.count += 1
        if self._block is not None and "," in text and " " not in text:
            self._block[2].append(text)
            return
        self.end_video()
        previous_md5, self._last_md5 = self._last_md5, None
        name, space, value = text.partition(" ")
        try:
            if name == VIDEO_HEADER:
                self._start_block(number, value if space else None)
            elif name == VPDQ_NAME and space:
                self._pytx_video(number, value, previous_md5)
            else:
                self.inputs.append(_parse_line(text, self.signal_type))
                if self.inputs[-1].algorithm == MD5_ALGORITHM.name and space:
                    self._last_md5 = (number, len(self.inputs) - 1)
        except HashingError as exc:
            self.problems.append((number, str(exc)))

    def end_video(self) -> None:
        """Close a `video` block: its frames in Meta's text format."""
        if self._block is None:
            return
        number, md5, frame_lines = self._block
        self._block = None
        try:
            frames = parse_vpdq("\n".join(frame_lines))
        except HashingError as exc:
            self.problems.append((number, f"the video starting here: {exc}"))
            return
        self._add_video(number, md5, frames)

    def _start_block(self, number: int, md5_text: str | None) -> None:
        md5 = None if md5_text is None else parse_one(MD5_ALGORITHM.name, md5_text).value
        self._block = (number, md5, [])

    def _pytx_video(self, number: int, value: str, md5_at: tuple[int, int] | None) -> None:
        frames = parse_pytx_vpdq(value)
        md5 = None
        if md5_at is not None and md5_at[0] == number - 1:  # the `video_md5` line just above
            md5 = self.inputs.pop(md5_at[1]).value
        self._add_video(number, md5, frames)

    def _add_video(self, number: int, md5: bytes | None, frames: list[VideoFrameHash]) -> None:
        kept = [f for f in frames if f.quality >= (VPDQ_ALGORITHM.min_quality or 0)]
        self.low_quality += len(frames) - len(kept)
        if not kept:
            self.problems.append((number, "a video with no frame of quality 50 or more"))
            return
        image = self.videos
        self.videos += 1
        if md5 is not None:
            self.inputs.append(SignalInput(MD5_ALGORITHM.name, md5, image=image))
        self.inputs.extend(
            SignalInput(VPDQ_ALGORITHM.name, f.hash, f.quality, image, round(f.timestamp, 3))
            for f in kept
        )


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
        f"unknown signal type {shown}; supported: {', '.join(sorted(SIGNAL_TYPES))}, "
        f"{VPDQ_NAME} (a video, pytx's JSON list) and {VIDEO_HEADER} (a video in Meta's vPDQ "
        "text format on the lines that follow) (names are lowercase)"
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
