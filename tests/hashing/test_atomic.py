"""hashing.atomic: a file is replaced whole or not at all, and never left half-written."""

import errno
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from hashing.atomic import atomic_open, write_atomically


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


class Interrupted(Exception):
    pass


def interrupted_write(target: Path, content: bytes, check: Callable[[], None]) -> None:
    """Write `content` to `target` through `atomic_open`, run `check`, then fail."""
    with atomic_open(target) as f:
        f.write(content)
        f.flush()
        check()
        raise Interrupted


def write_while_another_creates(target: Path, theirs: str) -> None:
    """An exclusive write during which someone else creates `target`."""
    with atomic_open(target, "w", exclusive=True) as f:
        f.write("mine")
        target.write_text(theirs)  # appears after the first check


def test_content_is_written_in_full_and_private(tmp_path: Path) -> None:
    target = tmp_path / "list.txt"
    write_atomically(target, "pdq 00\n")
    assert target.read_text() == "pdq 00\n"
    write_atomically(target, b"\x00\x01binary")  # replaces, in bytes
    assert target.read_bytes() == b"\x00\x01binary"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert leftovers(tmp_path) == []


def test_text_mode_keeps_the_newlines_asked_for(tmp_path: Path) -> None:
    target = tmp_path / "lines.txt"
    with atomic_open(target, "w", newline="\n") as f:
        f.write("one\ntwo\n")
    assert target.read_bytes() == b"one\ntwo\n"


def test_an_exception_mid_write_leaves_no_temporary_file_and_no_target(tmp_path: Path) -> None:
    target = tmp_path / "new.json"

    def a_temporary_file_holds_it() -> None:
        assert leftovers(tmp_path) != []

    with pytest.raises(Interrupted):
        interrupted_write(target, b"half", a_temporary_file_holds_it)
    assert not target.exists()
    assert leftovers(tmp_path) == []


def test_an_existing_file_is_untouched_by_a_failed_write(tmp_path: Path) -> None:
    target = tmp_path / "cursor"
    target.write_text("41\n")

    def not_replaced_yet() -> None:
        assert target.read_text() == "41\n"

    with pytest.raises(Interrupted):
        interrupted_write(target, b"42\n", not_replaced_yet)
    assert target.read_text() == "41\n"
    assert leftovers(tmp_path) == []


def test_a_failure_to_replace_removes_the_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "snapshot.data"
    target.write_bytes(b"old")

    def full_disk(*_: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError, match="No space"):
        write_atomically(target, b"new")
    assert target.read_bytes() == b"old"
    assert leftovers(tmp_path) == []


def test_exclusive_refuses_an_existing_file_before_writing(tmp_path: Path) -> None:
    target = tmp_path / "case.txt"
    target.write_text("her case key")
    ran = False
    with pytest.raises(FileExistsError), atomic_open(target, exclusive=True):
        ran = True
    assert not ran
    with pytest.raises(FileExistsError):
        write_atomically(target, "another", exclusive=True)
    assert target.read_text() == "her case key"
    assert leftovers(tmp_path) == []


def test_exclusive_refuses_a_file_created_while_writing(tmp_path: Path) -> None:
    target = tmp_path / "case.txt"
    with pytest.raises(FileExistsError):
        write_while_another_creates(target, "someone else's")
    assert target.read_text() == "someone else's"
    assert leftovers(tmp_path) == []


def test_exclusive_creates_a_new_file(tmp_path: Path) -> None:
    target = tmp_path / "case.txt"
    write_atomically(target, "first", exclusive=True)
    assert target.read_text() == "first"
    assert target.stat().st_nlink == 1  # the temporary name is gone, only the target is left
    assert leftovers(tmp_path) == []


def test_exclusive_without_hard_links_still_never_overwrites(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(*_: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    target = tmp_path / "case.txt"
    write_atomically(target, "first", exclusive=True)
    assert target.read_text() == "first"
    with pytest.raises(FileExistsError):
        write_atomically(target, "second", exclusive=True)
    with pytest.raises(FileExistsError):
        write_while_another_creates(tmp_path / "late.txt", "theirs")
    assert target.read_text() == "first"
    assert (tmp_path / "late.txt").read_text() == "theirs"
    assert leftovers(tmp_path) == []


def test_a_missing_folder_is_an_error_and_an_unknown_mode_too(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_atomically(tmp_path / "absent" / "file", "x")
    with pytest.raises(ValueError, match="mode"):
        atomic_open(tmp_path / "file", "a")  # type: ignore[call-overload]
