"""Canonical image loading: bad input, every mode, every format, the reduction rule."""

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pillow_heif
import pytest
from PIL import Image, ImageFile

from hashing import (
    MIN_SIDE,
    PDQ_ALGORITHM,
    ImageTooLarge,
    LowQualityImage,
    UnreadableImage,
    colour,
    load_image,
    reduction_factor,
)
from hashing.colour import to_rgb
from hashing.loading import read_header
from tests.conftest import PDQ_REFERENCE

pdq = PDQ_ALGORITHM
ORIGINAL = PDQ_REFERENCE / "misc-images" / "modes" / "original.jpg"


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def pdq_distance(a: Image.Image, b: Image.Image) -> int:
    return pdq.distance(pdq.compute(a).value, pdq.compute(b).value)


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return load_image(ORIGINAL)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(side: int) -> bytes:
    """A valid greyscale PNG of side x side zeros: ~400 kB that inflates to side² bytes."""
    compressor = zlib.compressobj(9)
    row = b"\x00" * (side + 1)  # filter byte + pixels
    data = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", data)
        + png_chunk(b"IEND", b"")
    )


# --- bad input: one clear domain error each, never a traceback --------------------


def test_empty_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(UnreadableImage, match="empty"):
        load_image(empty)
    with pytest.raises(UnreadableImage, match="empty"):
        load_image(b"")


def test_truncated_jpeg_is_refused(photo: Image.Image) -> None:
    data = encode(photo, "JPEG", quality=90)
    with pytest.raises(UnreadableImage, match="truncated"):
        load_image(data[: len(data) // 2])


def test_text_file_named_jpg_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "holiday.jpg"
    fake.write_text("this is not a picture\n")
    with pytest.raises(UnreadableImage, match="not an image"):
        load_image(fake)


def test_png_bomb_is_refused_before_decoding() -> None:
    bomb = png_bomb(20_000)
    assert len(bomb) < 2_000_000
    with pytest.raises(ImageTooLarge, match="too large") as info:
        load_image(bomb)
    assert info.value.max_pixels == 100_000_000
    smaller = png_bomb(12_000)  # under Pillow's own hard stop: our limit catches it
    with pytest.raises(ImageTooLarge, match="12000x12000"):
        load_image(smaller)


def test_pixel_limit_is_configurable(photo: Image.Image) -> None:
    data = encode(photo, "PNG")
    with pytest.raises(ImageTooLarge):
        load_image(data, max_pixels=1000)
    assert load_image(data, max_pixels=photo.width * photo.height).size == photo.size


def test_header_only_garbage_is_refused() -> None:
    with pytest.raises(UnreadableImage):
        load_image(b"\xff\xd8\xff\xe0" + b"\x00" * 64)
    with pytest.raises(UnreadableImage):
        load_image(
            b"\x89PNG\r\n\x1a\n"
            + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 64, 64, 8, 0, 0, 0, 0))
        )


# --- modes ---------------------------------------------------------------------------

_PLAIN_MODES = ["1", "L", "LA", "P", "PA", "RGBA", "CMYK", "YCbCr", "LAB", "HSV", "I", "F"]


@pytest.mark.parametrize("mode", _PLAIN_MODES)
def test_every_mode_converts_to_the_same_picture(photo: Image.Image, mode: str) -> None:
    converted = to_rgb(photo.convert(mode))
    assert converted.mode == "RGB"
    assert pdq_distance(converted, photo) <= 2


def test_16_bit_greyscale_is_scaled_not_clipped(photo: Image.Image) -> None:
    grey16 = (np.asarray(photo.convert("L")).astype(np.uint16) * 257).astype("<u2")
    image = Image.frombytes("I;16", photo.size, grey16.tobytes())
    assert pdq_distance(to_rgb(image), photo) <= 2
    with pytest.raises(LowQualityImage):  # naive conversion clips it to a blank white image
        pdq.compute(image.convert("RGB"))


def test_float_image_in_unit_range(photo: Image.Image) -> None:
    unit = Image.fromarray(np.asarray(photo.convert("L")).astype(np.float32) / 255)
    assert unit.mode == "F"
    assert pdq_distance(to_rgb(unit), photo) <= 2


def test_transparency_is_composited_over_white() -> None:
    rgba = Image.new("RGBA", (4, 4), (10, 200, 30, 0))  # invisible green
    assert to_rgb(rgba).getpixel((0, 0)) == (255, 255, 255)
    half = Image.new("LA", (4, 4), (0, 128))
    assert to_rgb(half).getpixel((0, 0)) == (127, 127, 127)
    palette = Image.new("P", (4, 4), 0)
    palette.putpalette([255, 0, 0] * 256)
    palette.info["transparency"] = 0
    assert to_rgb(palette).getpixel((0, 0)) == (255, 255, 255)


# --- formats -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "params"),
    [
        ("WEBP", {"quality": 90}),
        ("PNG", {}),
        ("GIF", {}),
        ("AVIF", {"quality": 90}),
        ("BMP", {}),
        ("TIFF", {}),
    ],
)
def test_formats_open_and_match(photo: Image.Image, fmt: str, params: dict[str, object]) -> None:
    loaded = load_image(encode(photo, fmt, **params))
    assert pdq_distance(loaded, photo) <= 10


def test_heic_opens_and_matches(photo: Image.Image) -> None:
    heif = pillow_heif.from_pillow(photo)
    buffer = io.BytesIO()
    heif.save(buffer, quality=90)
    assert pdq_distance(load_image(buffer.getvalue()), photo) <= 10


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_animation_uses_first_frame(photo: Image.Image, fmt: str) -> None:
    other = Image.open(PDQ_REFERENCE / "reg-test-input" / "labelme-subset" / "q0122.jpg")
    second = other.convert("RGB").resize(photo.size)
    data = encode(photo, fmt, save_all=True, append_images=[second], duration=100, loop=0)
    with Image.open(io.BytesIO(data)) as check:
        assert getattr(check, "n_frames", 1) == 2
    loaded = load_image(data)
    assert pdq_distance(loaded, photo) <= 10
    assert pdq_distance(loaded, second) > 31


# --- the reduction rule ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "factor"),
    [
        ((640, 480), 1),
        ((1023, 2000), 1),
        ((1024, 768), 1),
        ((1024, 1024), 2),
        ((2047, 3000), 2),
        ((4000, 3000), 4),
        ((4096, 4096), 8),
        ((20000, 9000), 8),
    ],
)
def test_reduction_factor(size: tuple[int, int], factor: int) -> None:
    assert reduction_factor(*size) == factor
    if factor > 1:
        assert min(size) // factor >= MIN_SIDE


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_large_images_are_reduced_by_the_same_rule(photo: Image.Image, fmt: str) -> None:
    big = photo.resize((4000, 2510), Image.Resampling.LANCZOS)
    loaded = load_image(
        encode(big, fmt, quality=92) if fmt == "JPEG" else encode(big, fmt, compress_level=1)
    )
    assert loaded.size == (1000, 628)  # 1/4, shorter side still >= 512
    assert pdq_distance(loaded, photo) <= 10


def test_exif_orientation_values_2_to_8(photo: Image.Image) -> None:
    transposes = {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_90,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_270,
    }
    for orientation, stored_as in transposes.items():
        # Store the pixels as a camera would, with the tag that undoes it.
        exif = Image.Exif()
        exif[0x0112] = orientation
        raw = photo.transpose(stored_as)
        loaded = load_image(encode(raw, "JPEG", quality=95, exif=exif.tobytes()))
        assert loaded.size == photo.size, orientation
        assert pdq_distance(loaded, photo) <= 10, orientation


# --- memory: conversion a band at a time, the header read before decoding ----------------


def _every_mode(photo: Image.Image, size: tuple[int, int]) -> list[Image.Image]:
    """The photo in every mode load_image meets, alpha and wide ranges included."""
    base = photo.resize(size)
    rng = np.random.default_rng(3)
    alpha = Image.fromarray(rng.integers(0, 256, size[::-1], dtype=np.uint8), "L")
    grey = np.asarray(base.convert("L"))
    images = [base.convert(mode) for mode in _PLAIN_MODES if mode not in ("I", "F")]
    for mode in ("LA", "RGBA"):
        images.append(base.convert(mode))
        images[-1].putalpha(alpha)
    palette = base.convert("P")
    palette.info["transparency"] = 7
    images += [
        palette,
        Image.fromarray(grey.astype(np.int32) * 300 - 5000),  # I, signed, beyond 16 bits
        Image.fromarray((grey.astype(np.uint16) * 257).astype("<u2")),  # I;16
        Image.fromarray(grey.astype(np.float32) / 255),  # F in 0..1
    ]
    nan = (grey.astype(np.float32) * 3.5).copy()
    nan[::7, ::5] = np.nan  # F with holes: the range is over finite values only
    images.append(Image.fromarray(nan))
    return images


@pytest.mark.parametrize("reduce", [1, 2, 4, 8])
def test_banded_conversion_is_pixel_identical(
    photo: Image.Image, reduce: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Odd sizes, so the last band and the last reduction block are partial.
    for image in _every_mode(photo, (301, 203)):
        whole = to_rgb(image, reduce)  # one band: convert everything, then reduce
        monkeypatch.setattr(colour, "BAND_PIXELS", 301 * 5)  # bands of a few rows
        banded = to_rgb(image, reduce)
        monkeypatch.undo()
        assert banded.mode == "RGB", image.mode
        assert banded.size == (-(-301 // reduce), -(-203 // reduce)), image.mode
        assert banded.tobytes() == whole.tobytes(), image.mode


def test_banded_conversion_matches_converting_then_reducing(photo: Image.Image) -> None:
    for image in _every_mode(photo, (257, 129)):
        assert to_rgb(image, 4).tobytes() == to_rgb(image).reduce(4).tobytes(), image.mode


@pytest.mark.parametrize(
    ("fmt", "size", "params"),
    [
        ("JPEG", (4000, 2510), {"quality": 80}),
        ("JPEG", (3000, 2000), {"quality": 80, "progressive": True}),
        ("PNG", (1100, 3000), {"compress_level": 1}),
        ("WEBP", (700, 500), {"quality": 80}),
    ],
)
def test_header_says_what_loading_will_decode(
    photo: Image.Image,
    fmt: str,
    size: tuple[int, int],
    params: dict[str, object],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = encode(photo.resize(size), fmt, **params)
    with monkeypatch.context() as patched:  # the header is read without decoding a pixel
        patched.setattr(ImageFile.ImageFile, "load", _no_decoding)
        header = read_header(data)
    assert header.format == fmt
    assert header.size == size
    assert header.canonical_size == load_image(data).size
    with Image.open(io.BytesIO(data)) as opened:
        factor = reduction_factor(*size)
        if fmt == "JPEG":  # decoded at the DCT scale
            opened.draft("RGB", (size[0] // factor, size[1] // factor))
        assert header.decoded_size == opened.size
    progressive = params.get("progressive", False)
    assert header.coefficient_planes == (1.5 if progressive else 0.0)  # 4:2:0 colour


def _no_decoding(self: ImageFile.ImageFile) -> None:
    raise AssertionError("read_header decoded pixels")


def test_header_guards_like_loading() -> None:
    with pytest.raises(ImageTooLarge):
        read_header(png_bomb(12_000))
    with pytest.raises(UnreadableImage):
        read_header(b"hello, not an image")
    with pytest.raises(UnreadableImage, match="empty"):
        read_header(b"")
