"""Atomic file writes: a file is replaced whole, or not at all.

The project's one way to write a file that a crash, a full disk or an exception
must not leave half-written: the platform client's sync checkpoint, index
snapshots, exported hash lists, and (with `exclusive=True`) files that must not
overwrite what is already there.

The content goes to a temporary file in the target's own folder (so the rename
stays on one filesystem), is flushed and fsynced, then renamed over the target
with `os.replace`, and the folder is fsynced so the rename itself survives a
power cut. Until the rename the target is untouched; a reader sees the old file
or the new one, never a mix. On any error, the exception from the caller's
writing included, the temporary file is removed and the error propagates.

Files are created readable and writable by their owner only (0600): what the
project writes this way (hash lists, snapshots of hashes, cursors) is sensitive.
The target's folder must exist.
"""

import errno
import os
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path
from typing import IO, Any, BinaryIO, Literal, TextIO, overload

__all__ = ["atomic_open", "write_atomically"]

# link(2) errors that mean "this filesystem has no hard links", not "the name is taken".
_NO_HARD_LINKS = frozenset({errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS})


@overload
def atomic_open(
    path: Path, mode: Literal["wb"] = "wb", *, exclusive: bool = False
) -> AbstractContextManager[BinaryIO]: ...


@overload
def atomic_open(
    path: Path,
    mode: Literal["w"],
    *,
    exclusive: bool = False,
    encoding: str = "utf-8",
    newline: str | None = None,
) -> AbstractContextManager[TextIO]: ...


def atomic_open(
    path: Path,
    mode: Literal["w", "wb"] = "wb",
    *,
    exclusive: bool = False,
    encoding: str = "utf-8",
    newline: str | None = None,
) -> AbstractContextManager[Any]:
    """A context manager giving a file object whose content replaces `path` when the
    block ends without an exception; an exception leaves `path` as it was.

    `mode` is `"wb"` (bytes) or `"w"` (text in `encoding`, `newline` as for `open`).
    `exclusive=True` refuses to replace an existing file: `FileExistsError` before the
    block runs when `path` exists already, and again at the end when another writer
    created it meanwhile. The new file is then put in place with a hard link, which
    fails rather than overwrite; on a filesystem without hard links the name is
    claimed with `O_EXCL` and then replaced, so a reader may briefly see it empty,
    but an existing file is never overwritten.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}")
    if exclusive and os.path.lexists(path):
        raise FileExistsError(errno.EEXIST, "refusing to overwrite an existing file", str(path))
    text_options = {"encoding": encoding, "newline": newline} if mode == "w" else {}
    return _replacing(path, mode, exclusive, text_options)


def write_atomically(path: Path, data: bytes | str, *, exclusive: bool = False) -> None:
    """Replace `path` with `data` (a `str` is written as UTF-8), as `atomic_open` does."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_open(path, exclusive=exclusive) as f:
        f.write(payload)


@contextmanager
def _replacing(
    path: Path, mode: str, exclusive: bool, text_options: dict[str, Any]
) -> Iterator[IO[Any]]:
    directory = path.parent
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **text_options) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        if exclusive:
            _link_new(temporary, path)
        else:
            os.replace(temporary, path)
    finally:
        # After a replace the name is gone; after a link, or any failure, it is ours to drop.
        with suppress(FileNotFoundError):
            os.unlink(temporary)
    _sync_directory(directory)


def _link_new(temporary: str, path: Path) -> None:
    """Give the finished file the name `path` only if nothing has it (FileExistsError)."""
    try:
        os.link(temporary, path)
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise  # FileExistsError among them
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        os.replace(temporary, path)


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX; skipped where a folder cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on a folder; the rename has still happened
    finally:
        os.close(fd)
