"""The `hashbank` command: the survivor's client.

`hashbank hash PATH...` hashes images and videos on this device and prints
the hashes (for a video its MD5 and vPDQ frames, `cli_video`); it never uses
the network. The commands that talk to a service (submit,
status, add, withdraw, match) live in `cli_cases`.
"""

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from hashing import cli_cases
from hashing.algorithm import HashAlgorithm
from hashing.cli_video import hash_videos, print_videos
from hashing.errors import UnknownAlgorithm
from hashing.files import (
    IMAGE_SUFFIXES,
    VIDEO_SUFFIXES,
    FileResult,
    find_images,
    hash_files,
    is_video,
)
from hashing.loading import DEFAULT_MAX_PIXELS
from hashing.registry import image_algorithm
from hashing.video import DEFAULT_LIMITS
from hashing.vpdq import DEFAULT_RATE

app = typer.Typer(
    help="hashbank: hash your images on your own device. Images never leave it.",
    no_args_is_help=True,
    add_completion=False,
)
PROGRESS_MIN_FILES = 4  # below this a bar only flickers


@app.callback()
def _root() -> None:
    """Keeps `hash` a named subcommand (more commands join it)."""


@app.command("hash")
def hash_command(
    paths: Annotated[
        list[Path], typer.Argument(help="Image or video files, or folders (searched recursively).")
    ],
    json_lines: Annotated[
        bool, typer.Option("--json", help="One JSON object per image, one per line.")
    ] = False,
    algorithm: Annotated[
        list[str], typer.Option("--algorithm", "-a", help="Hash algorithm (repeatable).")
    ] = ["pdq"],  # noqa: B006 - typer reads the default, it is never mutated
    progress: Annotated[
        bool | None,
        typer.Option("--progress/--no-progress", help="Progress bar (default: on a terminal)."),
    ] = None,
    max_pixels: Annotated[
        int, typer.Option(help="Refuse images with more pixels than this.")
    ] = DEFAULT_MAX_PIXELS,
    rate: Annotated[
        float, typer.Option(min=0.01, help="Video frames hashed per second of video.")
    ] = DEFAULT_RATE,
    every_frame: Annotated[
        bool, typer.Option("--every-frame", help="Hash every video frame (as Meta's reference).")
    ] = False,
) -> None:
    """Hash images and videos locally and print their hashes. Nothing is sent anywhere.

    For an image: its hashes (--algorithm). For a video: the MD5 of the file
    and its vPDQ frames in Meta's format (frame_number,quality,pdq_hash,timestamp).
    """
    # An explicit --progress asks for the bar even when stderr is not a terminal.
    err = Console(stderr=True, force_terminal=True if progress else None)
    try:
        algorithms = [image_algorithm(name) for name in algorithm]
    except UnknownAlgorithm as exc:
        err.print(f"error: {exc}")
        raise typer.Exit(2) from None
    files = find_images(paths, IMAGE_SUFFIXES | VIDEO_SUFFIXES)
    if not files:
        err.print("error: no image or video files found in the given paths")
        raise typer.Exit(1)
    kinds = {f: is_video(f) for f in files}
    images = [f for f in files if not kinds[f]]
    videos = [f for f in files if kinds[f]]

    results = _run(images, algorithms, max_pixels, err, progress) if images else []
    if results:
        _print_images(results, algorithms, json_lines)
    video_results = hash_videos(
        videos,
        rate=None if every_frame else rate,
        limits=DEFAULT_LIMITS,
        err=err,
        show=err.is_terminal if progress is None else progress,
    )
    print_videos(video_results, json_lines=json_lines)
    hashed = sum(r.ok for r in results)
    if results:
        err.print(
            f"{hashed} of {len(results)} images hashed; {len(results) - hashed} could not be."
        )
    videos_hashed = sum(r.ok for r in video_results)
    if video_results:
        err.print(
            f"{videos_hashed} of {len(video_results)} videos hashed; "
            f"{len(video_results) - videos_hashed} could not be."
        )
    if hashed + videos_hashed == 0:
        raise typer.Exit(1)


def _print_images(
    results: list[FileResult], algorithms: list[HashAlgorithm], json_lines: bool
) -> None:
    if json_lines:
        for result in results:
            sys.stdout.write(json.dumps(_as_json(result)) + "\n")
        return
    out = Console()
    if not out.is_terminal:
        out = Console(width=200)  # piped: keep each hash on one line, unfolded
    out.print(_as_table(results, algorithms))


def _run(
    files: list[Path],
    algorithms: list[HashAlgorithm],
    max_pixels: int,
    err: Console,
    progress: bool | None,
) -> list[FileResult]:
    show = len(files) >= PROGRESS_MIN_FILES if progress is None else progress
    with Progress(
        TextColumn("hashing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=not show,
        redirect_stdout=False,
    ) as bar:
        task = bar.add_task("hashing", total=len(files))
        return list(
            hash_files(
                files, algorithms, max_pixels=max_pixels, on_done=lambda _: bar.advance(task)
            )
        )


def _as_json(result: FileResult) -> dict[str, object]:
    if not result.ok:
        return {"path": str(result.path), "error": result.error}
    return {
        "path": str(result.path),
        "hashes": [
            {"algorithm": h.algorithm, "hash": h.hex, "quality": h.quality} for h in result.hashes
        ],
    }


def _as_table(results: list[FileResult], algorithms: list[HashAlgorithm]) -> Table:
    table = Table(show_lines=False, header_style="bold")
    table.add_column("image", overflow="fold")
    table.add_column("quality", justify="right")
    for a in algorithms:
        table.add_column(a.name, no_wrap=True, min_width=a.bits // 4)
    for r in results:
        if r.ok:
            quality = next((h.quality for h in r.hashes if h.quality is not None), None)
            table.add_row(
                str(r.path), "" if quality is None else str(quality), *(h.hex for h in r.hashes)
            )
        else:
            table.add_row(
                str(r.path), "", f"[red]not hashed:[/red] {r.error}", *[""] * (len(algorithms) - 1)
            )
    return table


cli_cases.register(app)


def main() -> None:
    app()
