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
   bars and screenshot margins are cut off first.

2. **The forms** are the rows of the table `FORMS` (in `hashing.form_table`),
   the only list of them: what each side hashes and in which order,
   `CROP_SCALES`, `QUERY_CROP_SCALES`, `MAX_QUERY_HASHES`, the OpenAPI
   description of a match item's `variants`, the web page's table
   (`service/static/js/form-table.js`) and the list in `docs/web-page.md` are
   derived from it (`scripts/write_form_table.py` writes the last two). A row
   (`FormRow`) says

   * its `form`, the rule that makes it (each exactly in `hashing.forms`):
     `whole` (the picture itself), `centre crop` (keeping a fraction `scale` of
     the width and of the height: left = floor(w * (1 - s) / 2), top = floor(h *
     (1 - s) / 2), right = left + round(w * s), bottom = top + round(h * s)),
     `caption band`, `eroded value`, `reduced`, `content block`, `clipped value`;
   * `made_from`: the image as given (`image`) or the trimmed image (`trimmed`);
   * how each side uses it, `submitted` and `queried`: `no`; `yes` (left out
     when its PDQ quality is below the row's `min_quality`); or `required` (below
     that floor the whole image is refused, `LowQualityImage`);
   * `min_quality`: PDQ's 50, or the clipped value form's own 70
     (`hashing.forms.CLIPPED_MIN_QUALITY`);
   * `unlike_trimmed`: left out when it comes out the size of the trimmed image
     (the content block: it would be the trimmed image again).

3. **The rows a side hashes, in order** (`MatchPolicy.rows`): those it uses,
   the required ones first (they decide whether the image can be hashed at
   all, before any other form is made), then the others in table order. When
   trimming did not change the image, the image as given *is* the trimmed
   image, so a row whose form (and scale) an earlier row of the same side has
   already made is skipped: on the survivor's side the image as given and its
   centre crops, on the platform's the trimmed image. A form that cannot be
   made (no content block) is left out.

4. **What a survivor submits per image** (`submission_hashes`): the PDQ hash of
   each of its side's forms, in that order; duplicates dropped, the first kept.
   Each is an ordinary PDQ hash in the case. The survivor's client fills its
   requests (at most 100 hashes, the service's per-request limit) with whole
   images.

5. **What a platform queries per image** (`query_groups`): each of its side's
   forms as its 8 dihedral hashes (rotations and flips, `PDQ.compute_dihedral`),
   one group per form, in that order, the image as uploaded first; nothing is
   dropped as a duplicate. So at most 8 x the queried rows, `MAX_QUERY_HASHES`,
   sent as one item: a hash and its variants.

6. **What matches** (`accepts`): a stored hash matches the query when the
   smallest Hamming distance between it and any of the query's hashes is at
   most `THRESHOLD`, PDQ's own threshold from its descriptor (31): the
   service searches within exactly that radius. There is no second stage: the
   one measured (PDQ up to 48 bits when pHash agrees within 8) also accepts
   plain unrelated pictures, whose PDQ and pHash are close together
   (`scripts/bench_unrelated.py`, `docs/accuracy.md`).

Porting: steps 1 to 4 (all the survivor's browser needs) are integer arithmetic
on the canonical RGB pixels plus PDQ, so the browser gets the same hashes as
this module from the same pixels. The page reads the rows from
`form-table.js`, generated from `FORMS`, and applies steps 3 and 4 to them.
"""

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TypeVar

from PIL import Image

from hashing.algorithm import Hash
from hashing.errors import LowQualityImage
from hashing.form_table import FORMS, FormRow, Part, Side, Use
from hashing.forms import trim_borders
from hashing.pdq import DIHEDRAL_NAMES, PDQ
from hashing.registry import PDQ_ALGORITHM

__all__ = [
    "ALGORITHM",
    "CROP_SCALES",
    "DEFAULT_POLICY",
    "FORMS",
    "MAX_QUERY_HASHES",
    "QUERY_CROP_SCALES",
    "THRESHOLD",
    "FormRow",
    "MatchPolicy",
    "Side",
    "Use",
    "comparison_steps",
    "query_hashes",
    "submission_hashes",
]

ALGORITHM = PDQ_ALGORITHM.name
THRESHOLD = PDQ_ALGORITHM.threshold  # defined once, in PDQ's descriptor


def _scales(side: Side) -> tuple[float, ...]:
    return tuple(dict.fromkeys(r.scale for r in FORMS if r.scale is not None and r.used(side)))


CROP_SCALES = _scales("submitted")
QUERY_CROP_SCALES = _scales("queried")
MAX_QUERY_HASHES = len(DIHEDRAL_NAMES) * sum(r.used("queried") for r in FORMS)
T = TypeVar("T")


@dataclass(frozen=True)
class MatchPolicy:
    """The policy's settings; `DEFAULT_POLICY` is what hashbank uses everywhere.

    Other instances exist for the benchmark's comparison rows (what each part adds):
    `trim` off hashes the image as given where the trimmed one would be; the others
    leave rows of `FORMS` out: the centre crops at scales not in `crop_scales`
    (submitted) or `query_crop_scales` (queried), and the rows of each part switched off.
    """

    name: str = "hashbank"
    algorithm: str = ALGORITHM
    trim: bool = True
    crop_scales: tuple[float, ...] = field(default=CROP_SCALES)
    query_crop_scales: tuple[float, ...] = field(default=QUERY_CROP_SCALES)
    forms: bool = True  # the caption band and eroded value forms
    reduced: bool = True  # the reduced form
    clipped: bool = True  # the clipped value form
    block: bool = True  # the content block, queried only
    threshold: int = THRESHOLD

    def __post_init__(self) -> None:
        sides: dict[Side, tuple[float, ...]] = {
            "submitted": self.crop_scales,
            "queried": self.query_crop_scales,
        }
        for side, scales in sides.items():
            if not set(scales) <= set(_scales(side)):
                # A policy leaves rows out; a new crop is a new row of FORMS.
                raise ValueError(f"{side} centre crops must be some of {_scales(side)}: {scales}")

    def rows(self, side: Side) -> list[FormRow]:
        """The rows of `FORMS` this policy hashes on one side, in order (step 3)."""
        scales = self.crop_scales if side == "submitted" else self.query_crop_scales
        parts: dict[Part, bool] = {
            "forms": self.forms,
            "reduced": self.reduced,
            "clipped": self.clipped,
            "block": self.block,
        }
        rows = [
            row
            for row in FORMS
            if row.used(side)
            and (row.scale is None or row.scale in scales)
            and (row.part is None or parts[row.part])
        ]
        return sorted(rows, key=lambda row: row.use(side) is not Use.REQUIRED)  # stable

    def describe(self, side: Side) -> list[str]:
        """The side's forms as people call them, with when each is kept (steps 2 and 3)."""
        out: list[str] = []
        for row, again in self._rows_and_repeats(side):
            if again and not self.trim:
                continue  # never hashed: the image as given is always the "trimmed" one
            notes = [row.when] if row.when else []
            if again:
                notes.append("when trimming changed the image")
            if row.use(side) is Use.REQUIRED:
                notes.append(f"below PDQ quality {row.min_quality} the image is refused")
            elif row.min_quality != PDQ_ALGORITHM.min_quality:
                notes.append(f"kept at PDQ quality {row.min_quality} or more")
            out.append(row.label + (f" ({'; '.join(notes)})" if notes else ""))
        return out

    def submission_hashes(self, image: Image.Image) -> list[Hash]:
        """The PDQ hashes a survivor's client submits for one canonical image (step 4).

        Raises `LowQualityImage` when the image itself cannot be hashed reliably.
        """
        return _distinct(self._each_form(image, "submitted", PDQ.compute))

    def query_groups(self, image: Image.Image) -> list[list[Hash]]:
        """The hashes a platform queries for one canonical image, by form (step 5).

        One group of 8 dihedral hashes per form, the image as uploaded first. Raises
        `LowQualityImage` when the uploaded image cannot be hashed reliably.
        """
        return self._each_form(image, "queried", PDQ.compute_dihedral)

    def query_hashes(self, image: Image.Image) -> list[Hash]:
        """All of `query_groups` as one list (up to `MAX_QUERY_HASHES`): one query item."""
        return [h for group in self.query_groups(image) for h in group]

    def accepts(self, distance: int) -> bool:
        """Step 6: the best distance between a stored hash and the query's hashes."""
        return distance <= self.threshold

    def _each_form(
        self, image: Image.Image, side: Side, compute: Callable[[PDQ, Image.Image], T]
    ) -> list[T]:
        """`compute(pdq, form)` for each of the side's forms in order (step 3).

        Each form is made only when it is hashed and dropped once hashed, so the forms
        of a large image never all sit in memory together.
        """
        trimmed = trim_borders(image) if self.trim else image
        results: list[T] = []
        for row, again in self._rows_and_repeats(side):
            if again and trimmed is image:
                continue  # the image as given is the trimmed image: this form again
            form = row.make(trimmed if row.made_from == "trimmed" else image)
            if form is None or (row.unlike_trimmed and form.size == trimmed.size):
                continue
            try:
                results.append(compute(row.pdq, form))
            except LowQualityImage:
                if row.use(side) is Use.REQUIRED:
                    raise
            finally:
                del form
        return results

    def _rows_and_repeats(self, side: Side) -> list[tuple[FormRow, bool]]:
        """`rows(side)`, each with whether an earlier one makes the same form (step 3)."""
        made: set[tuple[str, float | None]] = set()
        out: list[tuple[FormRow, bool]] = []
        for row in self.rows(side):
            out.append((row, (row.form, row.scale) in made))
            made.add((row.form, row.scale))
        return out


DEFAULT_POLICY = MatchPolicy()


def comparison_steps() -> dict[str, MatchPolicy]:
    """The benchmark's comparison rows by name, each adding one part to the row before.

    `dihedral` (the 8 dihedral hashes of the image as given, nothing else), `+trim`,
    `+crops` (the default centre crops), `+forms` (caption band, eroded value and the
    content block) and `+reduced`; `DEFAULT_POLICY` adds the clipped value form last.
    """
    dihedral = MatchPolicy(
        name="dihedral",
        trim=False,
        crop_scales=(),
        query_crop_scales=(),
        forms=False,
        block=False,
        reduced=False,
        clipped=False,
    )
    trim = replace(dihedral, name="+trim", trim=True)
    crops = replace(
        trim, name="+crops", crop_scales=CROP_SCALES, query_crop_scales=QUERY_CROP_SCALES
    )
    forms = replace(crops, name="+forms", forms=True, block=True)
    steps = (dihedral, trim, crops, forms, replace(forms, name="+reduced", reduced=True))
    return {step.name: step for step in steps}


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
