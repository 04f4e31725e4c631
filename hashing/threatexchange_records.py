"""The pytx records of hashbank's delta feed: what `hashing.threatexchange_ext` fetches.

One record per hash of a signal type pytx has a name for (the descriptor's
`threatexchange`: PDQ as `pdq`, MD5 as `video_md5`), keyed `("pdq", hex)`: an
`add` maps to a `HashbankSignalMetadata`, a `remove` to None, which pytx's merge
deletes. Other algorithms (`phash`, `dhash`) are skipped: pytx has no signal type
for them. A video's own MD5 is such a record too.

A video (its vPDQ frames) is one record of pytx's whole-video vPDQ type,
`VPDQSignal`, named `vpdq` in pytx 1.2.17 (the vpdq extension,
`threatexchange config extensions add threatexchange.extensions.vpdq`): keyed
`("vpdq", video reference)`, its value, a JSON list of `"hash,quality,timestamp"`
(`hashing.format_pytx_vpdq`), in the record's `signal`. Keyed by the video, not
by the value: two cases holding the same video are two records of one value, and
one's withdrawal leaves the other's. The feed gives each video's entries on one
page, all of them (service/exchange/feed.py), so a record is built from one page:
added when the video's entries say `item_action` add, deleted when they say remove.

This module imports `threatexchange`, an optional dependency, as the extension does.
"""

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from threatexchange.exchanges import fetch_state as state

from hashing.errors import InvalidHash
from hashing.platform_replies import Change
from hashing.registry import SIGNAL_TYPES
from hashing.vpdq import VPDQ_ALGORITHM, VideoFrameHash
from hashing.vpdq_text import format_pytx_vpdq

__all__ = ["VPDQ_NAME", "HashbankSignalMetadata", "RecordKey", "by_value", "page_updates"]

VPDQ_NAME = "vpdq"  # pytx 1.2.17's VPDQSignal.get_name()

_log = logging.getLogger("hashing.threatexchange_ext")

RecordKey = tuple[str, str]  # (pytx signal type name, hash or video reference)


@dataclass
class HashbankSignalMetadata(state.FetchedSignalMetadata):
    """A hash, or a video, that a survivor submitted for her own intimate image or video.

    No platform has verified it, so its opinion is an investigation seed, as pytx's
    StopNCII exchange treats user-submitted cases: review a match, then act. The
    feed carries nothing else about a hash (no case, no survivor), and nor does this.
    `signal` is the signal's value when the record's key holds a video's reference
    instead (pytx's vPDQ JSON list); None when the key holds the value.
    """

    signal: str | None = None

    def get_as_opinions(self) -> Sequence[state.SignalOpinion]:
        return [state.SignalOpinion(False, state.SignalOpinionCategory.INVESTIGATION_SEED, set())]


Updates = dict[RecordKey, HashbankSignalMetadata | None]


def page_updates(changes: Sequence[Change]) -> Updates:
    """The records one page of the feed changes, in order (a later change wins)."""
    updates: Updates = {}
    video: tuple[str, str] | None = None  # the (reference, item_action) being read
    frames: list[VideoFrameHash] = []
    for change in changes:
        run = None if change.item is None else (change.item, change.item_action or "remove")
        if run != video:
            _video_update(updates, video, frames)
            video, frames = run, []
        # A frame's variants (its other forms) are no frames to pytx's vPDQ matcher.
        if run is not None and change.algorithm == VPDQ_ALGORITHM.name and not change.variant:
            frame = _frame(change, len(frames))
            if frame is not None:
                frames.append(frame)
        key = _record_key(change.algorithm, change.hash)
        if key is not None:
            updates[key] = HashbankSignalMetadata() if change.action == "add" else None
    _video_update(updates, video, frames)
    return updates


def by_value(
    fetched: Mapping[RecordKey, HashbankSignalMetadata | None],
) -> dict[RecordKey, HashbankSignalMetadata | None]:
    """Records keyed by (type, signal value), as pytx's conversion to signals reads them."""
    return {
        (kind, value if record is None or record.signal is None else record.signal): record
        for (kind, value), record in fetched.items()
    }


def _video_update(
    updates: Updates, video: tuple[str, str] | None, frames: list[VideoFrameHash]
) -> None:
    if video is None:
        return
    reference, action = video
    if action == "add" and frames:
        frames.sort(key=lambda f: f.timestamp)
        updates[(VPDQ_NAME, reference)] = HashbankSignalMetadata(format_pytx_vpdq(frames))
    else:
        updates[(VPDQ_NAME, reference)] = None


def _frame(change: Change, number: int) -> VideoFrameHash | None:
    try:
        value = VPDQ_ALGORITHM.parse(change.hash)
    except InvalidHash:
        _log.warning("hashbank feed: skipped a malformed vpdq frame")  # never the value
        return None
    quality = 100 if change.quality is None else change.quality
    return VideoFrameHash(number, change.timestamp or 0.0, quality, value)


def _record_key(algorithm: str, value: str) -> RecordKey | None:
    """The pytx key of a hash in canonical (lowercase) hex, or None to skip it."""
    signal_type = SIGNAL_TYPES.get(algorithm)
    if signal_type is None or signal_type.threatexchange is None:
        return None
    try:
        return signal_type.threatexchange, signal_type.format(signal_type.parse(value))
    except InvalidHash:
        # Safe to skip even for a removal: a malformed hash was never stored here.
        # The value itself stays out of the log (hash values are sensitive).
        _log.warning("hashbank feed: skipped a malformed %s hash", algorithm)
        return None
