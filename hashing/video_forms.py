"""The other forms of a video frame that each side hashes, beside Meta's own frame hash.

Meta's vPDQ hashes each frame as given, and PDQ does not survive a crop, a
letterbox or a mirror: a re-post of a video cropped by 10%, one with bars
added or removed, or a mirrored one shares almost no frame hash with the
original (`docs/video.md`, Accuracy). As the photo match policy does for
images (`hashing.policy`, `hashing.form_table`), each side therefore also
hashes a few other forms of every kept frame, made by `hashing.forms`:

| form | submitted (survivor) | queried (platform) | for |
|---|---|---|---|
| the frame as given | yes: Meta's frame hash | yes: Meta's frame hash | every copy |
| its plain borders trimmed | yes | yes | letterbox or pillarbox bars added or removed |
| the centre 90% of the trimmed frame | yes | no | a copy cropped by about 10% |
| the centre 80% of the trimmed frame | yes | yes | a copy cropped by about 20%, or a corner logo |
| the trimmed frame's full width, middle 90% of its height | yes | no | see below |
| the trimmed frame's full height, middle 90% of its width | yes | no | see below |
| the frame as given, mirrored | no | yes | a mirrored copy |
| the trimmed frame, mirrored | no | yes | a mirrored copy with bars |

The last two are for a letterboxed (pillarboxed) copy cropped by 10%: the
crop takes the bars' width and the picture's top and bottom, so the picture
is cut on one axis only. Frames are trimmed of plain runs down to 0.5% of a
side (`FRAME_TRIM_MIN_RUN`; photos: 2%), since such a crop leaves slivers of
the bars.

The forms of one frame are its *variants*: they share its time, they count
as that one frame in both match percentages, and a form that is not the frame
as given is never a frame of the video in Meta's sense (exports in Meta's and
pytx's formats leave variants out, so partners' own vPDQ matchers see Meta's
stream unchanged). Forms below the quality floor are left out; a form equal
to the frame's hash or to an earlier form is left out.
"""

from typing import Literal

import numpy as np
from PIL import Image

from hashing.forms import centre_crop, middle_crop, trim_borders
from hashing.pdq import MIN_QUALITY, pdq_of_pixels

Side = Literal["submitted", "queried"]
FRAME_TRIM_MIN_RUN = 0.005
SUBMITTED: Side = "submitted"
QUERIED: Side = "queried"


def frame_variants(rgb: np.ndarray, main: bytes, side: Side) -> tuple[bytes, ...]:
    """The PDQ hashes of one frame's other forms (the table above) for `side`, in the
    table's order, distinct, none equal to `main` (the frame's own hash)."""
    picture = Image.fromarray(rgb)
    trimmed = trim_borders(picture, min_run=FRAME_TRIM_MIN_RUN)
    bars = trimmed is not picture
    if side == SUBMITTED:
        forms = [trimmed] if bars else []
        forms += [centre_crop(trimmed, 0.9), centre_crop(trimmed, 0.8)]
        forms += [middle_crop(trimmed, 1.0, 0.9), middle_crop(trimmed, 0.9, 1.0)]
        arrays = [np.asarray(form) for form in forms]
    else:
        forms = [trimmed] if bars else []
        forms.append(centre_crop(trimmed, 0.8))
        arrays = [np.asarray(form) for form in forms]
        arrays += [rgb[:, ::-1]] + ([np.asarray(trimmed)[:, ::-1]] if bars else [])
    found: list[bytes] = []
    for pixels in arrays:
        value, quality = pdq_of_pixels(pixels)
        if quality >= MIN_QUALITY and value != main and value not in found:
            found.append(value)
    return tuple(found)
