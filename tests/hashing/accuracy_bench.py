"""Run `scripts/bench_accuracy.py` on a few photos, for the tests of the benchmark."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def photo_folder(tmp_path: Path, photos: list[Path]) -> Path:
    """A folder of copies of `photos`, as the benchmark takes its sets."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for path in photos:
        (folder / path.name).write_bytes(path.read_bytes())
    return folder


def run_bench(folder: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """The benchmark on `folder` with `options`, its output captured (it must succeed)."""
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "bench_accuracy.py"), str(folder), *options],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result
