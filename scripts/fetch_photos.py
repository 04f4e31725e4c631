"""Fetch the second benchmark set of real photos: pinned packages that ship them.

    .venv/bin/python scripts/fetch_photos.py [--dest data/photos-2] [--write-checksums]

The set is listed in `scripts/photos-2.json`: for each package (Debian, PyPI
or npm) an exact version, a short prefix and the photos to take from it. Each
package is downloaded at that version with its ordinary client (`apt-get
download`, `pip download`, `npm pack`); only the listed photos are extracted,
copied to `--dest` as `<prefix>-<file name>` (or under the name the manifest
gives) and checked against `scripts/photos-2.sha256`. Debian packages need
`apt-get` and `dpkg-deb` (run `apt-get update` once first); npm packages need
`npm`.

What was taken: every photograph in the files listed (a camera's picture of a
real scene), not drawings, renders, logos or screenshots; of one picture
shipped at several sizes, or of near-identical pairs such as stereo views,
only one. Photos were never chosen by how well they match. Licences are in
each package's copyright or licence file.
"""

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from qt_resources import read_rcc

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = Path(__file__).with_name("photos-2.json")
CHECKSUMS = Path(__file__).with_name("photos-2.sha256")
BUNDLED = "!"  # "bundle.rcc!path": a file inside a Qt resource bundle in the package


def _debian(package: str, version: str, members: list[str], work: Path) -> dict[str, Path]:
    subprocess.run(["apt-get", "download", f"{package}={version}"], cwd=work, check=True)
    (deb,) = work.glob(f"{package}_*.deb")
    tree = work / package
    subprocess.run(["dpkg-deb", "-x", str(deb), str(tree)], check=True)
    paths = {m: tree / m for m in members if BUNDLED not in m}
    bundles: dict[str, dict[str, bytes]] = {}
    for number, member in enumerate(m for m in members if BUNDLED in m):
        bundle, inner = member.split(BUNDLED)
        if bundle not in bundles:
            bundles[bundle] = read_rcc((tree / bundle).read_bytes())
        paths[member] = work / f"bundled-{number}"
        paths[member].write_bytes(bundles[bundle][inner])
    return paths


def _pypi(package: str, version: str, members: list[str], work: Path) -> dict[str, Path]:
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"),
            *("-q", "-d", str(work), f"{package}=={version}"),
        ],
        check=True,
    )
    (wheel,) = work.glob(f"{package.replace('-', '_')}-{version}-*.whl")
    out = work / package
    with zipfile.ZipFile(wheel) as z:
        for m in members:
            z.extract(m, out)
    return {m: out / m for m in members}


def _npm(package: str, version: str, members: list[str], work: Path) -> dict[str, Path]:
    subprocess.run(["npm", "pack", "--silent", f"{package}@{version}"], cwd=work, check=True)
    (tarball,) = work.glob("*.tgz")
    out = work / "npm"
    with tarfile.open(tarball) as t:
        for m in members:
            t.extract(m, out, filter="data")
    return {m: out / m for m in members}


FETCHERS = {"debian": _debian, "pypi": _pypi, "npm": _npm}


def photo_names(source: dict[str, Any]) -> dict[str, str]:
    """A manifest entry's photos: the file name in the set of each member."""
    members = source["members"]
    if isinstance(members, dict):
        return dict(members)
    names = {}
    for member in members:
        bundle, _, inner = member.rpartition(BUNDLED)
        stem = f"{Path(bundle).stem}-" if bundle else ""
        names[member] = f"{source['prefix']}-{stem}{Path(inner).name}"
    return names


def fetch(dest: Path) -> dict[str, str]:
    """Fetch every photo in the manifest into `dest`; their names and SHA-256 digests."""
    fetched: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for number, source in enumerate(json.loads(MANIFEST.read_text())):
            names = photo_names(source)
            work = Path(tmp) / str(number)
            work.mkdir()
            fetch_package = FETCHERS[source["registry"]]
            for member, path in fetch_package(
                source["package"], source["version"], list(names), work
            ).items():
                if names[member] in fetched:
                    raise SystemExit(f"two photos are named {names[member]}")
                shutil.copyfile(path, dest / names[member])
                fetched[names[member]] = hashlib.sha256(path.read_bytes()).hexdigest()
    return fetched


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dest", type=Path, default=ROOT / "data" / "photos-2")
    parser.add_argument("--write-checksums", action="store_true")
    args = parser.parse_args()
    args.dest.mkdir(parents=True, exist_ok=True)
    fetched = fetch(args.dest)
    lines = [f"{digest}  {name}" for name, digest in sorted(fetched.items())]
    if args.write_checksums:
        CHECKSUMS.write_text("\n".join(lines) + "\n")
        print(f"{len(lines)} photos in {args.dest}; wrote {CHECKSUMS}")
        return 0
    expected = CHECKSUMS.read_text().splitlines()
    if sorted(expected) != sorted(lines):
        bad = sorted(set(expected) ^ set(lines))
        print("checksum mismatch:\n" + "\n".join(bad[:20]), file=sys.stderr)
        return 1
    print(f"{len(lines)} photos in {args.dest}, checksums verified")
    return 0


if __name__ == "__main__":
    sys.exit(main())
