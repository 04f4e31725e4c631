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

python-threatexchange (pytx 1.2.17, `threatexchange.extensions.vpdq`) holds a
whole video as one `vpdq` signal (`VPDQSignal`) whose value is a JSON list of
`"pdq_hash_hex,quality,timestamp"` strings (`vpdq_util.vpdq_to_json`), with no
frame numbers: `format_pytx_vpdq` writes that value (timestamps with 3
decimals, where pytx's own `VpdqCompactFeature.__str__` writes 3 *significant
digits*, `{t:.3}`, so 12.345 s becomes "12.3" and 150 s "1.5e+02"; pytx parses
both), `parse_pytx_vpdq` reads it, pytx's spellings included, numbering the
frames from 0 in time order.
"""

import json
import math
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


def format_pytx_vpdq(frames: Iterable[VideoFrameHash]) -> str:
    """Frames as pytx's `VPDQSignal` value: `json.dumps` of `"hex,quality,timestamp"` strings."""
    return json.dumps(
        [f"{VPDQ_ALGORITHM.format(f.hash)},{f.quality},{f.timestamp:.3f}" for f in frames]
    )


def parse_pytx_vpdq(text: str, *, max_frames: int | None = None) -> list[VideoFrameHash]:
    """Frames from pytx's `VPDQSignal` value, in time order, numbered from 0.

    As strict as pytx's own `json_to_vpdq` and more: a JSON list of strings, each
    exactly `hash,quality,timestamp` (64 hex digits; an integer 0-100; finite,
    non-negative seconds in any spelling Python's float reads, as pytx writes them).
    `InvalidHash` says which element is wrong, never its value.
    """
    try:
        items = json.loads(text)
    except (TypeError, ValueError):
        raise InvalidHash("a pytx vpdq value must be a JSON list of strings") from None
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise InvalidHash("a pytx vpdq value must be a JSON list of strings")
    if max_frames is not None and len(items) > max_frames:
        raise InvalidHash(f"the pytx vpdq value has more than {max_frames:,} frames")
    timed: list[tuple[float, int, bytes]] = []
    for number, item in enumerate(items):
        fields = item.split(",")
        if len(fields) != 3:
            raise InvalidHash(
                f"vpdq frame {number}: expected pdq_hash_hex,quality,timestamp (3 fields), "
                f"got {len(fields)}"
            )
        hash_text, quality_text, seconds_text = (field.strip() for field in fields)
        if not _INTEGER.fullmatch(quality_text) or int(quality_text) > 100:
            raise InvalidHash(f"vpdq frame {number}: the quality must be an integer from 0 to 100")
        try:
            seconds = float(seconds_text)
        except ValueError:
            seconds = -1.0
        if not math.isfinite(seconds) or seconds < 0:
            raise InvalidHash(f"vpdq frame {number}: the timestamp must be non-negative seconds")
        try:
            value = VPDQ_ALGORITHM.parse(hash_text)
        except InvalidHash as exc:
            raise InvalidHash(f"vpdq frame {number}: {exc}") from None
        timed.append((seconds, int(quality_text), value))
    timed.sort(key=lambda frame: frame[0])
    return [
        VideoFrameHash(number, seconds, quality, value)
        for number, (seconds, quality, value) in enumerate(timed)
    ]
