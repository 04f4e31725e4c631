// Canonical image loading in the browser: the JavaScript mirror of
// `hashing/loading.py`, so that a hash made on the survivor's page matches the
// hash the Python client or the service makes of the same file.
//
// 1. Refuse empty files, and anything that declares more than `maxPixels`
//    (100 MP) in its header, before decoding it (decompression bombs).
// 2. Decode with the browser (first frame of animations), EXIF orientation
//    applied as displayed, colour profile ignored (Pillow ignores it too).
// 3. Composite transparency over white.
// 4. Reduce large images by a power of two, `reductionFactor`, so the shorter
//    side stays at least MIN_SIDE pixels, with a box filter (Pillow's `reduce`;
//    for JPEGs Python decodes at that scale with libjpeg's DCT scaling, which a
//    box filter approximates to well within PDQ's tolerance). The boxes are
//    aligned on the stored pixel grid, as Python reduces before it rotates.
//
// Works in a page or a Web Worker (needs createImageBitmap and OffscreenCanvas).
// Returns {data: Uint8ClampedArray RGBA (alpha 255), width, height, ...}.

export const MIN_SIDE = 512;
export const MAX_REDUCTION = 8; // libjpeg scales by 1/2, 1/4 and 1/8
export const DEFAULT_MAX_PIXELS = 100_000_000; // ~100 MP: above any phone camera, far below a bomb

// Rows of the decoded image drawn and read back at a time: bounds the memory
// used next to the decoded bitmap and gives progress steps.
const STRIP_PIXELS = 4_000_000;

/** An image that cannot be hashed, with a plain-language `reason` and a `code`. */
export class ImageError extends Error {
  constructor(code, reason) {
    super(reason);
    this.name = "ImageError";
    this.code = code; // "empty" | "unreadable" | "unsupported-format" | "too-large" | "browser"
    this.reason = reason;
  }
}

/** The power of two (1, 2, 4 or 8) to shrink by, keeping the shorter side >= MIN_SIDE. */
export function reductionFactor(width, height) {
  let factor = 1;
  while (factor < MAX_REDUCTION && Math.min(width, height) >= MIN_SIDE * factor * 2) {
    factor *= 2;
  }
  return factor;
}

function tooLarge(maxPixels, width, height) {
  const n = (value) => value.toLocaleString("en-US");
  const size = width && height ? `${width}x${height} = ${n(width * height)} pixels` : "too many pixels";
  return new ImageError("too-large", `image is too large: ${size}, the limit is ${n(maxPixels)}`);
}

// ---------------------------------------------------------------------------
// Header sniffing: format, declared size, completeness, EXIF orientation.

const HEIF_BRANDS = new Set(["heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs", "mif1", "msf1"]);
const AVIF_BRANDS = new Set(["avif", "avis"]);

function ascii(bytes, start, length) {
  let text = "";
  for (let i = start; i < start + length && i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
  return text;
}

/**
 * What the file's header says: {format, width?, height?, truncated?, orientation?}.
 * `format` is null when the bytes are no image format we know.
 */
export function sniffImage(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = bytes.length;
  if (length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
    return sniffJpeg(bytes, view);
  }
  if (length >= 24 && ascii(bytes, 1, 3) === "PNG" && bytes[0] === 0x89) {
    return { format: "png", width: view.getUint32(16), height: view.getUint32(20), truncated: pngTruncated(bytes, view) };
  }
  if (length >= 10 && ascii(bytes, 0, 4) === "GIF8") {
    return { format: "gif", width: view.getUint16(6, true), height: view.getUint16(8, true) };
  }
  if (length >= 16 && ascii(bytes, 0, 4) === "RIFF" && ascii(bytes, 8, 4) === "WEBP") {
    return sniffWebp(bytes, view);
  }
  if (length >= 26 && ascii(bytes, 0, 2) === "BM") {
    return { format: "bmp", width: Math.abs(view.getInt32(18, true)), height: Math.abs(view.getInt32(22, true)) };
  }
  if (length >= 12 && ascii(bytes, 4, 4) === "ftyp") {
    return sniffIsoMedia(bytes, view);
  }
  if (length >= 4 && (ascii(bytes, 0, 4) === "II*\0" || ascii(bytes, 0, 4) === "MM\0*")) {
    return { format: "tiff" };
  }
  return { format: null };
}

const SOF_MARKERS = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

function sniffJpeg(bytes, view) {
  const result = { format: "jpeg", truncated: true, orientation: 1 };
  let i = 2;
  while (i + 2 <= bytes.length) {
    if (bytes[i] !== 0xff) {
      // Entropy-coded data after a start of scan: skip to the next real marker.
      i++;
      continue;
    }
    const marker = bytes[i + 1];
    if (marker === 0xff || marker === 0x00 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      i += marker === 0xff ? 1 : 2; // fill byte, stuffed zero, restart marker, TEM
      continue;
    }
    if (marker === 0xd9) {
      result.truncated = false; // end of image reached
      break;
    }
    if (i + 4 > bytes.length) break;
    const segment = view.getUint16(i + 2);
    if (SOF_MARKERS.has(marker) && result.width === undefined && i + 9 <= bytes.length) {
      result.height = view.getUint16(i + 5);
      result.width = view.getUint16(i + 7);
    } else if (marker === 0xe1 && result.orientation === 1 && ascii(bytes, i + 4, 4) === "Exif") {
      result.orientation = exifOrientation(view, i + 10, Math.min(bytes.length, i + 2 + segment));
    }
    i += 2 + segment;
  }
  return result;
}

// The orientation tag (0x0112) of IFD0 in a TIFF structure at [start, end); 1 if absent or damaged.
function exifOrientation(view, start, end) {
  try {
    const little = view.getUint16(start) === 0x4949;
    const ifd = start + view.getUint32(start + 4, little);
    const count = view.getUint16(ifd, little);
    for (let k = 0; k < count; k++) {
      const entry = ifd + 2 + k * 12;
      if (entry + 12 > end) break;
      if (view.getUint16(entry, little) === 0x0112) {
        const value = view.getUint16(entry + 8, little);
        return value >= 1 && value <= 8 ? value : 1;
      }
    }
  } catch {
    // A damaged EXIF block must not make the whole image unhashable.
  }
  return 1;
}

function pngTruncated(bytes, view) {
  let i = 8;
  while (i + 8 <= bytes.length) {
    const size = view.getUint32(i);
    if (ascii(bytes, i + 4, 4) === "IEND") return false;
    i += 12 + size;
  }
  return true;
}

function sniffWebp(bytes, view) {
  const result = { format: "webp", truncated: view.getUint32(4, true) + 8 > bytes.length };
  const chunk = ascii(bytes, 12, 4);
  if (chunk === "VP8 " && bytes.length >= 30) {
    result.width = view.getUint16(26, true) & 0x3fff;
    result.height = view.getUint16(28, true) & 0x3fff;
  } else if (chunk === "VP8L" && bytes.length >= 25) {
    const bits = view.getUint32(21, true);
    result.width = (bits & 0x3fff) + 1;
    result.height = ((bits >>> 14) & 0x3fff) + 1;
  } else if (chunk === "VP8X" && bytes.length >= 30) {
    result.width = 1 + (bytes[24] | (bytes[25] << 8) | (bytes[26] << 16));
    result.height = 1 + (bytes[27] | (bytes[28] << 8) | (bytes[29] << 16));
  }
  return result;
}

function sniffIsoMedia(bytes, view) {
  const boxSize = Math.min(view.getUint32(0), bytes.length);
  const brands = [ascii(bytes, 8, 4)];
  for (let i = 16; i + 4 <= boxSize; i += 4) brands.push(ascii(bytes, i, 4));
  let format = null;
  if (brands.some((b) => AVIF_BRANDS.has(b))) format = "avif";
  else if (brands.some((b) => HEIF_BRANDS.has(b))) format = "heif";
  if (format === null) return { format: null };
  // Image spatial extents ('ispe') of the items: the largest is the full image.
  const result = { format };
  const limit = Math.min(bytes.length - 20, 1 << 20);
  for (let i = 4; i < limit; i++) {
    if (bytes[i] === 0x69 && ascii(bytes, i, 4) === "ispe") {
      const width = view.getUint32(i + 8);
      const height = view.getUint32(i + 12);
      if (!(width * height <= (result.width ?? 0) * (result.height ?? 0))) {
        result.width = width;
        result.height = height;
      }
    }
  }
  return result;
}

// ---------------------------------------------------------------------------
// Decoding and reduction.

function decodeFailure(header) {
  if (header.format === "heif") {
    return new ImageError(
      "unsupported-format",
      "this browser cannot open HEIC/HEIF photos: hash them with the hashbank app, " +
        "or save a JPEG copy of the photo and choose that",
    );
  }
  if (header.format === "avif" || header.format === "tiff") {
    return new ImageError(
      "unsupported-format",
      `this browser cannot open ${header.format.toUpperCase()} images: hash them with the hashbank app, ` +
        "or save a JPEG copy and choose that",
    );
  }
  if (header.format === null) {
    return new ImageError("unreadable", "not an image, or a format this browser cannot read");
  }
  return new ImageError("unreadable", "image file is truncated or damaged");
}

// Where the stored pixel grid's origin lands once the EXIF orientation is applied.
const ORIGIN_ON_RIGHT = new Set([2, 3, 6, 7]);
const ORIGIN_AT_BOTTOM = new Set([3, 4, 7, 8]);

/**
 * Decode `blob` to canonical RGBA pixels (alpha 255), reduced and oriented like
 * `hashing.load_image`.
 *
 * @param {Blob} blob the image file
 * @param {{maxPixels?: number, onProgress?: (fraction: number) => void}} [options]
 * @returns {Promise<{data: Uint8ClampedArray, width: number, height: number,
 *   sourceWidth: number, sourceHeight: number, factor: number, format: string|null}>}
 * @throws {ImageError} with a plain-language `reason` for anything that cannot be hashed
 */
export async function loadCanonicalImage(blob, { maxPixels = DEFAULT_MAX_PIXELS, onProgress } = {}) {
  const progress = onProgress ?? (() => {});
  if (typeof createImageBitmap !== "function" || typeof OffscreenCanvas !== "function") {
    throw new ImageError("browser", "this browser is too old to hash images here: please update it or use the hashbank app");
  }
  if (!blob || blob.size === 0) throw new ImageError("empty", "file is empty");
  const bytes = new Uint8Array(await blob.arrayBuffer());
  const header = sniffImage(bytes);
  // Refuse a bomb before the browser decodes it (a size of 0 means "declared later": decode).
  if (header.width * header.height > maxPixels) throw tooLarge(maxPixels, header.width, header.height);
  if (header.truncated) throw new ImageError("unreadable", "image file is truncated or damaged");
  progress(0.1);

  let bitmap;
  try {
    bitmap = await createImageBitmap(blob, {
      imageOrientation: "from-image",
      colorSpaceConversion: "none",
      premultiplyAlpha: "premultiply",
    });
  } catch {
    throw decodeFailure(header);
  }
  try {
    const { width, height } = bitmap;
    if (width <= 0 || height <= 0) throw new ImageError("unreadable", "image has no pixels");
    if (width * height > maxPixels) throw tooLarge(maxPixels, width, height);
    progress(0.4);
    const factor = reductionFactor(width, height);
    const orientation = header.orientation ?? 1;
    const pixels = reduceOverWhite(bitmap, factor, {
      alignRight: ORIGIN_ON_RIGHT.has(orientation),
      alignBottom: ORIGIN_AT_BOTTOM.has(orientation),
      onProgress: (f) => progress(0.4 + 0.6 * f),
    });
    return { ...pixels, sourceWidth: width, sourceHeight: height, factor, format: header.format };
  } finally {
    bitmap.close();
  }
}

// Draw the bitmap over white strip by strip and box-filter it by `factor`
// (round half up, as Pillow's reduce). Partial boxes at the edges average the
// pixels they have; they sit where the stored image's last row/column is.
function reduceOverWhite(bitmap, factor, { alignRight, alignBottom, onProgress }) {
  const { width, height } = bitmap;
  const outWidth = Math.ceil(width / factor);
  const outHeight = Math.ceil(height / factor);
  const out = new Uint8ClampedArray(outWidth * outHeight * 4);
  // Offset of the box grid: boxes start at x = -shiftX (a partial first box).
  const shiftX = alignRight && width % factor ? factor - (width % factor) : 0;
  const shiftY = alignBottom && height % factor ? factor - (height % factor) : 0;

  const boxRowsPerStrip = Math.max(1, Math.floor(STRIP_PIXELS / (width * factor)));
  const canvas = new OffscreenCanvas(width, Math.min(height, boxRowsPerStrip * factor));
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.imageSmoothingEnabled = false;
  const sums = new Uint32Array(outWidth * 3);
  const counts = new Uint32Array(outWidth);
  // Column -> output column, once.
  const columnBox = new Uint32Array(width);
  for (let x = 0; x < width; x++) columnBox[x] = Math.floor((x + shiftX) / factor);

  for (let outRow = 0; outRow < outHeight; outRow += boxRowsPerStrip) {
    const lastOutRow = Math.min(outHeight, outRow + boxRowsPerStrip);
    const y0 = Math.max(0, outRow * factor - shiftY);
    const y1 = Math.min(height, lastOutRow * factor - shiftY);
    const rows = y1 - y0;
    context.fillStyle = "#ffffff";
    context.fillRect(0, 0, width, rows);
    context.drawImage(bitmap, 0, y0, width, rows, 0, 0, width, rows);
    const strip = context.getImageData(0, 0, width, rows).data;
    for (let r = outRow; r < lastOutRow; r++) {
      const top = Math.max(0, r * factor - shiftY);
      const bottom = Math.min(height, (r + 1) * factor - shiftY);
      sums.fill(0);
      counts.fill(0);
      for (let y = top; y < bottom; y++) {
        let p = (y - y0) * width * 4;
        for (let x = 0; x < width; x++, p += 4) {
          const box = columnBox[x];
          sums[box * 3] += strip[p];
          sums[box * 3 + 1] += strip[p + 1];
          sums[box * 3 + 2] += strip[p + 2];
          counts[box]++;
        }
      }
      let q = r * outWidth * 4;
      for (let box = 0; box < outWidth; box++, q += 4) {
        const n = counts[box];
        const half = n >>> 1;
        out[q] = Math.floor((sums[box * 3] + half) / n);
        out[q + 1] = Math.floor((sums[box * 3 + 1] + half) / n);
        out[q + 2] = Math.floor((sums[box * 3 + 2] + half) / n);
        out[q + 3] = 255;
      }
    }
    onProgress(lastOutRow / outHeight);
  }
  return { data: out, width: outWidth, height: outHeight };
}
