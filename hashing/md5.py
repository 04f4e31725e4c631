"""MD5: the file's bytes, exactly; StopNCII's `VideoMD5` and python-threatexchange's `video_md5`.

A cryptographic hash finds only byte-identical copies: any re-encode, resize or
trim escapes it. It exists because partners exchange it (StopNCII holds video
fingerprints as MD5 only) and because it is cheap: an exact copy of a file is
found without decoding it. Matches are equal values only (threshold 0), so it
is served by an exact set, not a radius index. It has no quality.
"""

import hashlib
from dataclasses import dataclass

from hashing.algorithm import EXACT, BinaryCodec, Hash, IndexKind


@dataclass(frozen=True)
class MD5(BinaryCodec):
    name: str = "md5"
    bits: int = 128
    threshold: int = 0
    min_quality: int | None = None
    index: IndexKind = EXACT
    content_types: tuple[str, ...] = ("video",)
    stopncii: str | None = "VideoMD5"
    threatexchange: str | None = "video_md5"
    description: str = "MD5 of the file's bytes; matches byte-identical copies only"

    def compute(self, data: bytes) -> Hash:
        """The MD5 of the file's bytes (used as a fingerprint, not for security)."""
        return Hash(self.name, hashlib.md5(data, usedforsecurity=False).digest())


MD5_ALGORITHM = MD5()
