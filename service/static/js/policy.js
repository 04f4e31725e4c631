// The match policy's submission side, for the survivor's browser: what the page
// submits per image. A rule-for-rule port of `hashing/policy.py` and
// `hashing/forms.py`, which are the source of truth (their module docstrings
// state the rules; change them there first, then here, and keep
// tests/browser/test_policy_js.py passing). The forms themselves are not listed
// here: they are the rows of the policy's table, `FORMS` in form-table.js,
// generated from `hashing.policy.FORMS`.
//
// 1. `trimBorders`: cut plain rows and columns (each of R, G, B varying by at most
//    TRIM_TOLERANCE along the line) off the edges, rows first, then columns over
//    the remaining rows; a side's run shorter than TRIM_MIN_RUN of the image is
//    kept; nothing is trimmed when every row is plain or the rest would be smaller
//    than max(TRIM_MIN_SIDE, TRIM_MIN_KEEP of the side).
// 2. The forms (`MAKERS`, by the rows' `form`): the picture itself (`whole`), a
//    centre crop at the row's `scale` (`centreCropBox`), the caption band
//    (`captionBandBox`: without the top and bottom BAND_FRACTION of rows), the
//    eroded value (`erodedValue`: max(R, G, B), then a k x k square minimum with
//    edge pixels repeated, k = max(3, floor(min(w, h) / ERODE_DIVISOR) | 1)), the
//    reduced form (`reduced`: the exact area average on a 64 x 64 grid, in
//    integers) and the clipped value (`clippedValue`: max(R, G, B) clamped at its
//    own CLIP_PERCENTILE), each of the row's `madeFrom` picture: the image as
//    given or the trimmed image.
// 3. `submissionHashes`: the rows whose `submitted` is not "no", the "required"
//    ones first, then the others in table order (`SUBMITTED`); when trimming did
//    not change the image, a row whose form and scale an earlier row has made is
//    skipped. PDQ of each form; one below the row's `minQuality` is left out, or,
//    for a required row, refuses the image (LowQualityImage); duplicates dropped,
//    first occurrence kept.
//
// Same constants, same arithmetic: crop offsets are floor(w * (1 - s) / 2) and
// sizes Python's round(w * s), which rounds halves to even (`roundHalfEven`).
// Both languages compute these in IEEE doubles, so the boxes are identical; PDQ
// (pdq.js) is bit-identical to Python's, so identical pixels give identical hashes.
//
// Images are {data, width, height}: row-major RGBA (alpha ignored; canonical
// images are opaque), as canonical.js returns them.

import { FORMS } from "./form-table.js";
import { pdqFromRGBA } from "./pdq.js";

export const MIN_QUALITY = 50; // hashing/pdq.py PDQ.min_quality
export const TRIM_TOLERANCE = 24;
export const TRIM_MIN_KEEP = 0.25;
export const TRIM_MIN_SIDE = 32;
export const TRIM_MIN_RUN = 0.02;
export const BAND_FRACTION = 0.15;
export const ERODE_DIVISOR = 60;
export const REDUCED_SIDE = 64;
export const CLIP_PERCENTILE = 60;

/** An image whose PDQ quality is below MIN_QUALITY (Python's LowQualityImage). */
export class LowQualityImage extends Error {
  constructor(quality) {
    super(`PDQ quality ${quality} is below ${MIN_QUALITY}`);
    this.name = "LowQualityImage";
    this.quality = quality;
  }
}

/** Python's round() on a float: to the nearest integer, halves to the even one. */
export function roundHalfEven(x) {
  const floor = Math.floor(x);
  const fraction = x - floor; // exact for the sizes involved
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

// Is every channel's max - min along the `count` pixels starting at byte `start`,
// `step` bytes apart, within the tolerance?
function plain(data, start, step, count, tolerance) {
  let r0 = 255, g0 = 255, b0 = 255, r1 = 0, g1 = 0, b1 = 0;
  for (let i = 0, p = start; i < count; i++, p += step) {
    const r = data[p], g = data[p + 1], b = data[p + 2];
    if (r < r0) r0 = r;
    if (r > r1) r1 = r;
    if (g < g0) g0 = g;
    if (g > g1) g1 = g;
    if (b < b0) b0 = b;
    if (b > b1) b1 = b;
  }
  return r1 - r0 <= tolerance && g1 - g0 <= tolerance && b1 - b0 <= tolerance;
}

// Keep a side's trim only if it is at least `fraction` of the image's size.
function minRun(start, end, size, fraction) {
  const least = size * fraction;
  return [start >= least ? start : 0, size - end >= least ? end : size];
}

/**
 * The box that `hashing.forms.trim_borders` keeps (step 1): {x0, y0, x1, y1},
 * exclusive ends; the whole image when nothing is trimmed.
 */
export function trimBorders({ data, width, height }, tolerance = TRIM_TOLERANCE, minRunFraction = TRIM_MIN_RUN) {
  const whole = { x0: 0, y0: 0, x1: width, y1: height };
  const rowBytes = width * 4;
  let top = 0;
  while (top < height && plain(data, top * rowBytes, 4, width, tolerance)) top++;
  let bottom = height;
  while (bottom > top && plain(data, (bottom - 1) * rowBytes, 4, width, tolerance)) bottom--;
  if (top >= bottom) return whole; // every row is plain: a blank picture, not a border
  const column = (x) => plain(data, top * rowBytes + x * 4, rowBytes, bottom - top, tolerance);
  let left = 0;
  while (left < width && column(left)) left++;
  let right = width;
  while (right > left && column(right - 1)) right--;
  [top, bottom] = minRun(top, bottom, height, minRunFraction);
  [left, right] = minRun(left, right, width, minRunFraction);
  if (top === 0 && bottom === height && left === 0 && right === width) return whole;
  const keptW = right - left;
  const keptH = bottom - top;
  if (keptW < Math.max(TRIM_MIN_SIDE, width * TRIM_MIN_KEEP) || keptH < Math.max(TRIM_MIN_SIDE, height * TRIM_MIN_KEEP)) {
    return whole;
  }
  return { x0: left, y0: top, x1: right, y1: bottom };
}

/** The box of `hashing.forms.centre_crop(image of width x height, scale)`. */
export function centreCropBox(width, height, scale) {
  return middleBox(width, height, scale, scale);
}

/** The box of `hashing.forms.middle_crop(image of w x h, width, height)`. */
export function middleBox(w, h, width, height) {
  const x0 = Math.trunc((w * (1 - width)) / 2);
  const y0 = Math.trunc((h * (1 - height)) / 2);
  return { x0, y0, x1: x0 + roundHalfEven(w * width), y1: y0 + roundHalfEven(h * height) };
}

/** The box of `hashing.forms.caption_band`: full width, without the top and bottom bands. */
export function captionBandBox(width, height) {
  const cut = Math.trunc(height * BAND_FRACTION);
  return { x0: 0, y0: cut, x1: width, y1: height - cut };
}

// Minimum over the `size` values centred on each one (odd size; the ends repeat),
// for `count` lines of `length` values, `step` apart within a line, `stride` apart
// between lines. As `hashing.forms._min_filter`: windows doubled in place, log2(size)
// passes instead of `size` comparisons per value (min is exact, so the result is
// Python's whatever the order).
function minFilter(values, count, length, step, stride, size) {
  const out = new Uint8Array(values.length);
  const radius = size >> 1;
  const padded = new Uint8Array(length + 2 * radius);
  for (let line = 0; line < count; line++) {
    const base = line * stride;
    for (let i = 0; i < padded.length; i++) {
      padded[i] = values[base + Math.min(length - 1, Math.max(0, i - radius)) * step];
    }
    // padded[i] becomes the minimum of the `width` values from i (forward, so
    // padded[i + width] still holds the previous pass's value when it is read).
    let width = 1;
    for (let valid = padded.length; 2 * width <= size; width *= 2) {
      valid -= width;
      for (let i = 0; i < valid; i++) {
        if (padded[i + width] < padded[i]) padded[i] = padded[i + width];
      }
    }
    // A window of `size` values is the union of two windows of `width` values.
    for (let i = 0, far = size - width; i < length; i++) {
      out[base + i * step] = Math.min(padded[i], padded[i + far]);
    }
  }
  return out;
}

// Each pixel's largest channel, max(R, G, B) (HSV's value), of RGBA pixels.
function largestChannel(data, count) {
  const value = new Uint8Array(count);
  for (let i = 0, p = 0; i < count; i++, p += 4) value[i] = Math.max(data[p], data[p + 1], data[p + 2]);
  return value;
}

// One channel of values as a grey RGBA image (R = G = B), as Python's convert("RGB").
function greyImage(values, width, height) {
  const out = new Uint8ClampedArray(width * height * 4);
  for (let i = 0, p = 0; i < values.length; i++, p += 4) {
    out[p] = out[p + 1] = out[p + 2] = values[i];
    out[p + 3] = 255;
  }
  return { data: out, width, height };
}

/**
 * `hashing.forms.eroded_value`: each pixel's largest channel, eroded by a k x k
 * square minimum, as a grey RGBA image (R = G = B).
 */
export function erodedValue({ data, width, height }) {
  const value = largestChannel(data, width * height);
  const size = Math.max(3, Math.trunc(Math.min(width, height) / ERODE_DIVISOR) | 1);
  const eroded = minFilter(minFilter(value, height, width, 1, width, size), width, height, width, 1, size);
  return greyImage(eroded, width, height);
}

/**
 * `hashing.forms.clipped_value`: each pixel's largest channel, clamped at its own
 * CLIP_PERCENTILE (the value at index (n - 1) * 60 // 100 of the sorted values),
 * as a grey RGBA image. A histogram finds that value exactly, without sorting.
 */
export function clippedValue({ data, width, height }) {
  const value = largestChannel(data, width * height);
  const counts = new Float64Array(256);
  for (let i = 0; i < value.length; i++) counts[value[i]] += 1;
  const rank = Math.floor(((value.length - 1) * CLIP_PERCENTILE) / 100);
  let ceiling = 0;
  for (let below = counts[0]; below <= rank; below += counts[++ceiling]);
  for (let i = 0; i < value.length; i++) if (value[i] > ceiling) value[i] = ceiling;
  return greyImage(value, width, height);
}

// Along an axis of `n` pixels, each pixel's cells: [cell, weight, cell, weight, ...],
// the weight being how much of the pixel lies in the cell, each pixel `side` units
// long and each cell `n` units (the units of `hashing.forms.reduced`).
function overlaps(n, side) {
  const list = [];
  for (let i = 0; i < n; i++) {
    const lo = i * side;
    const hi = lo + side;
    const cells = [];
    for (let j = Math.floor(lo / n); j < side && j * n < hi; j++) {
      const weight = Math.min(hi, (j + 1) * n) - Math.max(lo, j * n);
      if (weight > 0) cells.push(j, weight);
    }
    list.push(cells);
  }
  return list;
}

/**
 * `hashing.forms.reduced`: the exact area average of each channel on a
 * REDUCED_SIDE x REDUCED_SIDE grid, rounded half up, as an RGBA image. Python sums
 * each cell through prefix sums; here each pixel adds itself to its cells by its
 * overlap. Both are the same integer sums (every value stays below 2^53, so
 * doubles hold them exactly), hence the same pixels.
 */
export function reduced({ data, width, height }, side = REDUCED_SIDE) {
  const rowCells = overlaps(height, side);
  const columnCells = overlaps(width, side);
  const stride = width * 3;
  const rows = new Float64Array(side * stride); // cell row j, pixel x, channel
  for (let y = 0; y < height; y++) {
    const cells = rowCells[y];
    for (let k = 0; k < cells.length; k += 2) {
      const weight = cells[k + 1];
      for (let x = 0, p = y * width * 4, q = cells[k] * stride; x < width; x++, p += 4, q += 3) {
        rows[q] += weight * data[p];
        rows[q + 1] += weight * data[p + 1];
        rows[q + 2] += weight * data[p + 2];
      }
    }
  }
  const sums = new Float64Array(side * side * 3); // cell row j, cell column i, channel
  for (let x = 0; x < width; x++) {
    const cells = columnCells[x];
    for (let k = 0; k < cells.length; k += 2) {
      const weight = cells[k + 1];
      for (let j = 0; j < side; j++) {
        const from = j * stride + x * 3;
        const to = (j * side + cells[k]) * 3;
        sums[to] += weight * rows[from];
        sums[to + 1] += weight * rows[from + 1];
        sums[to + 2] += weight * rows[from + 2];
      }
    }
  }
  const area = width * height;
  const half = Math.floor(area / 2);
  const out = new Uint8ClampedArray(side * side * 4);
  for (let c = 0, p = 0; c < sums.length; c += 3, p += 4) {
    out[p] = Math.floor((sums[c] + half) / area);
    out[p + 1] = Math.floor((sums[c + 1] + half) / area);
    out[p + 2] = Math.floor((sums[c + 2] + half) / area);
    out[p + 3] = 255;
  }
  return { data: out, width: side, height: side };
}

/**
 * The pixels of `image` inside `box`, as Pillow's crop: what lies outside the image
 * is black (only possible for images under 10 pixels wide or high).
 */
export function crop({ data, width, height }, { x0, y0, x1, y1 }) {
  const w = x1 - x0;
  const h = y1 - y0;
  const out = new Uint8ClampedArray(w * h * 4);
  const from = Math.max(x0, 0);
  const to = Math.min(x1, width);
  for (let y = 0; y < h; y++) {
    const sy = y0 + y;
    if (sy < 0 || sy >= height || to <= from) continue;
    out.set(data.subarray((sy * width + from) * 4, (sy * width + to) * 4), (y * w + from - x0) * 4);
  }
  for (let i = 3; i < out.length; i += 4) out[i] = 255;
  return { data: out, width: w, height: h };
}

const isWhole = (box, { width, height }) =>
  box.x0 === 0 && box.y0 === 0 && box.x1 === width && box.y1 === height;

function pdq(image) {
  return pdqFromRGBA(image.data, image.width, image.height);
}

// How each form of a submitted row is made from its picture (hashing/form_table.py's
// kinds; the content block is queried only, so the page never makes it).
const MAKERS = Object.freeze({
  whole: (picture) => picture,
  "centre crop": (picture, row) => crop(picture, centreCropBox(picture.width, picture.height, row.scale)),
  "caption band": (picture) => crop(picture, captionBandBox(picture.width, picture.height)),
  "eroded value": (picture) => erodedValue(picture),
  reduced: (picture) => reduced(picture),
  "clipped value": (picture) => clippedValue(picture),
});

/** `hashing.policy.MatchPolicy.rows("submitted")`: the rows hashed, in order. */
export const SUBMITTED = Object.freeze([
  ...FORMS.filter((row) => row.submitted === "required"),
  ...FORMS.filter((row) => row.submitted === "yes"),
]);

// A row's form with its scale: rows with the same one make the same form.
const formName = (row) => (row.scale === undefined ? row.form : `${row.form} ${row.scale}`);

/**
 * What a survivor submits for one canonical image (`hashing.policy.submission_hashes`):
 * [{hash, quality}], in Python's order, duplicates dropped. Throws LowQualityImage
 * when the image itself (trimmed, or untrimmed when trimming changed it) is below
 * quality 50.
 */
export function submissionHashes(image) {
  const box = trimBorders(image);
  const trimmed = isWhole(box, image) ? image : crop(image, box);
  const made = new Set();
  const hashes = [];
  for (const row of SUBMITTED) {
    if (trimmed === image && made.has(formName(row))) continue; // the same form again
    made.add(formName(row));
    const make = MAKERS[row.form];
    if (!make) throw new Error(`policy.js cannot make the ${row.form} form`);
    const result = pdq(make(row.madeFrom === "trimmed" ? trimmed : image, row));
    if (result.quality >= row.minQuality) hashes.push(result);
    else if (row.submitted === "required") throw new LowQualityImage(result.quality);
  }
  const seen = new Set();
  return hashes
    .filter(({ hash }) => !seen.has(hash) && seen.add(hash))
    .map(({ hash, quality }) => ({ hash, quality }));
}
