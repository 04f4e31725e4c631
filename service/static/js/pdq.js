// PDQ, Meta's 256-bit perceptual hash, in plain JavaScript for the survivor's
// browser. It mirrors Meta's reference C++ (facebook/ThreatExchange, pdq/cpp),
// which is also what the Python side runs (the `pdqhash` package), step for step
// and in single precision, so that a browser hash equals the Python hash of the
// same pixels:
//
//   RGB -> luma (0.299 R + 0.587 G + 0.114 B, computed like pdqhash: in double,
//   stored as float32) -> two passes of a Jarosz box filter along rows then
//   columns (window = ceil(size / 128)) -> decimation to 64x64 (sample centres)
//   -> quality from the 64x64 gradients -> 16x16 DCT (coefficients 1..16)
//   -> bit set where a coefficient exceeds the median (Torben's, i.e. the 128th
//   smallest) -> 64 hex digits, bit 255 first (pdqhash / Hash256::format order).
//
// No dependencies and no I/O: it works in a page, a Web Worker or Node.
// Every float32 operation of the reference is reproduced with Math.fround
// (float32 +,-,*,/ are exactly the double result rounded to float32).

const fround = Math.fround;

/** Images smaller than this on either side hash to all zeros, quality 0 (as the reference). */
export const MIN_HASHABLE_DIM = 5;

/** Order of pdqDihedralFromRGBA's hashes: that of `hashing/pdq.py` DIHEDRAL_NAMES. */
export const DIHEDRAL_NAMES = Object.freeze([
  "original",
  "rotate-90",
  "rotate-180",
  "rotate-270",
  "flip-x",
  "flip-y",
  "flip-plus-1",
  "flip-minus-1",
]);

const LUMA_R = 0.299;
const LUMA_G = 0.587;
const LUMA_B = 0.114;
const JAROSZ_PASSES = 2;

// 16x64 DCT-II matrix, rows 1..16 (row 0, the DC term, is not used), float32
// like the reference: float(sqrt(2/64)) * cos((pi/2/64) * (i+1) * (2j+1)).
const DCT = (() => {
  const matrix = new Float32Array(16 * 64);
  const scale = fround(Math.sqrt(2.0 / 64));
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 64; j++) {
      matrix[i * 64 + j] = scale * Math.cos((Math.PI / 2.0 / 64) * (i + 1) * (2 * j + 1));
    }
  }
  return matrix;
})();

/**
 * Luma of an RGBA (or RGB, with `channels` 3) pixel buffer, row-major, as float32.
 * Alpha is ignored: composite transparent images first (canonical.js does).
 */
export function lumaFromRGBA(data, width, height, channels = 4) {
  const count = width * height;
  if (!(count > 0) || data.length < count * channels) {
    throw new RangeError(`pixel buffer too small for ${width}x${height}x${channels}`);
  }
  const luma = new Float32Array(count);
  for (let p = 0, q = 0; p < count; p++, q += channels) {
    luma[p] = data[q] * LUMA_R + data[q + 1] * LUMA_G + data[q + 2] * LUMA_B;
  }
  return luma;
}

/** The reference's computeJaroszFilterWindowSize(old, 64): ceil(old / 128). */
export function jaroszWindowSize(oldDimension, newDimension = 64) {
  return Math.trunc((oldDimension + 2 * newDimension - 1) / (2 * newDimension));
}

// One 1-D box filter pass of `length` samples `stride` apart: the reference's
// box1DFloat, including its shrinking windows at both ends.
function box1D(input, output, offset, length, stride, windowSize) {
  const half = Math.trunc((windowSize + 2) / 2);
  const phase1 = half - 1;
  const phase2 = windowSize - half + 1;
  const phase3 = length - windowSize;
  const phase4 = half - 1;
  let li = offset;
  let ri = offset;
  let oi = offset;
  let sum = 0;
  let current = 0;
  for (let i = 0; i < phase1; i++) {
    sum = fround(sum + input[ri]);
    current++;
    ri += stride;
  }
  for (let i = 0; i < phase2; i++) {
    sum = fround(sum + input[ri]);
    current++;
    output[oi] = sum / current;
    ri += stride;
    oi += stride;
  }
  for (let i = 0; i < phase3; i++) {
    sum = fround(sum + input[ri]);
    sum = fround(sum - input[li]);
    output[oi] = sum / current;
    li += stride;
    ri += stride;
    oi += stride;
  }
  for (let i = 0; i < phase4; i++) {
    sum = fround(sum - input[li]);
    current--;
    output[oi] = sum / current;
    li += stride;
    oi += stride;
  }
}

// Two passes of (rows, then columns); the result ends in buffer1, like the reference.
function jaroszFilter(buffer1, buffer2, rows, cols, windowAlongRows, windowAlongCols) {
  for (let pass = 0; pass < JAROSZ_PASSES; pass++) {
    for (let i = 0; i < rows; i++) box1D(buffer1, buffer2, i * cols, cols, 1, windowAlongRows);
    for (let j = 0; j < cols; j++) box1D(buffer2, buffer1, j, rows, cols, windowAlongCols);
  }
}

// Sample the centres of a 64x64 grid.
function decimate(input, rows, cols) {
  const out = new Float32Array(64 * 64);
  for (let oi = 0; oi < 64; oi++) {
    const ii = Math.trunc(((oi + 0.5) * rows) / 64);
    for (let oj = 0; oj < 64; oj++) {
      const ij = Math.trunc(((oj + 0.5) * cols) / 64);
      out[oi * 64 + oj] = input[ii * cols + ij];
    }
  }
  return out;
}

/** PDQ quality (0..100) of a 64x64 float32 block: the reference's gradient heuristic. */
export function qualityFrom64x64(block) {
  let gradientSum = 0;
  const step = (u, v) => Math.abs(Math.trunc(fround(fround(fround(u - v) * 100) / 255)));
  for (let i = 0; i < 63; i++) {
    for (let j = 0; j < 64; j++) gradientSum += step(block[i * 64 + j], block[(i + 1) * 64 + j]);
  }
  for (let i = 0; i < 64; i++) {
    for (let j = 0; j < 63; j++) gradientSum += step(block[i * 64 + j], block[i * 64 + j + 1]);
  }
  return Math.min(100, Math.trunc(gradientSum / 90));
}

// B = D A D^T with D the 16x64 DCT matrix, accumulated in float32 in the
// reference's order.
function dct64To16(block) {
  const temp = new Float32Array(16 * 64);
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 64; j++) {
      let sum = 0;
      for (let k = 0; k < 64; k++) sum = fround(sum + fround(DCT[i * 64 + k] * block[k * 64 + j]));
      temp[i * 64 + j] = sum;
    }
  }
  const out = new Float32Array(16 * 16);
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 16; j++) {
      let sum = 0;
      for (let k = 0; k < 64; k++) sum = fround(sum + fround(temp[i * 64 + k] * DCT[j * 64 + k]));
      out[i * 16 + j] = sum;
    }
  }
  return out;
}

/**
 * The 16x16 float32 DCT coefficients (row-major) and quality of a luma image.
 * `null` coefficients when the image is below MIN_HASHABLE_DIM.
 * The luma buffer is overwritten (it is the filter's working buffer).
 */
export function pdqFloat256FromLuma(luma, width, height) {
  if (height < MIN_HASHABLE_DIM || width < MIN_HASHABLE_DIM) {
    return { coefficients: null, quality: 0 };
  }
  let block;
  if (width === 64 && height === 64) {
    block = Float32Array.from(luma); // already 64x64: no blur, as the reference
  } else {
    block = blurAndDecimate(luma, width, height);
  }
  return { coefficients: dct64To16(block), quality: qualityFrom64x64(block) };
}

function blurAndDecimate(luma, width, height) {
  const scratch = new Float32Array(width * height);
  jaroszFilter(luma, scratch, height, width, jaroszWindowSize(width), jaroszWindowSize(height));
  return decimate(luma, height, width);
}

/** Hex of 16x16 coefficients: bit i*16+j is set when (i,j) exceeds the median; bit 255 first. */
export function hexFromCoefficients(coefficients) {
  const sorted = Float32Array.from(coefficients).sort();
  const median = sorted[127]; // Torben's median of 256 values: the 128th smallest
  let hex = "";
  for (let k = 255; k >= 0; k -= 4) {
    let nibble = 0;
    for (let b = 0; b < 4; b++) nibble = (nibble << 1) | (coefficients[k - b] > median ? 1 : 0);
    hex += nibble.toString(16);
  }
  return hex;
}

const ZERO_HASH = "0".repeat(64);

// The 8 dihedral transforms act on the DCT coefficients directly (the
// reference's dct16OriginalTo*): a sign pattern, with or without transposing.
const DIHEDRAL_TRANSFORMS = [
  { transpose: false, negate: () => false }, // original
  { transpose: true, negate: (i, j) => (j & 1) === 0 }, // rotate 90
  { transpose: false, negate: (i, j) => ((i + j) & 1) === 1 }, // rotate 180
  { transpose: true, negate: (i) => (i & 1) === 0 }, // rotate 270
  { transpose: false, negate: (i) => (i & 1) === 0 }, // flip x
  { transpose: false, negate: (i, j) => (j & 1) === 0 }, // flip y
  { transpose: true, negate: () => false }, // flip plus 1
  { transpose: true, negate: (i, j) => ((i + j) & 1) === 1 }, // flip minus 1
];

function transformCoefficients(a, { transpose, negate }) {
  const b = new Float32Array(256);
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 16; j++) {
      const value = negate(i, j) ? -a[i * 16 + j] : a[i * 16 + j];
      b[transpose ? j * 16 + i : i * 16 + j] = value;
    }
  }
  return b;
}

/** PDQ of a float32 luma image (overwritten): {hash: 64 hex, quality: 0..100}. */
export function pdqFromLuma(luma, width, height) {
  const { coefficients, quality } = pdqFloat256FromLuma(luma, width, height);
  return { hash: coefficients ? hexFromCoefficients(coefficients) : ZERO_HASH, quality };
}

/**
 * PDQ of an RGBA pixel buffer (e.g. ImageData.data), row-major, alpha ignored.
 * @returns {{hash: string, quality: number}} 64 lowercase hex digits, quality 0..100
 */
export function pdqFromRGBA(data, width, height) {
  return pdqFromLuma(lumaFromRGBA(data, width, height), width, height);
}

/**
 * The 8 hashes of the image's rotations and flips, in DIHEDRAL_NAMES order
 * (that of pdqhash.compute_dihedral); hashes[0] is the image's own hash.
 * @returns {{hashes: string[], quality: number}}
 */
export function pdqDihedralFromRGBA(data, width, height) {
  const luma = lumaFromRGBA(data, width, height);
  if (height < MIN_HASHABLE_DIM || width < MIN_HASHABLE_DIM) {
    return { hashes: DIHEDRAL_TRANSFORMS.map(() => ZERO_HASH), quality: 0 };
  }
  // The reference's dihedral path filters even a 64x64 input (no shortcut).
  const block = blurAndDecimate(luma, width, height);
  const coefficients = dct64To16(block);
  return {
    hashes: DIHEDRAL_TRANSFORMS.map((t) => hexFromCoefficients(transformCoefficients(coefficients, t))),
    quality: qualityFrom64x64(block),
  };
}

const POPCOUNT4 = [0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4];

/** Hamming distance between two hex hashes of the same length. */
export function hammingDistance(a, b) {
  if (a.length !== b.length) throw new RangeError("hashes differ in length");
  let distance = 0;
  for (let i = 0; i < a.length; i++) {
    distance += POPCOUNT4[parseInt(a[i], 16) ^ parseInt(b[i], 16)];
  }
  return distance;
}
