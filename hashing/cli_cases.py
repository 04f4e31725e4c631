"""`hashbank submit / status / add / withdraw / match`: the client commands that talk to a service.

Images are hashed here, on this device; only hashes are sent. The case key is
printed once and can be saved to a private file; it is read back from the
`HASHBANK_CASE_KEY` variable or a hidden prompt, never from the command line
(where it would land in shell history).
"""

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from hashing.algorithm import Hash
from hashing.client import DEFAULT_SERVER, ClientError, HashbankClient
from hashing.files import find_images, hash_files
from hashing.policy import query_hashes, submission_hashes

err = Console(stderr=True)

Server = Annotated[str, typer.Option(envvar="HASHBANK_SERVER", help="hashbank service URL")]
Paths = Annotated[list[Path], typer.Argument(help="Image files or folders")]


def _case_key() -> str:
    key = os.environ.get("HASHBANK_CASE_KEY") or typer.prompt("Case key", hide_input=True)
    return key.strip()


def _hash_paths(paths: list[Path]) -> list[list[Hash]]:
    """Each image's hashes under the match policy (`hashing.policy.submission_hashes`)."""
    files = find_images(paths)
    if not files:
        err.print("error: no image files found")
        raise typer.Exit(1)
    images: list[list[Hash]] = []
    with err.status(f"hashing {len(files)} images on this device…"):
        for result in hash_files(files, submission_hashes):
            if result.ok:
                images.append(list(result.hashes))
            else:
                err.print(f"  skipped {result.path}: {result.error}")
    if not images:
        err.print("error: none of the images could be hashed; nothing was sent")
        raise typer.Exit(1)
    count = sum(len(h) for h in images)
    err.print(
        f"{len(images)} of {len(files)} images hashed ({count} hashes). "
        "Only these hashes will be sent."
    )
    return images


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
    """Hash images here and create a case from the hashes. Prints the case id and key once."""
    images = _hash_paths(paths)
    try:
        with HashbankClient(server) as client:
            # Whole images per request, within the server's hashes per request
            # (GET /v1/limits); more images go in additions to the same case.
            first, *rest = client.case_batches(images)
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
    # Hashes sent without an image number (older clients, imports) count as an image each.
    numbered = {h["image"] for h in result["hashes"] if h.get("image") is not None}
    images = len(numbered) + sum(h.get("image") is None for h in result["hashes"])
    out.print(
        f"images: {images}; hashes: " + ", ".join(f"{n} {s}" for s, n in sorted(states.items()))
    )
    out.print(f"matches on platforms: {result['match_count']}")
    for o in result["outcomes"]:
        when = o["reported_at"] or o["matched_at"]
        out.print(f"  {o['platform']}: {o['outcome'].replace('_', ' ')} at {when}")


def add(case_id: str, paths: Paths, server: Server = DEFAULT_SERVER) -> None:
    """Hash more images here and add them to an existing case."""
    images = _hash_paths(paths)
    key = _case_key()
    try:
        with HashbankClient(server) as client:
            for batch in client.case_batches(images):
                client.add_hashes(case_id, key, *batch)
    except (ClientError, OSError) as exc:
        _fail(exc)
    count = sum(len(h) for h in images)
    err.print(f"{count} hashes of {len(images)} images added to case {case_id}")


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
    image: Path,
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
    """For platforms: hash an image here (the match policy's query hashes) and match it."""
    from hashing.errors import HashingError
    from hashing.loading import load_image

    try:
        hashes = query_hashes(load_image(image))
        with HashbankClient(server, api_key=api_key) as client:
            result = client.match([hashes])
    except HashingError as exc:
        err.print(f"error: {exc}")
        raise typer.Exit(1) from None
    except (ClientError, OSError) as exc:
        _fail(exc)
        return
    matches = result["results"][0]["matches"]
    print(json.dumps({"image": str(image), "matches": matches}))
    if not matches:
        err.print("no match")


def register(app: typer.Typer) -> None:
    for command in (submit, status, add, withdraw, match):
        app.command()(command)
