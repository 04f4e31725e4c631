"""Generated "camera" videos for the video accuracy benchmark: pan and zoom over photos.

A hand-held camera over `photos` (one shot each, cut between them): a smooth
path through three key points (a window of 60-90% of the photo's widest window
of the video's shape) with 1-3 px of shake per frame; `static=True` for a
near-still shot (one framing, 1 px shake, sensor noise): the hard case for
false matches. Encoded with `video_transforms.Writer` (PyAV, libx264).
"""

import random
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image
from video_transforms import Writer


def camera_video(
    out: Path,
    photos: Sequence[Path],
    rng: random.Random,
    *,
    seconds: float,
    size: tuple[int, int] = (1280, 720),
    fps: int = 15,
    static: bool = False,
) -> None:
    """A hand-held "camera" over `photos` (one shot each, cut between them), or a still shot."""
    w, h = size
    writer = Writer(out, Fraction(fps))
    n = int(seconds * fps)
    per_shot = -(-n // len(photos))
    noise = np.random.default_rng(rng.randrange(1 << 30))
    try:
        for k, path in enumerate(photos):
            image = Image.open(path).convert("RGB")
            iw, ih = image.size
            full = min(iw, ih * w / h)  # the widest window of the video's shape
            keys = 1 if static else 3  # key points of the camera's path, evenly over the shot
            zoom = [0.9 if static else rng.uniform(0.6, 0.9) for _ in range(keys)]
            cx = [0.5 if static else rng.uniform(0.35, 0.65) for _ in range(keys)]
            cy = [0.5 if static else rng.uniform(0.35, 0.65) for _ in range(keys)]
            zoom, cx, cy = zoom * (4 - keys), cx * (4 - keys), cy * (4 - keys)
            shake = 1.0 if static else rng.uniform(1, 3)
            frames = range(k * per_shot, min(n, (k + 1) * per_shot))
            for i, _ in enumerate(frames):
                u = i / max(1, len(frames) - 1) * 2  # two legs between three key points
                leg, f = min(1, int(u)), (1 - np.cos(np.pi * (u - min(1, int(u))))) / 2
                z = zoom[leg] + (zoom[leg + 1] - zoom[leg]) * f
                ww, wh = full * z, full * z * h / w
                x = (cx[leg] + (cx[leg + 1] - cx[leg]) * f) * iw + noise.normal(0, shake * iw / w)
                y = (cy[leg] + (cy[leg + 1] - cy[leg]) * f) * ih + noise.normal(0, shake * ih / h)
                x = min(max(x, ww / 2), iw - ww / 2)
                y = min(max(y, wh / 2), ih - wh / 2)
                box = (x - ww / 2, y - wh / 2, x + ww / 2, y + wh / 2)
                rgb = np.asarray(
                    image.transform(size, Image.Transform.EXTENT, box, Image.Resampling.BILINEAR)
                )
                if static:
                    rgb = np.clip(rgb + noise.normal(0, 2, rgb.shape), 0, 255).astype(np.uint8)
                writer.write(Fraction(k * per_shot + i, fps), rgb)
    finally:
        writer.close()
