"""A stand-in for Meta's native `vpdq` package, for python-threatexchange's vPDQ extension.

pytx 1.2.17's vPDQ signal type (`threatexchange.extensions.vpdq`, the `extensions`
extra) imports `vpdq`, Meta's C++ hasher, which PyPI ships only as source to
build against FFmpeg's development libraries. pytx uses it for two things: hashing
a video file (`computeHash`, in `VPDQSignal.hash_from_file`) and a type name
(`VpdqFeature`). Everything pytx does with a vPDQ *value* (parse it, validate it,
index it, match it) is pytx's own Python. The tests put this directory on the
path when the real package is absent, so that code runs as it is; hashing a file
through pytx raises here (hashbank hashes videos itself: `hashing.video_signals`).
"""

from dataclasses import dataclass


@dataclass
class VpdqFeature:
    quality: int
    frame_number: int
    hash: str
    timestamp: float

    @property
    def hex(self) -> str:
        return self.hash


def computeHash(*args: object, **kwargs: object) -> list[VpdqFeature]:
    raise NotImplementedError("the stand-in vpdq module cannot hash files")
