"""The browser benchmark (scripts/bench_browser.py) runs end to end and times the real page code."""

import re
import subprocess
import sys

from PIL import Image

from hashing.policy import submission_hashes
from tests.conftest import BSDS500, REPO


def test_bench_browser_smoke() -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "bench_browser.py"),
            "--repeat",
            "1",
            "--photos",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = re.findall(
        r"^\| (\d+)x(\d+) \| (\d+)-(\d+) \| ([\d.]+) ms \| ([\d.]+) ms \|", result.stdout, re.M
    )
    assert len(rows) == 3, result.stdout
    photo = sorted(BSDS500.glob("*.jpg"))[0]
    for width, height, fewest, most, *_times in rows:
        with Image.open(photo) as image:
            pixels = image.convert("RGB").resize(
                (int(width), int(height)), Image.Resampling.LANCZOS
            )
        # The page made as many hashes as Python's policy does from the same pixels.
        assert int(fewest) == int(most) == len(submission_hashes(pixels))
