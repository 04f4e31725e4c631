#!/usr/bin/env python3
"""What the match policy costs a survivor's browser: the web page's hashing, timed in Chromium.

The survivor's page (service/static/js/policy.js) makes six or seven PDQ hashes per
image instead of one. This script serves service/static on 127.0.0.1, opens it
in Debian's Chromium (headless, through Playwright) and times, on the same
canonical pixels, in the same page:

- `baseline`: one plain PDQ hash (`pdqFromRGBA`), what HMA's default submits;
- `policy`: `submissionHashes`, all the policy's forms and their hashes;
- the policy's pixel steps alone: `trimBorders`, `erodedValue`, `reduced`, `clippedValue`.

The pixels are real photos (bsds500) resized with Pillow to a few sizes, up to
the largest that `hashing.load_image` (and the page's canonical.js) keeps. Prints medians per size and
the policy's ratio to the baseline. Decoding the file is not included (the
browser's decoder is the same for both).

    .venv/bin/python scripts/bench_browser.py [--repeat 7] [--photos 3]
"""

import argparse
import base64
import os
import platform
import statistics
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from PIL import Image
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "service" / "static"
BSDS = ROOT.parent / "shared" / "datasets" / "bsds500"
CHROMIUM = os.environ.get("HASHBANK_CHROMIUM", "/usr/bin/chromium")
# bsds500's own size; a 12 MP phone photo as `load_image` keeps it (4032 x 3024 / 4);
# about the largest 4:3 picture it keeps (shorter side just under 2 x MIN_SIDE).
SIZES = [(481, 321), (1008, 756), (1360, 1020)]
STEPS = ["baseline", "policy", "trimBorders", "erodedValue", "reduced", "clippedValue"]

TIME_IN_PAGE = """async ([rgb, width, height, repeat]) => {
  const policy = await import("/static/js/policy.js");
  const { pdqFromRGBA } = await import("/static/js/pdq.js");
  const raw = Uint8Array.from(atob(rgb), (c) => c.charCodeAt(0));
  const data = new Uint8ClampedArray(width * height * 4);
  for (let p = 0, q = 0; q < raw.length; p += 4, q += 3) {
    data[p] = raw[q]; data[p + 1] = raw[q + 1]; data[p + 2] = raw[q + 2]; data[p + 3] = 255;
  }
  const image = { data, width, height };
  const steps = {
    baseline: () => pdqFromRGBA(data, width, height),
    policy: () => policy.submissionHashes(image),
    trimBorders: () => policy.trimBorders(image),
    erodedValue: () => policy.erodedValue(image),
    reduced: () => policy.reduced(image),
    clippedValue: () => policy.clippedValue(image),
  };
  const out = {};
  for (const [name, step] of Object.entries(steps)) {
    step(); // warm up the JIT
    out[name] = [];
    for (let i = 0; i < repeat; i++) {
      const start = performance.now();
      step();
      out[name].push(performance.now() - start);
    }
  }
  out.hashes = policy.submissionHashes(image).length;
  return out;
}"""


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per step and photo")
    parser.add_argument("--photos", type=int, default=3, help="bsds500 photos per size")
    args = parser.parse_args()

    photos = sorted(BSDS.glob("*.jpg"))[: args.photos]
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(STATIC.parent)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_port}"
    print(
        f"# bench_browser: {len(photos)} bsds500 photos x {len(SIZES)} sizes, "
        f"{args.repeat} runs each ({platform.machine()}, {os.cpu_count()} cores, {CHROMIUM})"
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page()
        page.route(f"{origin}/bench", lambda route: route.fulfill(body="<!doctype html>"))
        page.goto(f"{origin}/bench")  # same origin as /static/, so modules import
        print(f"Chromium {browser.version}\n")
        print(
            "| size | hashes | baseline (1 PDQ) | policy | ratio "
            "| trimBorders | erodedValue | reduced | clippedValue |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        for width, height in SIZES:
            times: dict[str, list[float]] = {step: [] for step in STEPS}
            counts = []
            for path in photos:
                with Image.open(path) as im:
                    pixels = im.convert("RGB").resize((width, height), Image.Resampling.LANCZOS)
                rgb = base64.b64encode(pixels.tobytes()).decode()
                result = page.evaluate(TIME_IN_PAGE, [rgb, width, height, args.repeat])
                for step in STEPS:
                    times[step] += result[step]
                counts.append(result["hashes"])
            ms = {step: statistics.median(values) for step, values in times.items()}
            print(
                f"| {width}x{height} | {min(counts)}-{max(counts)} | {ms['baseline']:.1f} ms "
                f"| {ms['policy']:.1f} ms | x{ms['policy'] / ms['baseline']:.1f} "
                + "".join(f"| {ms[step]:.1f} ms " for step in STEPS[2:])
                + "|"
            )
        browser.close()
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
