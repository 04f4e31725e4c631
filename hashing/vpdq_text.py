"""Meta's vPDQ text format: a line `frame_number,quality,pdq_hash_hex,timestamp_seconds` per frame.

It is what Meta's `vpdq` writes and reads (the reference hashes in
`../shared/vpdq-reference/hashes` are in it), so hashes exchanged with Meta's
tools travel in it:

    0,100,e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c,0.000

`format_vpdq` writes timestamps with 3 decimals and ends every line with a
newline. `parse_vpdq` is strict and says which line is wrong: exactly four
comma-separated fields; the frame number a non-negative decimal integer,
strictly increasing from line to line; the quality an integer 0-100; the hash
64 hex digits (either case); the timestamp a non-negative decimal number of
seconds, never decreasing. Surrounding whitespace and empty lines are
ignored. Errors are `InvalidHash` (a `HashingError`).
"""

import re
from collections.abc import Iterable

from hashing.errors import InvalidHash
from hashing.vpdq import VPDQ_ALGORITHM, VideoFrameHash

_INTEGER = re.compile(r"[0-9]{1,12}")
_SECONDS = re.compile(r"[0-9]{1,12}(\.[0-9]{1,9})?")


def format_vpdq(frames: Iterable[VideoFrameHash]) -> str:
    """Frames in Meta's text format, one line each, timestamps with 3 decimals."""
    return "".join(
        f"{f.frame_number},{f.quality},{VPDQ_ALGORITHM.format(f.hash)},{f.timestamp:.3f}\n"
        for f in frames
    )


def parse_vpdq(text: str, *, max_frames: int | None = None) -> list[VideoFrameHash]:
    """Frames from Meta's text format; `InvalidHash` naming the line for anything malformed.

    `max_frames` bounds the number of frames accepted (None: no bound).
    """
    if not isinstance(text, str):
        raise InvalidHash("vPDQ frames must be text")
    frames: list[VideoFrameHash] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if max_frames is not None and len(frames) >= max_frames:
            raise InvalidHash(f"vPDQ text has more than {max_frames:,} frames")
        frame = _parse_line(line, number)
        if frames and frame.frame_number <= frames[-1].frame_number:
            raise InvalidHash(f"vPDQ line {number}: frame numbers must increase")
        if frames and frame.timestamp < frames[-1].timestamp:
            raise InvalidHash(f"vPDQ line {number}: timestamps must not decrease")
        frames.append(frame)
    return frames


def _parse_line(line: str, number: int) -> VideoFrameHash:
    fields = [field.strip() for field in line.split(",")]
    if len(fields) != 4:
        raise InvalidHash(
            f"vPDQ line {number}: expected frame_number,quality,pdq_hash_hex,timestamp_seconds "
            f"(4 fields), got {len(fields)}"
        )
    frame_text, quality_text, hash_text, seconds_text = fields
    if not _INTEGER.fullmatch(frame_text):
        raise InvalidHash(f"vPDQ line {number}: the frame number must be a non-negative integer")
    if not _INTEGER.fullmatch(quality_text) or int(quality_text) > 100:
        raise InvalidHash(f"vPDQ line {number}: the quality must be an integer from 0 to 100")
    if not _SECONDS.fullmatch(seconds_text):
        raise InvalidHash(f"vPDQ line {number}: the timestamp must be non-negative seconds")
    try:
        value = VPDQ_ALGORITHM.parse(hash_text)
    except InvalidHash as exc:
        raise InvalidHash(f"vPDQ line {number}: {exc}") from None
    return VideoFrameHash(int(frame_text), float(seconds_text), int(quality_text), value)
