"""Find image files under the paths a survivor gives and hash each one locally.

Nothing here touches the network: this is the part of the client that runs
before anything is sent, and the only part that ever sees the images.
"""

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from hashing.algorithm import Hash, HashAlgorithm
from hashing.errors import HashingError
from hashing.loading import DEFAULT_MAX_PIXELS, load_image
from hashing.video import HEADER_BYTES, container_of

IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".webp", ".gif", ".heic", ".heif", ".avif"}
    | {".bmp", ".tif", ".tiff"}
)
# What `hashing.video` decodes: ISO base media and Matroska files.
VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".qt", ".3gp", ".3g2", ".mkv", ".webm"})


@dataclass(frozen=True)
class FileResult:
    """The outcome for one file: its hashes, or the reason it could not be hashed."""

    path: Path
    hashes: tuple[Hash, ...] = ()
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def find_images(paths: Iterable[Path], suffixes: frozenset[str] = IMAGE_SUFFIXES) -> list[Path]:
    """Expand folders recursively to their image files (by `suffixes`); keep named files as given.

    A file named explicitly is always tried, whatever its suffix, so the
    survivor hears why it could not be hashed instead of it vanishing.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file()
                    and p.suffix.lower() in suffixes
                    and not any(part.startswith(".") for part in p.relative_to(path).parts)
                )
            )
        else:
            found.append(path)
    return found


def is_video(path: Path) -> bool:
    """Whether `hashbank` treats a file as a video: a video suffix, or a video container's bytes.

    The first bytes decide for a file whose suffix lies (a phone's video saved
    as .jpg); a video suffix on something else still goes to the video
    decoder, so the survivor hears that it is not a video.
    """
    if path.suffix.lower() in VIDEO_SUFFIXES:
        return True
    try:
        with path.open("rb") as file:
            return container_of(file.read(HEADER_BYTES)) is not None
    except OSError:
        return False  # the image path reports why it cannot be read


ImageHasher = Callable[[Image.Image], Sequence[Hash]]


def hash_file(
    path: Path,
    algorithms: Iterable[HashAlgorithm] | ImageHasher,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> FileResult:
    """Load one file canonically and compute its hashes; never raises for bad input.

    `algorithms` is the algorithms to compute one hash each with, or a function from
    the canonical image to its hashes (e.g. `hashing.policy.submission_hashes`).
    """
    try:
        image = load_image(path, max_pixels=max_pixels)
        if callable(algorithms):
            return FileResult(path, tuple(algorithms(image)))
        return FileResult(path, tuple(a.compute(image) for a in algorithms))
    except HashingError as exc:
        return FileResult(path, error=str(exc))
    except FileNotFoundError:
        return FileResult(path, error="file not found")
    except IsADirectoryError:
        return FileResult(path, error="is a folder with no images")
    except PermissionError:
        return FileResult(path, error="permission denied")
    except OSError as exc:
        return FileResult(path, error=f"could not read file ({exc.strerror or exc})")


def hash_files(
    paths: list[Path],
    algorithms: list[HashAlgorithm] | ImageHasher,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    on_done: Callable[[FileResult], None] | None = None,
) -> Iterator[FileResult]:
    """Hash files in parallel (decoding releases the GIL), yielding results in input order."""
    workers = min(len(paths), os.cpu_count() or 1) or 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for result in pool.map(lambda p: hash_file(p, algorithms, max_pixels=max_pixels), paths):
            if on_done is not None:
                on_done(result)
            yield result
