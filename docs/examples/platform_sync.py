"""Keep a local copy of the hash list up to date, then match one image against it and the service.

    HASHBANK_URL=http://127.0.0.1:8000 HASHBANK_API_KEY=... \\
        python docs/examples/platform_sync.py upload.jpg --checkpoint state/cursor

The API key needs the `sync` scope, and `match` unless `--local-only` is given.
Progress goes to stderr; the last line on stdout is JSON:
`{"hashes": N, "local_matches": [{"algorithm", "distance"}],
"matches": [{"match_id", "algorithm", "distance"}]}` (`matches`: the service's own,
with ids to report feedback against).
Hash values and the key are never printed. The image is hashed here; only its
hashes are sent.

The local set lives in memory while the script runs and is saved next to the
checkpoint (`<checkpoint>.hashes.json`) together with the cursor it reflects.
`sync` advances the checkpoint once a page is taken, before this script has
saved its set, so at start the checkpoint is set back to the saved set's cursor:
after a crash the missed pages are fetched again (applying a change twice is
harmless), and none is lost.
"""

import argparse
import json
import os
import sys
from pathlib import Path

from hashing import PDQ_ALGORITHM, HashingError, load_image
from hashing.atomic import write_atomically
from hashing.platform_client import (
    PlatformClient,
    ServiceError,
    ServiceUnreachable,
    read_checkpoint,
    write_checkpoint,
)

LocalSet = set[tuple[str, str]]  # (algorithm, lowercase hex)


def load_local(path: Path) -> tuple[str, LocalSet]:
    """The saved hash set and the cursor it reflects; nothing saved: empty, from the start."""
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "0", set()
    return str(saved["cursor"]), {(a, h) for a, h in saved["hashes"]}


def save_local(path: Path, cursor: str, hashes: LocalSet) -> None:
    """Write the set atomically: the old one or the new one, whole."""
    write_atomically(path, json.dumps({"cursor": cursor, "hashes": sorted(hashes)}))


def local_matches(dihedral: list[int], hashes: LocalSet) -> list[int]:
    """Distances of the local PDQ hashes within the match threshold of any rotation or flip."""
    distances = []
    for algorithm, value in hashes:
        if algorithm != PDQ_ALGORITHM.name:
            continue  # 64-bit hashes are secondary: never act on one alone
        stored = int(value, 16)
        distance = min((stored ^ d).bit_count() for d in dihedral)
        if distance <= PDQ_ALGORITHM.threshold:
            distances.append(distance)
    return sorted(distances)


def main() -> int:
    parser = argparse.ArgumentParser(description="Sync the hash list, then match one image.")
    parser.add_argument("image", type=Path, help="image to match (hashed here, never sent)")
    parser.add_argument("--checkpoint", type=Path, required=True, help="sync cursor file")
    parser.add_argument("--limit", type=int, default=500, help="changes per page (1-1000)")
    parser.add_argument("--local-only", action="store_true", help="do not ask the service")
    args = parser.parse_args()
    url, key = os.environ.get("HASHBANK_URL"), os.environ.get("HASHBANK_API_KEY")
    if not url or not key:
        parser.error("set HASHBANK_URL and HASHBANK_API_KEY")
    image: Path = args.image
    try:  # hash first: a bad image should not cost a sync
        dihedral = [int(h.hex, 16) for h in PDQ_ALGORITHM.compute_dihedral(load_image(image))]
    except (HashingError, OSError) as exc:
        print(f"cannot hash {image}: {exc}", file=sys.stderr)
        return 2

    checkpoint: Path = args.checkpoint
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    store = checkpoint.with_name(checkpoint.name + ".hashes.json")
    cursor, hashes = load_local(store)
    write_checkpoint(checkpoint, cursor)  # resume from what the saved set reflects

    added = removed = 0
    try:
        with PlatformClient(url, key) as client:
            for change in client.sync(checkpoint, limit=args.limit):
                entry = (change.algorithm, change.hash.lower())
                if change.action == "add":
                    hashes.add(entry)
                    added += 1
                else:
                    hashes.discard(entry)
                    removed += 1
            save_local(store, read_checkpoint(checkpoint), hashes)
            print(f"synced: +{added} -{removed}, {len(hashes)} hashes", file=sys.stderr)
            # The service's own match records the hit and gives a match_id for feedback.
            remote = [] if args.local_only else client.match_image(image).matches
    except ServiceError as exc:
        print(f"hashbank refused: {exc}", file=sys.stderr)
        return 1
    except ServiceUnreachable as exc:
        print(exc, file=sys.stderr)  # one line: the server's address and why
        return 1

    result = {
        "hashes": len(hashes),
        "local_matches": [
            {"algorithm": "pdq", "distance": d} for d in local_matches(dihedral, hashes)
        ],
        "matches": [
            {"match_id": m.match_id, "algorithm": m.algorithm, "distance": m.distance}
            for m in remote
        ],
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
