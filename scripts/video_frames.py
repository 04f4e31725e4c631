"""Frame-level helpers of the video accuracy benchmark, and its frame-grab and photo figures.

`hash_rates` hashes a video as hashbank does at 2 frames/s and takes 1/s as the
subset shown at whole seconds; the rest compares frame hashes exhaustively.
"""

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import video_transforms as vt
from PIL import Image

from hashing.pdq import pdq_of_pixels
from hashing.sampling import sample
from hashing.video import open_video
from hashing.video_forms import QUERIED, SUBMITTED, frame_variants
from hashing.vpdq import VideoFrameHash, hash_frame, select_frames

RADIUS = 31
DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"


@dataclass(frozen=True)
class Timed:
    timestamp: Fraction
    duration: Fraction
    hash: VideoFrameHash
    forms: tuple[VideoFrameHash, VideoFrameHash] | None = None  # with submitted, queried forms


# `--forms`: also each frame's other forms (hashing.video_forms), both sides'; read from
# the environment so that the worker processes see it however they start.
FORMS = os.environ.get("HASHBANK_BENCH_FORMS") == "1"
Frames = dict[Any, list[VideoFrameHash]]  # rate (plain), or f"{side}{rate}": with that side's forms


def hash_rates(path: Path) -> tuple[Frames, float]:
    """Raw frame hashes at 2/s and 1/s (the 2/s frames shown at whole seconds), the duration;
    with FORMS, also with the submitted ("s1", "s2") and queried ("q1", "q2") forms."""
    end = Fraction(0)
    with open_video(path) as video:
        timed = []
        for frame in sample(video.frames(), 2):
            if not FORMS:
                timed.append(Timed(frame.timestamp, frame.duration, hash_frame(frame)))
            else:  # the frame's pixels once, for its hash and both sides' forms
                rgb = frame.rgb()
                value, quality = pdq_of_pixels(rgb)
                plain = VideoFrameHash(frame.number, float(frame.timestamp), quality, value)
                submitted, queried = (
                    replace(
                        plain, variants=frame_variants(rgb, value, side) if quality >= 50 else ()
                    )
                    for side in (SUBMITTED, QUERIED)
                )
                timed.append(Timed(frame.timestamp, frame.duration, plain, (submitted, queried)))
            end = frame.timestamp + frame.duration
    by_rate = {2: timed, 1: list(sample(iter(timed), 1))}
    out: Frames = {rate: [t.hash for t in ts] for rate, ts in by_rate.items()}
    if FORMS:
        for rate, ts in by_rate.items():
            for n, side in enumerate("sq"):
                out[f"{side}{rate}"] = [t.forms[n] for t in ts if t.forms is not None]
    return out, float(end)


def kept(video: Any, rate: int, prune: int | None, side: str = "") -> list[VideoFrameHash]:
    """The frames kept at `rate`, with `side`'s forms ("s", "q") when they were hashed."""
    key = f"{side}{rate}" if side and f"{side}{rate}" in video.frames else rate
    return select_frames(video.frames[key], prune_distance=prune)


def expanded(frames: dict[str, list[VideoFrameHash]]) -> dict[str, list[VideoFrameHash]]:
    """Each frame's forms as frames of their own (same number and time), for exhaustive
    distance figures."""
    return {
        name: [replace(f, hash=v, variants=()) for f in fs for v in (f.hash, *f.variants)]
        for name, fs in frames.items()
    }


def codes(frames: Sequence[VideoFrameHash]) -> np.ndarray:
    return np.frombuffer(b"".join(f.hash for f in frames), np.uint8).reshape(len(frames), 32)


def min_distance(a: np.ndarray, b: np.ndarray) -> int:
    if not len(a) or not len(b):
        return 256
    d = np.bitwise_count(a.view(np.uint64)[:, None, :] ^ b.view(np.uint64)[None, :, :])
    return int(d.sum(axis=2).min())


def distance_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if not len(a) or not len(b):
        return np.zeros((0, 0), np.int64)
    d = np.bitwise_count(a.view(np.uint64)[:, None, :] ^ b.view(np.uint64)[None, :, :])
    return np.asarray(d.sum(axis=2, dtype=np.int64))


def side_by_side(a: np.ndarray, b: np.ndarray, path: Path) -> None:
    h = 240
    ims = [Image.fromarray(x).resize((max(1, x.shape[1] * h // x.shape[0]), h)) for x in (a, b)]
    canvas = Image.new("RGB", (ims[0].width + ims[1].width + 8, h), "white")
    canvas.paste(ims[0], (0, 0))
    canvas.paste(ims[1], (ims[0].width + 8, 0))
    canvas.save(path)


def frame_grabs(results: Any, frames: dict[str, list[VideoFrameHash]]) -> None:
    print(
        "\n## Frame grab of a re-encoded copy (480p, low bitrate) as a photo query, vs the original's stored frames (1/s, D = 8)\n"
    )
    print(
        "| half | grabs | unhashable | matched (<= 31) | median best distance |\n|---|---:|---:|---:|---:|"
    )
    for half in ("tune", "held", ""):
        rows = []
        unhashable = 0
        for name, grab in results.grabs.items():
            if half and results.videos[name].half != half:
                continue
            if grab is None:
                unhashable += 1
                continue
            q = np.frombuffer(b"".join(grab), np.uint8).reshape(-1, 32)
            rows.append(min_distance(q, codes(frames[name])))
        matched = sum(d <= RADIUS for d in rows)
        print(
            f"| {half or 'all'} | {len(rows) + unhashable} | {unhashable} | {matched} "
            f"({100 * matched / max(1, len(rows) + unhashable):.0f}%) | {np.median(rows) if rows else 0:.0f} |"
        )


def photo_cross(
    results: Any,
    frames: dict[str, list[VideoFrameHash]],
    out: Path,
    inspect: int,
    query_frames: dict[str, list[VideoFrameHash]] | None = None,
) -> None:
    """Photos' query hashes against every stored frame, and every frame against photos' submissions.

    Exhaustive (every query hash against every frame), so the closest distances are exact.
    """
    names = [(n, i) for n, fs in frames.items() for i in range(len(fs))]
    all_codes = np.vstack([codes(fs) for fs in frames.values() if fs])

    # what each frame shows: its video's scene, and for an insertion copy its host's too
    def shows(video: Any) -> set[str]:
        return {video.scene} | ({results.videos[video.host].scene} if video.host else set())

    shown = [shows(results.videos[n]) for n, _ in names]
    used = {p: n for n, v in results.videos.items() for p in v.photos}
    print(
        f"\n## Photos <-> video frames ({len(all_codes):,} frames of {len(frames)} videos, 1/s, D = 8)\n"
    )
    print(
        "| photos | photos | hashable | query hashes | photos hitting an unrelated frame (<= 31) "
        "| closest unrelated | photos used in videos: own video within 31 | their median best distance |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    closest: list[tuple[int, str, str, int]] = []
    sub_codes, sub_scene = [], []
    for dataset in ("clothing", "bsds500"):
        items = [(k, q, s) for k, (q, s) in results.photos.items() if k.startswith(dataset)]
        hashable = [(k, q, s) for k, q, s in items if q]
        false_photos, own_found, own_best, best = 0, 0, [], 256
        for key, q, s in hashable:
            own = used.get(key.split("/", 1)[1])
            own_scene = results.videos[own].scene if own else ""
            sub_codes.extend(s)
            sub_scene.extend([own_scene] * len(s))
            qc = np.frombuffer(b"".join(q), np.uint8).reshape(-1, 32)
            per_frame = distance_matrix(qc, all_codes).min(axis=0)
            mine = np.array([own_scene in scenes for scenes in shown])
            if own:
                own_best.append(int(per_frame[mine].min()))
                own_found += own_best[-1] <= RADIUS
            others = np.where(mine, 256, per_frame)
            i = int(others.argmin())
            false_photos += int(others[i]) <= RADIUS
            best = min(best, int(others[i]))
            closest.append((int(others[i]), key, names[i][0], names[i][1]))
        print(
            f"| {dataset} | {len(items)} | {len(hashable)} | {sum(len(q) for _, q, _ in hashable):,} "
            f"| {false_photos} | {best} | {own_found} of {len(own_best)} | {np.median(own_best):.0f} |"
        )
    closest.sort()
    print("\nClosest unrelated photo-frame pairs:")
    for i, (d, key, video, k) in enumerate(closest[: max(inspect, 6)]):
        f = frames[video][k]
        print(f"- {key} vs {video} t={f.timestamp:.1f} s: distance {d}")
        if i < inspect:
            photo = np.asarray(Image.open(DATASETS / key).convert("RGB"))
            side_by_side(
                photo,
                vt.frame_at(results.videos[video].path, f.timestamp),
                out / f"inspect-photo-{i}.png",
            )
    # the other way: every frame (a video query's frame hashes, with their forms if
    # hashed) against photos' submissions
    if query_frames is not None:
        names = [(n, i) for n, fs in query_frames.items() for i in range(len(fs))]
        all_codes = np.vstack([codes(fs) for fs in query_frames.values() if fs])
    sc = np.frombuffer(b"".join(sub_codes), np.uint8).reshape(-1, 32)
    sub = np.array(sub_scene)
    frame_shows: dict[str, np.ndarray] = {}
    false_frames, best = 0, 256
    for n, code in zip(names, all_codes, strict=True):
        if n[0] not in frame_shows:
            frame_shows[n[0]] = np.isin(sub, list(shows(results.videos[n[0]])))
        to_photos = np.where(frame_shows[n[0]], 256, distance_matrix(code[None, :], sc)[0])
        false_frames += int(to_photos.min()) <= RADIUS
        best = min(best, int(to_photos.min()))
    print(
        f"\nFrames as queries against the photos' submitted hashes ({len(sc):,} hashes of "
        f"{len(results.photos):,} photos): {false_frames} of {len(all_codes):,} frames are within "
        f"{RADIUS} of an unrelated photo; closest {best}"
    )
