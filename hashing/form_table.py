"""The match policy's forms as data: the table `FORMS`, one `FormRow` per form.

What a row's fields mean and how each side applies the rows is the policy's
specification (`hashing.policy`, steps 2 and 3); how each form is made, exactly,
is `hashing.forms`. Nothing else lists the forms: the policy's hashes, its crop
scales and `MAX_QUERY_HASHES`, the OpenAPI description of a match item's
`variants` and the human list in `docs/web-page.md` are derived from the rows,
and the web page reads them as `service/static/js/form-table.js` (each row's
`data()`), which `scripts/write_form_table.py` writes from this table and
`tests/hashing/test_form_table.py` checks.
"""

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Literal

from PIL import Image

from hashing.forms import (
    CLIPPED_MIN_QUALITY,
    caption_band,
    centre_crop,
    clipped_value,
    content_block,
    eroded_value,
    reduced,
)
from hashing.pdq import MIN_QUALITY, PDQ
from hashing.registry import PDQ_ALGORITHM

Source = Literal["image", "trimmed"]  # the image as given, or with its plain borders trimmed
Side = Literal["submitted", "queried"]  # the survivor's side, the platform's side
Part = Literal["forms", "reduced", "clipped", "block"]  # a MatchPolicy switch


class Use(StrEnum):
    """How one side uses a form (`hashing.policy`, step 2)."""

    NO = "no"
    YES = "yes"  # hashed; left out below the row's floor
    REQUIRED = "required"  # hashed first; below the row's floor the image is refused


@dataclass(frozen=True)
class _Kind:
    """How a form is made from its picture, and how people call it."""

    make: Callable[[Image.Image, float | None], Image.Image | None]
    label: str  # with {source} and, for centre crops, {scale}
    when: str = ""  # for a form that not every picture has: which have it


def _centre_crop(picture: Image.Image, scale: float | None) -> Image.Image:
    if scale is None:
        raise ValueError("a centre crop needs its scale")
    return centre_crop(picture, scale)


# By the name a row gives (`FormRow.form`); the web page's policy.js makes them by the
# same names.
_KINDS: dict[str, _Kind] = {
    "whole": _Kind(lambda picture, _: picture, "{source}"),
    "centre crop": _Kind(_centre_crop, "the centre {scale} of {source}"),
    "caption band": _Kind(lambda p, _: caption_band(p), "the caption band form of {source}"),
    "eroded value": _Kind(lambda p, _: eroded_value(p), "the eroded value form of {source}"),
    "reduced": _Kind(lambda p, _: reduced(p), "the reduced form of {source}"),
    "content block": _Kind(
        lambda p, _: content_block(p), "the content block of {source}", "when it has one"
    ),
    "clipped value": _Kind(lambda p, _: clipped_value(p), "the clipped value form of {source}"),
}
_SOURCES: dict[Source, str] = {"image": "the image as given", "trimmed": "the trimmed image"}


@dataclass(frozen=True)
class FormRow:
    """One form the policy hashes: how it is made and how each side uses it."""

    form: str  # a name in _KINDS
    made_from: Source
    submitted: Use
    queried: Use
    about: str  # what it is for, for people: "for a cropped re-post"
    scale: float | None = None  # centre crops only: the fraction of each side kept
    min_quality: int = MIN_QUALITY
    part: Part | None = None  # the MatchPolicy switch that leaves it out (None: none does)
    unlike_trimmed: bool = False  # left out at the trimmed image's size (it would be that)

    def __post_init__(self) -> None:
        if self.form not in _KINDS:
            raise ValueError(f"no such form: {self.form!r} (one of {sorted(_KINDS)})")
        if (self.scale is None) == (self.form == "centre crop"):
            raise ValueError("a centre crop, and only a centre crop, has a scale")

    @property
    def label(self) -> str:
        """How people call it: "the centre 80% of the trimmed image"."""
        scale = "" if self.scale is None else f"{self.scale:.0%}"
        return _KINDS[self.form].label.format(source=_SOURCES[self.made_from], scale=scale)

    @property
    def when(self) -> str:
        """Which pictures have this form ("" for all)."""
        return _KINDS[self.form].when

    def use(self, side: Side) -> Use:
        return self.submitted if side == "submitted" else self.queried

    def used(self, side: Side) -> bool:
        return self.use(side) is not Use.NO

    def make(self, picture: Image.Image) -> Image.Image | None:
        """The form of `picture` (the row's `made_from`); None when it has none."""
        return _KINDS[self.form].make(picture, self.scale)

    @cached_property
    def pdq(self) -> PDQ:
        """PDQ refusing below this row's floor."""
        if self.min_quality == PDQ_ALGORITHM.min_quality:
            return PDQ_ALGORITHM
        return PDQ(min_quality=self.min_quality)

    def data(self) -> dict[str, object]:
        """The row as the web page reads it (`form-table.js`): plain JSON values."""
        out: dict[str, object] = {
            "form": self.form,
            "madeFrom": self.made_from,
            "submitted": str(self.submitted),
            "queried": str(self.queried),
            "minQuality": self.min_quality,
        }
        if self.scale is not None:
            out["scale"] = self.scale
        if self.unlike_trimmed:
            out["unlikeTrimmed"] = True
        return out


_CROP = "for a cropped re-post"
# What was trimmed is often part of the picture (a clear sky, a studio backdrop): a
# re-post cropped from the original is then a crop of the untrimmed image.
_CROP_UNTRIMMED = "for a re-post cropped from the original, when what was trimmed is part of it"

# In hashing order (`hashing.policy`, step 3): each side's required rows first, then the
# others as listed here.
FORMS: tuple[FormRow, ...] = (
    FormRow(
        "whole",
        "trimmed",
        Use.REQUIRED,
        Use.YES,
        "for a copy with padding, letterbox bars or screenshot margins",
    ),
    FormRow(
        "whole",
        "image",
        Use.REQUIRED,
        Use.REQUIRED,
        "for a copy whose plain border was covered, by a caption say",
    ),
    FormRow("centre crop", "trimmed", Use.YES, Use.NO, _CROP, scale=0.9),
    # Queried, a caption or a corner logo near the edge falls outside it, and it meets
    # the survivor's crop of the same scale.
    FormRow("centre crop", "trimmed", Use.YES, Use.YES, _CROP, scale=0.8),
    FormRow("centre crop", "image", Use.YES, Use.NO, _CROP_UNTRIMMED, scale=0.9),
    FormRow("centre crop", "image", Use.YES, Use.NO, _CROP_UNTRIMMED, scale=0.8),
    FormRow(
        "caption band",
        "trimmed",
        Use.YES,
        Use.YES,
        "for a copy with a caption, meme text or a banner at the top or bottom",
        part="forms",
    ),
    FormRow(
        "eroded value",
        "trimmed",
        Use.YES,
        Use.YES,
        "for a hue-shifted copy, or one with a thin watermark drawn over it",
        part="forms",
    ),
    FormRow(
        "reduced",
        "trimmed",
        Use.YES,
        Use.YES,
        "for a turned, flipped or resized copy of a fine texture (PDQ's sampling aliases it)",
        part="reduced",
    ),
    # A survivor's own picture needs no such form.
    FormRow(
        "content block",
        "image",
        Use.NO,
        Use.YES,
        "for an app screenshot: the picture between the app's bars, buttons and caption",
        part="block",
        unlike_trimmed=True,
    ),
    # Untrimmed: brightening whitens a near-white backdrop, so a brightened copy trims
    # differently from its original. Its own floor: hashing.forms, step 3.
    FormRow(
        "clipped value",
        "image",
        Use.YES,
        Use.YES,
        "for a brightened copy whose highlights clipped to white",
        min_quality=CLIPPED_MIN_QUALITY,
        part="clipped",
    ),
)
