"""Video accuracy benchmark (issue 17, point 7): recall per transform, false matches, frame grabs.

    nice .venv/bin/python scripts/bench_video_accuracy.py [--out /tmp/hbv/run] [--workers 2]
         [--generated 16] [--extras 48] [--hosts 4] [--seed 17] [--reuse]

1. Sources: five of Meta's reference videos (`--reference-sources`; all 14 are
   stored) and `--generated` hand-held "camera"
   videos (1280x720, 15 frames/s, 10-16 s) made from bsds500 and clothing
   photos (`video_camera.camera_video`): most pan and zoom over one photo,
   some cut between three, some are near-still shots of one. `--extras`
   unrelated videos (640x360) and `--hosts` longer ones (the insertion hosts)
   are made the same way, each from its own photos; they are only ever
   unrelated to the sources (false-match material).
2. Copies: every transform of `video_transforms.TRANSFORMS` on every source,
   its parameters drawn from `--seed`.
3. Every video is hashed as hashbank does (`hashing.video`, PDQ of the frame
   shown at each sample time), at 2 frames/s, from which 1 frame/s is the
   subset shown at whole seconds (the same frames `hash_video(rate=1)`
   gives); all frames are kept raw so the quality floor and pruning are
   applied per setting.
4. Frame grab: a random frame of each source's "re-encode + 480p" copy, as a
   JPEG in memory, hashed as a photo (`hashing.policy.query_hashes`).
5. Photos: the policy's query and submission hashes of every clothing and
   bsds500 photo, for the photo <-> frame cross-search.

Generated videos and copies go under `--out` (never committed); the hashes
go to `--out/hashes.pickle`, which `--reuse` reads back to print the figures
again (`video_accuracy_results.py`) without making anything.
"""

import argparse
import io
import os
import pickle
import random
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import video_camera
import video_frames
import video_transforms as vt
from PIL import Image
from video_frames import hash_rates

from hashing import LowQualityImage, load_image
from hashing.policy import query_hashes, submission_hashes
from hashing.video import open_video
from hashing.vpdq import VideoFrameHash

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
REFERENCE = SHARED / "vpdq-reference" / "videos"
DATASETS = SHARED / "datasets"
GRAB = "re-encode + 480p"


@dataclass
class Video:
    """One video: its scene (what it shows), its role, half, file, hashed frames per rate."""

    name: str
    scene: str
    role: str  # source, extra, host, copy
    path: Path
    half: str = ""  # tune or held (sources and their copies)
    photos: tuple[str, ...] = ()
    transform: str = ""
    describe: str = ""
    source: str = ""  # a copy's source
    host: str = ""  # an insertion's host
    duration: float = 0.0
    frames: dict[int, list[VideoFrameHash]] = field(default_factory=dict)


@dataclass(frozen=True)
class Spec:
    """How to make one generated video."""

    name: str
    photos: tuple[Path, ...]
    seconds: float
    size: tuple[int, int]
    static: bool
    seed: int


@dataclass
class Results:
    videos: dict[str, Video]
    grabs: dict[str, list[bytes] | None]  # source -> the grab's query hashes (None: unhashable)
    photos: dict[str, tuple[list[bytes], list[bytes]]]  # dataset/file -> (query, submitted)
    run: str = ""


def specs(args: argparse.Namespace) -> tuple[list[Spec], list[Spec], list[Spec]]:
    """Generated sources, extras and hosts; no photo is used twice."""
    rng = random.Random(args.seed)
    bsds = sorted((DATASETS / "bsds500").glob("*.jpg"))
    clothing = sorted((DATASETS / "clothing").glob("*.jpg"))
    rng.shuffle(bsds)
    rng.shuffle(clothing)

    def make(prefix: str, count: int, size: tuple[int, int], lo: float, hi: float) -> list[Spec]:
        out = []
        for i in range(count):
            kind = ("pan", "pan", "pan", "cuts", "static", "static")[i % 6]
            pool = clothing if kind == "static" and i % 4 else bsds
            cuts = (bsds.pop(), clothing.pop(), bsds.pop()) if kind == "cuts" else ()
            photos = cuts or (pool.pop(),)
            out.append(
                Spec(
                    f"{prefix}{i:02d}-{kind}",
                    photos,
                    rng.uniform(lo, hi),
                    size,
                    kind == "static",
                    rng.randrange(1 << 30),
                )
            )
        return out

    return (
        make("gen", args.generated, (1280, 720), 10, 16),
        make("extra", args.extras, (640, 360), 10, 20),
        make("host", args.hosts, (640, 360), 25, 35),
    )


def generate(spec: Spec, out: Path) -> tuple[str, dict[int, list[VideoFrameHash]], float]:
    path = out / f"{spec.name}.mp4"
    if not path.exists():
        video_camera.camera_video(
            path,
            spec.photos,
            random.Random(spec.seed),
            seconds=spec.seconds,
            size=spec.size,
            static=spec.static,
        )
    frames, duration = hash_rates(path)
    return spec.name, frames, duration


def copies_of(
    name: str, path: Path, hosts: list[Path], out: Path, seed: int
) -> tuple[list[tuple[str, str, str, dict[int, list[VideoFrameHash]], float]], list[bytes] | None]:
    """Every transform's copy of one source, hashed; and the frame grab's query hashes."""
    rng = random.Random(f"{seed}-{name}")
    with open_video(path) as video:
        pixels = video.coded_size[0] * video.coded_size[1]
    made = []
    grab: list[bytes] | None = None
    for transform in vt.TRANSFORMS:
        recipe = vt.draw(transform, rng, pixels)
        host = rng.choice(hosts) if recipe.offset is not None else None
        copy = copy_file(out, name, transform)
        if not copy.exists():
            vt.make_copy(path, copy, recipe, host)
        frames, duration = hash_rates(copy)
        made.append((transform, recipe.describe, host.stem if host else "", frames, duration))
        if transform == GRAB:
            shown = vt.frame_at(copy, rng.uniform(0, duration))
            jpeg = io.BytesIO()
            Image.fromarray(shown).save(jpeg, "JPEG", quality=85)
            try:
                grab = [h.value for h in query_hashes(load_image(jpeg.getvalue()))]
            except LowQualityImage:
                grab = None
    return made, grab


def copy_file(out: Path, source: str, transform: str) -> Path:
    return out / f"{source}--{transform.replace(' ', '_').replace('%', '')}.mp4"


def photo_hashes(path: Path) -> tuple[str, list[bytes], list[bytes]]:
    key = f"{path.parent.name}/{path.name}"
    try:
        image = load_image(path)
        return (
            key,
            [h.value for h in query_hashes(image)],
            [h.value for h in submission_hashes(image)],
        )
    except LowQualityImage:
        return key, [], []


def collect(args: argparse.Namespace) -> Results:
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    gen, extras, hosts = specs(args)
    videos: dict[str, Video] = {}
    started = time.monotonic()
    with ProcessPoolExecutor(args.workers) as pool:
        made = pool.map(generate, gen + extras + hosts, [out] * len(gen + extras + hosts))
        for spec, (name, frames, duration) in zip(gen + extras + hosts, made, strict=True):
            role = "source" if spec in gen else "extra" if spec in extras else "host"
            videos[name] = Video(
                name,
                name,
                role,
                out / f"{name}.mp4",
                photos=tuple(p.name for p in spec.photos),
                duration=duration,
                frames=frames,
            )
        print(
            f"generated and hashed {len(videos)} videos in {time.monotonic() - started:.0f} s",
            file=sys.stderr,
        )
        for path in sorted(REFERENCE.glob("*.mp4"))[: args.reference]:
            role = "source" if path.stem in args.reference_sources.split(",") else "extra"
            videos[path.stem] = Video(path.stem, path.stem.split("-")[0], role, path)
        sources = [v for v in videos.values() if v.role == "source"]
        # halves: the reference scenes whole (chair | the others), the generated ones alternately
        for i, gen_name in enumerate(sorted(s.name for s in sources if s.path.parent == out)):
            videos[gen_name].half = ("tune", "held")[i % 2]
        for v in videos.values():
            if v.path.parent == REFERENCE:
                v.half = ("tune" if v.scene == "chair" else "held") if v.role == "source" else ""
                v.frames, v.duration = hash_rates(v.path)
        host_paths = [v.path for v in videos.values() if v.role == "host"]
        jobs = [pool.submit(copies_of, v.name, v.path, host_paths, out, args.seed) for v in sources]
        grabs: dict[str, list[bytes] | None] = {}
        for v, job in zip(sources, jobs, strict=True):
            made_copies, grabs[v.name] = job.result()
            for transform, describe, host, frames, duration in made_copies:
                name = f"{v.name}--{transform}"
                videos[name] = Video(
                    name,
                    v.scene,
                    "copy",
                    copy_file(out, v.name, transform),
                    v.half,
                    transform=transform,
                    describe=describe,
                    source=v.name,
                    host=host,
                    duration=duration,
                    frames=frames,
                )
            print(f"copies of {v.name} done at {time.monotonic() - started:.0f} s", file=sys.stderr)
        photo_files = sorted((DATASETS / "clothing").glob("*.jpg")) + sorted(
            (DATASETS / "bsds500").glob("*.jpg")
        )
        photo_files = photo_files[:: args.photo_step]
        photos = {k: (q, s) for k, q, s in pool.map(photo_hashes, photo_files, chunksize=50)}
        print(f"photos hashed at {time.monotonic() - started:.0f} s", file=sys.stderr)
    return Results(videos, grabs, photos, f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/hbv/run"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--generated", type=int, default=16)
    parser.add_argument("--extras", type=int, default=48)
    parser.add_argument("--hosts", type=int, default=4)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--photo-step", type=int, default=1, help="every n-th photo")
    parser.add_argument(
        "--reference-sources",
        default="chair-19-sd-bar,chair-orig-22-sd-bar,doorknob-hd-no-bar,pattern-hd-no-bar,test-padded-dimensions",
        help="reference videos that get copies (the others are stored, unrelated ones)",
    )
    parser.add_argument("--reference", type=int, default=14, help="reference videos used")
    parser.add_argument("--reuse", action="store_true", help="print from --out/hashes.pickle")
    parser.add_argument(
        "--forms",
        action="store_true",
        help="also hash each frame's other forms (hashing.video_forms): stored videos with "
        "the survivor's, queries with the platform's, as the clients send them",
    )
    parser.add_argument(
        "--inspect", type=int, default=4, help="closest unrelated pairs saved as images"
    )
    args = parser.parse_args()
    if args.forms:
        os.environ["HASHBANK_BENCH_FORMS"] = "1"
        video_frames.FORMS = True
    store = args.out / "hashes.pickle"
    if args.reuse:
        results: Results = pickle.loads(store.read_bytes())  # our own file
        for v in results.videos.values():
            if v.role == "copy":
                v.path = copy_file(args.out, v.source, v.transform)
    else:
        started = datetime.now(UTC)
        results = collect(args)
        results.run = f"{started:%Y-%m-%d %H:%M}-{datetime.now(UTC):%H:%M} UTC"
        store.write_bytes(pickle.dumps(results))
    import video_accuracy_results

    print(f"run {results.run}; {os.cpu_count()} cores; seed {args.seed}")
    video_accuracy_results.report(results, args.out, args.inspect)
    return 0


if __name__ == "__main__":
    sys.exit(main())
