"""`hashbank-admin export` / `import`: hash lists in python-threatexchange's file format.

`export` writes every active PDQ hash; `import` turns a list (from an HMA
deployment, say) into one new case whose key is shown once. Both are audited.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from hashing import MD5_ALGORITHM, VPDQ_ALGORITHM
from service.admin.db import admin_database
from service.exchange import hashlist
from service.exchange import hashlist_store as hashlists
from service.store import audit
from service.store.cases import CaseRepository, NewCase
from service.store.signals import ACTIVE, WITHDRAWN

out = Console()
err = Console(stderr=True)


def _audit(action: str, **detail: object) -> None:
    with admin_database().transaction() as session:
        audit.record(session, "admin", action, "service", "-", **detail)


def export_hashes(
    file: Annotated[Path, typer.Argument(help="Where to write the list; - for standard output")],
    form: Annotated[
        str,
        typer.Option(
            "--format",
            help="How videos are written: pytx (a video_md5 line, then pytx's vpdq signal, a "
            "JSON list) or vpdq (a 'video MD5' line, then the frames in Meta's vPDQ text format)",
        ),
    ] = "pytx",
) -> None:
    """Write every active hash pytx has a type for (`pdq <hex>`, `video_md5 <hex>` lines),
    and every video whole (its frames with their times, and its MD5; see --format).

    Withdrawn, disputed and retired hashes, and suspended videos, are never exported.
    The file is replaced atomically and is readable only by you (0600): hash lists are
    sensitive.
    """
    if form not in hashlist.FORMATS:
        err.print(f"error: --format must be one of {', '.join(hashlist.FORMATS)}", markup=False)
        raise typer.Exit(2)
    db = admin_database()
    counts = {"hashes": 0, "videos": 0, "frames": 0}
    try:
        with db.transaction(read_only=True) as session:
            active = hashlists.active_by_algorithm(session)
            md5s: set[bytes] = set()  # written with their videos: not again on their own

            def lines() -> Iterator[str]:
                for video in hashlists.videos(session):
                    counts["videos"] += 1
                    counts["frames"] += len(video.frames)
                    if video.md5 is not None:
                        md5s.add(video.md5)
                    yield from hashlist.format_video(video, form)
                for algorithm, value in hashlists.exportable(session, hashlist.EXPORTABLE):
                    if not (algorithm == MD5_ALGORITHM.name and value in md5s):
                        counts["hashes"] += 1
                        yield hashlist.format_line(algorithm, value)

            hashlist.write(file, lines())
    except OSError as exc:
        err.print(f"error: cannot write {file}: {exc.strerror or exc}", markup=False)
        raise typer.Exit(1) from None
    listed = hashlist.EXPORTABLE | {VPDQ_ALGORITHM.name}
    skipped = sum(n for algorithm, n in active.items() if algorithm not in listed)
    _audit("export", skipped=skipped, file=str(file), form=form, **counts)
    kinds = ", ".join(sorted(hashlist.SIGNAL_TYPES))
    videos = (
        f" and {counts['videos']} videos ({counts['frames']} frames, {form} form)"
        if counts["videos"]
        else ""
    )
    (err if str(file) == "-" else out).print(
        f"{counts['hashes']} active hashes ({kinds}){videos} written to "
        f"{'standard output' if str(file) == '-' else file}; {skipped} active hashes of other "
        "algorithms skipped (python-threatexchange has no signal type for them)",
        markup=False,
        highlight=False,
    )


def import_hashes(
    file: Annotated[
        Path, typer.Argument(help="A list in python-threatexchange's format; - for standard input")
    ],
    signal_type: Annotated[
        str | None,
        typer.Option(
            "--signal-type",
            help="The type of lines that hold a bare hash: "
            + ", ".join(sorted(hashlist.SIGNAL_TYPES)),
        ),
    ] = None,
    chunk: Annotated[
        int,
        typer.Option(min=1, help="Hashes written per transaction (survivors' writes go between)"),
    ] = 2000,
) -> None:
    """Create one case from a hash list (`pdq <hex>` lines) and print its id and key once.

    Videos in either form `export --format` writes each become one video of the case
    (frames with their times, and its MD5). Every line is checked first: one bad line
    imports nothing. Duplicates are folded,
    withdrawn hashes come back, hashes already active are linked. The list is written
    `--chunk` hashes per transaction; if writing fails part-way, the case is withdrawn
    again, so nothing of it matches. Withdraw the whole list later as any case, with
    its id and key.
    """
    try:
        parsed = hashlist.read(file, signal_type)
    except (hashlist.HashListError, OSError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        err.print(f"error: nothing imported from {file}:\n{reason}", markup=False, highlight=False)
        raise typer.Exit(1) from None
    if not parsed.inputs:
        err.print(f"error: no hashes in {file}; nothing imported", markup=False)
        raise typer.Exit(1)
    db = admin_database()
    with db.transaction(read_only=True) as session:
        before = hashlists.prior_states(session, parsed.inputs)

    def show_key(case: NewCase) -> None:
        # Before the rest is written: the key is never lost with a crash half-way.
        print(f"case id:  {case.case_id}\ncase key: {case.case_key}", flush=True)
        err.print(
            "The case key is shown only now and cannot be recovered (hashbank keeps only a "
            "hash of it). Keep it safe: with the case id it withdraws the imported list, like "
            "any case (DELETE /v1/cases/CASE_ID with X-Case-Key, or hashbank withdraw CASE_ID)."
        )

    try:
        created = CaseRepository(db).create_in_chunks(
            parsed.inputs, chunk, actor="admin", origin="import", on_created=show_key
        )
    except Exception as exc:
        err.print(
            f"error: the import failed part-way ({type(exc).__name__}); the case above was "
            "withdrawn again, so nothing of the list matches. Run the import again.",
            markup=False,
        )
        raise typer.Exit(1) from None
    distinct = len(created.status.hashes)
    counts = {
        "lines": parsed.lines,
        "hashes": distinct,
        "new": before[hashlists.NEW],
        "already_active": before[ACTIVE],
        "reactivated": before[WITHDRAWN],
    }
    counts["not_matching"] = distinct - counts["new"] - counts["already_active"]
    counts["not_matching"] -= counts["reactivated"]  # disputed or retired: they stay so
    if parsed.videos:
        counts["videos"] = parsed.videos
        counts["low_quality_frames"] = parsed.low_quality_frames
    _audit("import", case=created.case_id, **counts)
    err.print(
        f"imported {distinct} hashes from {parsed.lines} lines "
        f"({parsed.lines - distinct} duplicates folded): {counts['new']} new, "
        f"{counts['already_active']} already active, {counts['reactivated']} reactivated"
        + (
            f", {counts['not_matching']} disputed or retired (they stay out of matching)"
            if counts["not_matching"]
            else ""
        )
        + (f"; {parsed.videos} videos" if parsed.videos else "")
        + (
            f" ({parsed.low_quality_frames} frames below quality 50 dropped)"
            if parsed.low_quality_frames
            else ""
        ),
        markup=False,
        highlight=False,
    )
