"""The web page's video frame forms (service/static/js/video-forms.js) equal `hashing.video_forms`.

The same pixels handed to both sides give exactly the same variants, in the
same order: frames without bars, letterboxed and pillarboxed frames (the bars
trimmed down to thin slivers), and a frame of too little detail.
"""

import base64

import numpy as np
import pdqhash
import pytest
from PIL import Image
from playwright.sync_api import Page

from hashing.video_forms import SUBMITTED, frame_variants
from tests.browser.test_policy_js import _letterboxed, _photo, _pillarboxed


def _pdq_hex(pixels: np.ndarray) -> str:
    bits, _ = pdqhash.compute(np.ascontiguousarray(pixels))
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex()


def _sliver(photo: Image.Image) -> Image.Image:
    """A pillarboxed frame cropped so that 1% bars remain (trimmed only for frames)."""
    frame = np.zeros((photo.height, photo.width + 2 * (photo.width // 100), 3), np.uint8)
    frame[:, photo.width // 100 : photo.width // 100 + photo.width] = np.asarray(photo)
    return Image.fromarray(frame)


FRAMES = {
    "plain photo": lambda: _photo("100075.jpg"),
    "letterboxed": lambda: _letterboxed(_photo("101027.jpg"), 720, 1280),
    "pillarboxed": lambda: _pillarboxed(_photo("100039.jpg").rotate(90, expand=True), 960, 540),
    "thin bars": lambda: _sliver(_photo("118035.jpg")),
    "flat": lambda: Image.new("RGB", (320, 240), (40, 90, 200)),
}


@pytest.mark.parametrize("name", list(FRAMES))
def test_the_page_makes_the_same_frame_variants_as_python(harness: Page, name: str) -> None:
    picture = FRAMES[name]()
    pixels = np.asarray(picture.convert("RGB"))
    main = _pdq_hex(pixels)
    expected = [v.hex() for v in frame_variants(pixels, bytes.fromhex(main), SUBMITTED)]
    rgb = base64.b64encode(pixels.tobytes()).decode()
    got = harness.evaluate(
        "([rgb, w, h, main]) => harness.frameVariantsOfPixels(rgb, w, h, main)",
        [rgb, picture.width, picture.height, main],
    )
    assert got == expected
    if name == "flat":
        assert got == []
    else:
        assert len(got) >= 4  # the crops, and the trimmed frame when it has bars
