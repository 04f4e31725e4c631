"""The match policy: what a survivor submits per image, what a platform queries, what matches.

This module is the one place that decides it. The survivor's client
(`hashbank submit` / `add`), the platform client (`PlatformClient.match_image`,
`hashbank match`), the service (`Matcher.match_image`) and the accuracy
benchmark (`scripts/bench_accuracy.py`) all call it; the web page's JavaScript
ports it rule for rule (see "Porting" below). Measured results and costs:
`docs/accuracy.md`.

Every step works on the canonical image from `hashing.load_image` (EXIF
orientation applied, 8-bit RGB, large images reduced by a power of two).

1. **Trim plain borders** (`hashing.forms.trim_borders`): padding, letterbox
   bars and screenshot margins are cut off first. The exact rules of every
   form are in `hashing.forms`.

2. **Four more forms** (`hashing.forms`). Of the trimmed image: the caption
   band (without the top and bottom 15%, where captions go), the eroded value
   (max(R, G, B), eroded: for hue shifts and watermarks) and the reduced form
   (the exact 64 x 64 area average: for textures that PDQ's own sampling
   aliases, so that rotated, flipped and resized copies still match). Of the
   image as given: the clipped value (max(R, G, B) clamped at its own 60th
   percentile: for brightened copies whose highlights clipped to white),
   kept only at PDQ quality 70 or more (`hashing.forms.CLIPPED_MIN_QUALITY`).

3. **What a survivor submits per image** (`submission_hashes`), PDQ only:

   * the PDQ hash of the trimmed image (refused, as always, below quality 50);
   * if trimming changed the image, also the PDQ hash of the untrimmed image
     (a copy whose border was covered, e.g. by a caption, still matches);
   * for each scale s in `CROP_SCALES`, the PDQ hash of the centre crop of the
     trimmed image keeping a fraction s of its width and of its height: left
     = floor(w * (1 - s) / 2), top = floor(h * (1 - s) / 2), right = left +
     round(w * s), bottom = top + round(h * s). These let a cropped re-post
     match;
   * if trimming changed the image, the same centre crops of the untrimmed
     image: what was trimmed is often part of the picture (a clear sky, a
     studio backdrop), and a re-post cropped from the original is then a crop
     of the untrimmed image, not of the trimmed one;
   * the PDQ hash of the caption band form, of the eroded value form, of the
     reduced form, then of the clipped value form.

   A crop or form whose PDQ quality is below 50 is left out (the clipped
   value below 70; the image's own hash is still submitted). So an image
   yields up to 1 + len(CROP_SCALES) + 4 = 7 hashes, 1 + len(CROP_SCALES) = 3
   more when it had a plain border; duplicates are dropped. Each is an
   ordinary PDQ hash in the case. The survivor's client fills its
   requests (at most 100 hashes, the service's per-request limit) with whole
   images.

4. **What a platform queries per image** (`query_groups`), PDQ only, each as
   its 8 dihedral hashes (rotations and flips, `PDQ.compute_dihedral`):

   * the image as uploaded;
   * when trimming changed it, the trimmed image;
   * for each scale s in `QUERY_CROP_SCALES` (0.8), the centre crop of the
     trimmed image by the same rule as in step 3 (a caption or a corner logo
     near the edge falls outside it, and it meets the survivor's crop of the
     same scale);
   * the caption band, eroded value and reduced forms of the trimmed image;
   * the **content block** (`hashing.forms.content_block`), when the image
     has plain rows inside it: the picture inside an app screenshot, between
     its bars, buttons and caption. Queried only: a survivor's own picture
     needs no such form;
   * the clipped value form of the image as uploaded (quality 70 or more).

   A form whose PDQ quality is below 50 is left out. So 48 hashes, at most 64
   (`MAX_QUERY_HASHES`), sent as one item: a hash and its variants.

5. **What matches** (`accepts`): a stored hash matches the query when the
   smallest Hamming distance between it and any of the query's hashes is at
   most `THRESHOLD` (31, PDQ's usual threshold). There is no second stage: the
   one measured (PDQ up to 48 bits when pHash agrees within 8) also accepts
   plain unrelated pictures, whose PDQ and pHash are close together
   (`scripts/bench_unrelated.py`, `docs/accuracy.md`).

Porting: steps 1 to 3 (all the survivor's browser needs) are integer arithmetic
on the canonical RGB pixels plus PDQ, so the browser gets the same hashes as
this module from the same pixels.
"""

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TypeVar

from PIL import Image

from hashing.algorithm import Hash
from hashing.errors import LowQualityImage
from hashing.forms import (
    CLIPPED_MIN_QUALITY,
    caption_band,
    centre_crop,
    clipped_value,
    content_block,
    eroded_value,
    reduced,
    trim_borders,
)
from hashing.pdq import PDQ
from hashing.registry import PDQ_ALGORITHM

ALGORITHM = PDQ_ALGORITHM.name
THRESHOLD = 31
CROP_SCALES: tuple[float, ...] = (0.9, 0.8)
QUERY_CROP_SCALES: tuple[float, ...] = (0.8,)
# dihedral x (as uploaded, trimmed, crops, band, eroded, reduced, clipped, content block)
MAX_QUERY_HASHES = 8 * (2 + len(QUERY_CROP_SCALES) + 5)
# PDQ as usual, but refusing below the clipped value form's own floor (hashing.forms).
CLIPPED_PDQ = replace(PDQ_ALGORITHM, min_quality=CLIPPED_MIN_QUALITY)
# A form of the image, made only when it is hashed (None: the image has no such form).
# Made one at a time and dropped once hashed, the forms of a large image never all
# sit in memory together.
Form = Callable[[], Image.Image | None]
T = TypeVar("T")


@dataclass(frozen=True)
class MatchPolicy:
    """The policy's settings; `DEFAULT_POLICY` is what hashbank uses everywhere.

    Other instances exist for the benchmark's comparison rows (what each part adds).
    """

    name: str = "hashbank"
    algorithm: str = ALGORITHM
    trim: bool = True
    crop_scales: tuple[float, ...] = field(default=CROP_SCALES)
    query_crop_scales: tuple[float, ...] = field(default=QUERY_CROP_SCALES)
    forms: bool = True  # the caption band and eroded value forms (step 2)
    reduced: bool = True  # the reduced form (step 2)
    clipped: bool = True  # the clipped value form (step 2)
    block: bool = True  # the content block, queried only (step 4)
    threshold: int = THRESHOLD

    def submission_hashes(self, image: Image.Image) -> list[Hash]:
        """The PDQ hashes a survivor's client submits for one canonical image (step 3).

        Raises `LowQualityImage` when the image itself cannot be hashed reliably.
        """
        trimmed = trim_borders(image) if self.trim else image
        hashes = [PDQ_ALGORITHM.compute(trimmed)]
        crops = [partial(centre_crop, trimmed, s) for s in self.crop_scales]
        if trimmed is not image:
            hashes.append(PDQ_ALGORITHM.compute(image))
            # What was trimmed may be part of the picture (a clear sky, a studio
            # backdrop): a cropped re-post is then a crop of the untrimmed image.
            crops += [partial(centre_crop, image, s) for s in self.crop_scales]
        forms = [(PDQ_ALGORITHM, form) for form in crops + self._forms(trimmed)]
        hashes += _each_form(forms + self._clipped(image), PDQ.compute)
        return _distinct(hashes)

    def query_groups(self, image: Image.Image) -> list[list[Hash]]:
        """The hashes a platform queries for one canonical image, by canonical form (step 4).

        One group of 8 dihedral hashes per form: the image as uploaded, the trimmed
        image when trimming changed it, the centre crops, the caption band, eroded
        value and reduced forms, the content block when there is one, and the clipped
        value form. Raises `LowQualityImage` when the uploaded image cannot be hashed
        reliably.
        """
        groups = [PDQ_ALGORITHM.compute_dihedral(image)]
        trimmed = trim_borders(image) if self.trim else image
        forms: list[Form] = [lambda: trimmed] if trimmed is not image else []
        forms += [partial(centre_crop, trimmed, scale) for scale in self.query_crop_scales]
        forms += self._forms(trimmed)
        if self.block:
            forms.append(partial(_block_of, image, trimmed.size))
        pdq_forms = [(PDQ_ALGORITHM, form) for form in forms] + self._clipped(image)
        return groups + _each_form(pdq_forms, PDQ.compute_dihedral)

    def query_hashes(self, image: Image.Image) -> list[Hash]:
        """All of `query_groups` as one list (up to 64 hashes): one query item."""
        return [h for group in self.query_groups(image) for h in group]

    def _forms(self, trimmed: Image.Image) -> list[Form]:
        forms: list[Form] = []
        if self.forms:
            forms += [partial(caption_band, trimmed), partial(eroded_value, trimmed)]
        return [*forms, partial(reduced, trimmed)] if self.reduced else forms

    def _clipped(self, image: Image.Image) -> list[tuple[PDQ, Form]]:
        """The clipped value form, with the PDQ that refuses it below its own floor."""
        return [(CLIPPED_PDQ, partial(clipped_value, image))] if self.clipped else []

    def accepts(self, distance: int) -> bool:
        """Step 5: the best distance between a stored hash and the query's hashes."""
        return distance <= self.threshold


DEFAULT_POLICY = MatchPolicy()


def submission_hashes(image: Image.Image) -> list[Hash]:
    """`DEFAULT_POLICY.submission_hashes`: what a survivor submits for one image."""
    return DEFAULT_POLICY.submission_hashes(image)


def query_hashes(image: Image.Image) -> list[Hash]:
    """`DEFAULT_POLICY.query_hashes`: what a platform queries for one image."""
    return DEFAULT_POLICY.query_hashes(image)


def _distinct(hashes: list[Hash]) -> list[Hash]:
    seen: set[bytes] = set()
    out: list[Hash] = []
    for h in hashes:
        if h.value not in seen:
            seen.add(h.value)
            out.append(h)
    return out


def _each_form(forms: list[tuple[PDQ, Form]], compute: Callable[[PDQ, Image.Image], T]) -> list[T]:
    """`compute(pdq, form)` for each form in order, leaving out those below the quality floor."""
    results: list[T] = []
    for pdq, make in forms:
        form = make()
        if form is None:
            continue
        try:
            results.append(compute(pdq, form))
        except LowQualityImage:
            continue
        finally:
            del form
    return results


def _block_of(image: Image.Image, trimmed_size: tuple[int, int]) -> Image.Image | None:
    """The content block, unless it is the trimmed image again (step 4)."""
    block = content_block(image)
    return block if block is not None and block.size != trimmed_size else None
