"""Read files out of a Qt resource bundle (`.rcc`), for `fetch_photos.py`.

Some Debian packages (GCompris's data, for one) ship their pictures inside
compiled Qt resource bundles rather than as plain files. The format is Qt's
own (`QResourceRoot` in qtbase's `src/corelib/io/qresource.cpp`): a header
(`qres`, version, then the offsets of the tree, the data and the names), a
tree of fixed-size entries, and zlib-compressed or stored file data. This reads
versions 1 to 3; zstd-compressed entries (Qt 6) are refused.
"""

import struct
import zlib

_DIRECTORY, _COMPRESSED, _ZSTD = 0x2, 0x1, 0x4


def read_rcc(bundle: bytes) -> dict[str, bytes]:
    """Every file in the bundle, by its path inside it (no leading slash)."""
    if bundle[:4] != b"qres":
        raise ValueError("not a Qt resource bundle")
    version, tree, data, names = struct.unpack(">IIII", bundle[4:20])
    entry_size = 14 if version == 1 else 22

    def name(offset: int) -> str:
        length = struct.unpack(">H", bundle[names + offset : names + offset + 2])[0]
        start = names + offset + 6  # after the length and the name's hash
        return bundle[start : start + 2 * length].decode("utf-16-be")

    files: dict[str, bytes] = {}

    def walk(index: int, prefix: str) -> None:
        at = tree + index * entry_size
        name_offset, flags = struct.unpack(">IH", bundle[at : at + 6])
        path = f"{prefix}/{name(name_offset)}" if index else ""
        if flags & _DIRECTORY:
            count, first = struct.unpack(">II", bundle[at + 6 : at + 14])
            for child in range(first, first + count):
                walk(child, path)
            return
        if flags & _ZSTD:
            raise ValueError(f"{path}: zstd-compressed entries are not supported")
        offset = data + struct.unpack(">I", bundle[at + 10 : at + 14])[0]
        length = struct.unpack(">I", bundle[offset : offset + 4])[0]
        content = bundle[offset + 4 : offset + 4 + length]
        # A compressed entry starts with its uncompressed size (4 bytes).
        files[path.lstrip("/")] = zlib.decompress(content[4:]) if flags & _COMPRESSED else content

    walk(0, "")
    return files
