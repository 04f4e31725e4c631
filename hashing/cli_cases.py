"""`hashbank submit / status / add / withdraw / match`: the client commands that talk to a service.

Images and videos are hashed here, on this device; only hashes are sent (a
video: its file's MD5 and its vPDQ frames at 1 per second, each with its time
and its other forms, `hashing.video_forms`). The case key is
printed once and can be saved to a private file; it is read back from the
`HASHBANK_CASE_KEY` variable or a hidden prompt, never from the command line
(where it would land in shell history).
"""

import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from hashing.algorithm import Hash
from hashing.case_items import CaseItem
from hashing.cli_video import hash_videos
from hashing.client import DEFAULT_SERVER, ClientError, HashbankClient
from hashing.files import IMAGE_SUFFIXES, VIDEO_SUFFIXES, find_images, hash_files, is_video
from hashing.limits import Limits
from hashing.policy import query_hashes, submission_hashes
from hashing.video import DEFAULT_LIMITS
from hashing.video_forms import SUBMITTED
from hashing.video_signals import VideoSignals
from hashing.vpdq import DEFAULT_RATE

err = Console(stderr=True)

Server = Annotated[str, typer.Option(envvar="HASHBANK_SERVER", help="hashbank service URL")]
Paths = Annotated[list[Path], typer.Argument(help="Image or video files, or folders")]


def _case_key() -> str:
    key = os.environ.get("HASHBANK_CASE_KEY") or typer.prompt("Case key", hide_input=True)
    return key.strip()


@dataclass(frozen=True)
class Hashed:
    """What this device hashed for a case: each image's hashes, each video's signals."""

    images: list[list[Hash]]
    videos: list[tuple[Path, VideoSignals]]

    def items(self, limits: Limits) -> list[CaseItem]:
        """The case items, videos cut to the server's `video_frames` (said on stderr)."""
        items = [CaseItem.image(hashes) for hashes in self.images]
        for path, signals in self.videos:
            item = CaseItem.video(signals, limits.video_frames)
            sent = len(item.hashes) - item.variant_count - 1
            if sent < len(signals.frames):
                err.print(
                    f"  {path.name}: {len(signals.frames)} frames hashed; the service takes "
                    f"{limits.video_frames} frame hashes per video, so {sent} frames, "
                    "evenly spaced, are sent"
                )
            items.append(item)
        return items


def _hash_paths(paths: list[Path]) -> Hashed:
    """Each image's hashes under the match policy (`hashing.policy.submission_hashes`)
    and each video's MD5 and vPDQ frames (`hashing.video_signals`), with a progress bar."""
    files = find_images(paths, IMAGE_SUFFIXES | VIDEO_SUFFIXES)
    if not files:
        err.print("error: no image or video files found")
        raise typer.Exit(1)
    kinds = {f: is_video(f) for f in files}
    photos, movies = [f for f in files if not kinds[f]], [f for f in files if kinds[f]]
    images: list[list[Hash]] = []
    if photos:
        with err.status(f"hashing {len(photos)} images on this device…"):
            for result in hash_files(photos, submission_hashes):
                if result.ok:
                    images.append(list(result.hashes))
                else:
                    err.print(f"  skipped {result.path}: {result.error}")
    videos: list[tuple[Path, VideoSignals]] = []
    for done in hash_videos(
        movies,
        rate=DEFAULT_RATE,
        limits=DEFAULT_LIMITS,
        err=err,
        show=err.is_terminal,
        forms=SUBMITTED,
    ):
        if done.signals is not None:
            videos.append((done.path, done.signals))
        else:
            err.print(f"  skipped {done.path}: {done.error}")
    if not images and not videos:
        err.print("error: nothing could be hashed; nothing was sent")
        raise typer.Exit(1)
    said = []
    if photos:
        count = sum(len(h) for h in images)
        said.append(f"{len(images)} of {len(photos)} images hashed ({count} hashes)")
    if movies:
        frames = sum(len(s.frames) for _, s in videos)
        forms = sum(len(f.variants) for _, s in videos for f in s.frames)
        said.append(
            f"{len(videos)} of {len(movies)} videos hashed "
            f"({frames} frames, {frames + forms} frame hashes with their other forms)"
        )
    err.print("; ".join(said) + ". Only these hashes will be sent.")
    return Hashed(images, videos)


def _fail(exc: ClientError | OSError) -> None:
    err.print(f"error: {exc}")
    raise typer.Exit(1)


def submit(
    paths: Paths,
    server: Server = DEFAULT_SERVER,
    save: Annotated[
        Path | None, typer.Option(help="Write the case id and key to this file")
    ] = None,
) -> None:
    """Hash images and videos here and create a case from the hashes. Prints the case id and
    key once."""
    hashed = _hash_paths(paths)
    try:
        with HashbankClient(server) as client:
            # Whole images and videos per request, within the server's limits
            # (GET /v1/limits); more go in additions to the same case.
            first, *rest = client.case_batches(hashed.items(client.limits()))
            created = client.create_case(*first)
            case_id, key = created["case_id"], created["case_key"]
            for batch in rest:
                client.add_hashes(case_id, key, *batch)
    except (ClientError, OSError) as exc:
        _fail(exc)
        return
    print(f"case id:  {case_id}\ncase key: {key}")
    err.print(
        "Keep the case id and key safe. The key is shown only now and cannot be recovered; "
        "you need it to check status, add images or withdraw."
    )
    if save is None and sys.stdin.isatty():
        answer = typer.prompt(
            "Save them to a file? Enter a path, or leave empty", default="", show_default=False
        )
        save = Path(answer).expanduser() if answer.strip() else None
    if save is not None:
        _save(save, case_id, key, server)


def _save(path: Path, case_id: str, key: str, server: str) -> None:
    # Created private (0600) before anything is written to it.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f"hashbank case\nserver: {server}\ncase id: {case_id}\ncase key: {key}\n")
    err.print(f"saved to {path} (readable only by you)")


def status(
    case_id: str,
    server: Server = DEFAULT_SERVER,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show a case's hashes, matches and what platforms did about them."""
    try:
        with HashbankClient(server) as client:
            result = client.case_status(case_id, _case_key())
    except (ClientError, OSError) as exc:
        _fail(exc)
        return
    if as_json:
        print(json.dumps(result, indent=2))
        return
    out = Console()
    out.print(f"case {result['case_id']}: {result['state']} (created {result['created_at']})")
    states: dict[str, int] = {}
    for h in result["hashes"]:
        states[h["state"]] = states.get(h["state"], 0) + 1
    # Hashes sent without an image number (older clients, imports) count as an image each;
    # an item holding video frames is a video.
    numbered: dict[int, bool] = {}
    for h in result["hashes"]:
        if h.get("image") is not None:
            frame = h.get("timestamp") is not None
            numbered[h["image"]] = numbered.get(h["image"], False) or frame
    videos = sum(numbered.values())
    images = len(numbered) - videos + sum(h.get("image") is None for h in result["hashes"])
    out.print(
        f"images: {images}; videos: {videos}; hashes: "
        + ", ".join(f"{n} {s}" for s, n in sorted(states.items()))
    )
    out.print(f"matches on platforms: {result['match_count']}")
    for o in result["outcomes"]:
        when = o["reported_at"] or o["matched_at"]
        out.print(f"  {o['platform']}: {o['outcome'].replace('_', ' ')} at {when}")


def add(case_id: str, paths: Paths, server: Server = DEFAULT_SERVER) -> None:
    """Hash more images and videos here and add them to an existing case."""
    hashed = _hash_paths(paths)
    key = _case_key()
    try:
        with HashbankClient(server) as client:
            items = hashed.items(client.limits())
            for batch in client.case_batches(items):
                client.add_hashes(case_id, key, *batch)
    except (ClientError, OSError) as exc:
        _fail(exc)
        return
    count = sum(len(item.hashes) for item in items)
    err.print(
        f"{count} hashes of {len(hashed.images)} images and {len(hashed.videos)} videos "
        f"added to case {case_id}"
    )


def withdraw(
    case_id: str,
    server: Server = DEFAULT_SERVER,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
) -> None:
    """Withdraw a case: its hashes stop matching at once and partners are told to delete them."""
    if not yes and not typer.confirm(f"Withdraw case {case_id}? Its hashes will stop matching"):
        raise typer.Exit(1)
    try:
        with HashbankClient(server) as client:
            result = client.withdraw(case_id, _case_key())
    except (ClientError, OSError) as exc:
        _fail(exc)
        return
    err.print(f"case {result['case_id']} withdrawn at {result['withdrawn_at']}")


def match(
    file: Annotated[Path, typer.Argument(metavar="IMAGE_OR_VIDEO")],
    server: Server = DEFAULT_SERVER,
    api_key: Annotated[
        str,
        typer.Option(
            envvar="HASHBANK_API_KEY",
            prompt=True,
            hide_input=True,
            help="Platform API key (scope match)",
        ),
    ] = "",
) -> None:
    """For platforms: hash an image or a video here and match its hashes.

    An image sends the match policy's query hashes; a video its MD5 and vPDQ
    frames, and each match says both percentages and the matched time ranges.
    """
    from hashing.errors import HashingError
    from hashing.loading import load_image
    from hashing.platform_client import PlatformClient

    try:
        kind = "video" if is_video(file) else "image"
        if kind == "video":
            with PlatformClient(server, api_key) as platform:
                found = platform.match_video(file)
            matches: list[dict[str, object]] = [asdict(m) for m in found.matches]
        else:
            hashes = query_hashes(load_image(file))
            with HashbankClient(server, api_key=api_key) as client:
                result = client.match([hashes])
            matches = result["results"][0]["matches"]
    except HashingError as exc:
        err.print(f"error: {exc}")
        raise typer.Exit(1) from None
    except (ClientError, OSError) as exc:
        _fail(exc)
        return
    print(json.dumps({kind: str(file), "matches": matches}))
    if not matches:
        err.print("no match")


def register(app: typer.Typer) -> None:
    for command in (submit, status, add, withdraw, match):
        app.command()(command)
