"""Small videos made on the spot with PyAV's encoders, for the decoding and hostile-file tests."""

import io
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import av.video.stream
import numpy as np

from hashing.video import open_video


def picture(index: int, width: int, height: int) -> np.ndarray:
    """A frame with a white block in its top-left quarter and a moving bar: orientation shows."""
    image = np.zeros((height, width, 3), np.uint8)
    image[: height // 2, : width // 4] = 255
    image[:, (index * 3) % width] = (0, 200, 0)
    return image


def encode(
    *,
    codec: str = "libx264",
    container: str = "mp4",
    width: int = 64,
    height: int = 48,
    frames: int = 10,
    rate: int = 30,
    rotation: int | None = None,
    pts: Sequence[int] | None = None,
    time_base: Fraction | None = None,
) -> bytes:
    """A short video; `pts` (in `time_base` units) gives every frame its own time (VFR)."""
    out = io.BytesIO()
    with av.open(out, "w", format=container) as muxer:
        stream = muxer.add_stream(codec, rate=rate)
        assert isinstance(stream, av.video.stream.VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if time_base is not None:
            stream.codec_context.time_base = time_base
        if rotation is not None:
            stream.set_display_rotation(rotation)
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(picture(i, width, height), format="rgb24")
            if pts is not None:
                frame.pts, frame.time_base = pts[i], time_base
            for packet in stream.encode(frame):
                muxer.mux(packet)
        for packet in stream.encode():
            muxer.mux(packet)
    return out.getvalue()


def audio_only(seconds: float = 0.5) -> bytes:
    """An MP4 with one AAC stream and no video."""
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as muxer:
        stream = muxer.add_stream("aac", rate=8000)
        for i in range(int(seconds * 8000 / 1024) + 1):
            frame = av.AudioFrame.from_ndarray(
                np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
            )
            frame.sample_rate, frame.pts = 8000, i * 1024
            for packet in stream.encode(frame):
                muxer.mux(packet)
        for packet in stream.encode():
            muxer.mux(packet)
    return out.getvalue()


def huge_declared(side: int = 12000) -> bytes:
    """A Matroska file whose header declares side x side raw frames but holds 256 x 256 ones.

    Raw video trusts the container's frame size, so a decoder would allocate
    the declared size: the header check must refuse it before any decoding.
    The encoder cannot make the real thing cheaply (16384^2 pixels per frame),
    so the two-byte PixelWidth and PixelHeight elements are rewritten.
    """
    data = bytearray(encode(codec="rawvideo", container="matroska", width=256, height=256))
    for element in (b"\xb0\x82\x01\x00", b"\xba\x82\x01\x00"):  # PixelWidth, PixelHeight = 256
        at = data.find(element)
        assert at >= 0, "the Matroska muxer's layout changed"
        data[at + 2 : at + 4] = side.to_bytes(2, "big")
    return bytes(data)


def reencode(
    source: Path | bytes, *, crop: float = 0.0, bit_rate: int = 300_000, width: int | None = None
) -> bytes:
    """A platform's copy of `source`: its frames as a player shows them (upright), each
    cropped by `crop` of its width and height (half from each side), scaled to `width`
    (aspect kept) if given, re-encoded as H.264 at `bit_rate` bits per second at the
    source's average frame rate."""
    out = io.BytesIO()
    with open_video(source) as video, av.open(out, "w", format="mp4") as muxer:
        stream = muxer.add_stream("libx264", rate=video.frame_rate or Fraction(30))
        assert isinstance(stream, av.video.stream.VideoStream)
        stream.bit_rate, stream.pix_fmt = bit_rate, "yuv420p"
        for number, frame in enumerate(video.frames()):
            pixels = frame.rgb()
            h, w = pixels.shape[:2]
            dy, dx = int(h * crop / 2), int(w * crop / 2)
            picture = av.VideoFrame.from_ndarray(
                np.ascontiguousarray(pixels[dy : h - dy, dx : w - dx]), format="rgb24"
            )
            if number == 0:  # the stream's size is set before its first frame
                out_w = width or picture.width
                stream.width = out_w // 2 * 2
                stream.height = round(picture.height * out_w / picture.width / 2) * 2
            picture = picture.reformat(width=stream.width, height=stream.height, format="yuv420p")
            for packet in stream.encode(picture):
                muxer.mux(packet)
        for packet in stream.encode():
            muxer.mux(packet)
    return out.getvalue()
