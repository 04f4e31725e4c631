"""`hashbank hash` for videos: each video's MD5 and vPDQ frames, with a progress bar per video.

Videos are hashed one after another (the decoder uses the cores itself) by
`hashing.video_signals.video_signals`; on a terminal each gets a bar on
stderr with the frames decoded, the frames hashed and the frames decoded per
second. Output: per video, a header line and its frames in Meta's text
format (`hashing.vpdq_text`), or one JSON object per line with `--json`.
Nothing is sent anywhere.
"""

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from hashing.errors import HashingError
from hashing.video import VideoLimits
from hashing.video_forms import Side
from hashing.video_signals import VideoSignals, video_signals
from hashing.vpdq import VideoProgress
from hashing.vpdq_text import format_vpdq


@dataclass(frozen=True)
class VideoResult:
    """The outcome for one video: its signals, or why it could not be hashed."""

    path: Path
    signals: VideoSignals | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def hash_videos(
    paths: list[Path],
    *,
    rate: float | None,
    limits: VideoLimits,
    err: Console,
    show: bool,
    forms: Side | None = None,
) -> list[VideoResult]:
    """Hash each video in turn (with each frame's `forms` for that side, if given,
    `hashing.video_forms`); never raises for a bad file."""
    results = []
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("frames, {task.fields[hashed]} hashed, {task.fields[speed]} frames/s"),
        TimeElapsedColumn(),
        console=err,
        disable=not show,
        redirect_stdout=False,
    ) as bar:
        for path in paths:
            task = bar.add_task(path.name, total=None, hashed=0, speed="-")

            def advance(progress: VideoProgress, task: TaskID = task) -> None:
                elapsed = bar.tasks[task].elapsed or 0.0
                speed = f"{progress.decoded / elapsed:.0f}" if elapsed > 0 else "-"
                bar.update(
                    task,
                    completed=progress.decoded,
                    total=max(progress.expected or 0, progress.decoded) or None,
                    hashed=progress.hashed,
                    speed=speed,
                )

            results.append(_hash_one(path, rate, limits, advance, forms))
    return results


def _hash_one(
    path: Path,
    rate: float | None,
    limits: VideoLimits,
    advance: Callable[[VideoProgress], None],
    forms: Side | None,
) -> VideoResult:
    try:
        signals = video_signals(path, rate=rate, limits=limits, on_progress=advance, forms=forms)
    except HashingError as exc:
        return VideoResult(path, error=str(exc))
    except PermissionError:
        return VideoResult(path, error="permission denied")
    except OSError as exc:
        return VideoResult(path, error=f"could not read file ({exc.strerror or exc})")
    return VideoResult(path, signals)


def print_videos(results: list[VideoResult], *, json_lines: bool) -> None:
    """Each video's MD5, duration and frames on stdout (Meta's format, or JSON lines)."""
    for result in results:
        signals = result.signals
        if json_lines:
            if signals is None:
                line: dict[str, object] = {"path": str(result.path), "error": result.error}
            else:
                line = {
                    "path": str(result.path),
                    "md5": signals.md5.hex,
                    "duration": round(signals.duration, 3),
                    "vpdq": [
                        {
                            "frame_number": f.frame_number,
                            "quality": f.quality,
                            "hash": f.hex,
                            "timestamp": round(f.timestamp, 3),
                        }
                        for f in signals.frames
                    ],
                }
            sys.stdout.write(json.dumps(line) + "\n")
        elif signals is None:
            sys.stdout.write(f"# {result.path}: not hashed: {result.error}\n")
        else:
            sys.stdout.write(
                f"# {result.path}: md5 {signals.md5.hex}, {signals.duration:.3f} s, "
                f"{len(signals.frames)} vpdq frames (frame_number,quality,pdq_hash,timestamp)\n"
            )
            sys.stdout.write(format_vpdq(signals.frames))
