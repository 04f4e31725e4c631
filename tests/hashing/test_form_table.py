"""The table of forms (`hashing.policy.FORMS`) and what is derived from it.

The hashes it gives are frozen in test_policy_frozen.py; here, the rest: the counts
and scales, the row order of each side, the files generated for the web page and the
docs (`scripts/write_form_table.py --check`) and the OpenAPI description.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hashing import DIHEDRAL_NAMES
from hashing.policy import (
    CROP_SCALES,
    DEFAULT_POLICY,
    FORMS,
    MAX_QUERY_HASHES,
    QUERY_CROP_SCALES,
    FormRow,
    MatchPolicy,
    Use,
)
from service.api.schemas import MatchItemIn

ROOT = Path(__file__).resolve().parents[2]
FORM_TABLE_JS = ROOT / "service" / "static" / "js" / "form-table.js"


def test_the_generated_files_are_current() -> None:
    """form-table.js and the list in docs/web-page.md are what the table gives now."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "write_form_table.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_page_reads_the_python_table() -> None:
    rows = re.findall(r"^ +(\{.*\}),$", FORM_TABLE_JS.read_text(), re.MULTILINE)
    assert [json.loads(row) for row in rows] == [row.data() for row in FORMS]


def test_counts_and_scales_are_those_of_the_rows() -> None:
    queried = [row for row in FORMS if row.queried is not Use.NO]
    assert MAX_QUERY_HASHES == len(DIHEDRAL_NAMES) * len(queried) == 64
    assert CROP_SCALES == (0.9, 0.8)
    assert QUERY_CROP_SCALES == (0.8,)


def test_each_side_hashes_its_required_rows_first() -> None:
    submitted = DEFAULT_POLICY.rows("submitted")
    queried = DEFAULT_POLICY.rows("queried")
    assert [(r.form, r.made_from) for r in submitted[:2]] == [
        ("whole", "trimmed"),
        ("whole", "image"),
    ]
    assert (queried[0].form, queried[0].made_from) == ("whole", "image")  # the item's `hash`
    assert [r.queried for r in queried[1:]] == [Use.YES] * (len(queried) - 1)
    assert [r for r in FORMS if r in queried[1:]] == queried[1:]  # then in table order


def test_the_switches_leave_rows_out() -> None:
    plain = MatchPolicy(crop_scales=(), query_crop_scales=(), forms=False, reduced=False)
    assert [r.form for r in plain.rows("submitted")] == ["whole", "whole", "clipped value"]
    assert [r.form for r in plain.rows("queried")] == [
        "whole",
        "whole",
        "content block",
        "clipped value",
    ]
    assert [r.scale for r in MatchPolicy(crop_scales=(0.8,)).rows("submitted")].count(0.8) == 2
    with pytest.raises(ValueError, match="centre crops must be some of"):
        MatchPolicy(crop_scales=(0.7,))  # a new crop is a new row


def test_rows_are_checked() -> None:
    with pytest.raises(ValueError, match="no such form"):
        FormRow("mirror", "image", Use.YES, Use.YES, "for nothing")
    with pytest.raises(ValueError, match="has a scale"):
        FormRow("centre crop", "image", Use.YES, Use.YES, "for a crop")
    with pytest.raises(ValueError, match="has a scale"):
        FormRow("reduced", "image", Use.YES, Use.YES, "for a texture", scale=0.5)


def test_descriptions_say_when_a_form_is_kept() -> None:
    submitted = DEFAULT_POLICY.describe("submitted")
    assert len(submitted) == len(DEFAULT_POLICY.rows("submitted"))
    assert submitted[1] == (
        "the image as given (when trimming changed the image; "
        "below PDQ quality 50 the image is refused)"
    )
    assert (
        submitted[-1]
        == "the clipped value form of the image as given (kept at PDQ quality 70 or more)"
    )
    untrimmed = MatchPolicy(trim=False).describe("submitted")
    assert not [d for d in untrimmed if "when trimming" in d]
    assert len(untrimmed) == len(submitted) - 1 - len(CROP_SCALES)


def test_the_openapi_description_lists_the_queried_forms() -> None:
    description = MatchItemIn.model_fields["variants"].description or ""
    for form in DEFAULT_POLICY.describe("queried")[1:]:
        assert form in description
    assert "the content block of the image as given (when it has one)" in description
