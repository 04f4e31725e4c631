// A video frame's other forms that a survivor submits beside its vPDQ hash, as
// `hashing/video_forms.py` (SUBMITTED) makes them: the frame with its plain
// borders trimmed (plain runs down to 0.5% of a side), the centre 90% and 80%
// of the trimmed frame, and its middle 90% on one axis only (a cropped copy of a
// letterboxed or pillarboxed video). They let a cropped or letterboxed re-post
// match; the service counts them as their frame (`variant: true`).
//
//   frameVariants(image, mainHex) -> [hex, ...]
//
// `image` is {data: RGBA bytes, width, height} at the frame's own size; `mainHex`
// the frame's own PDQ hash. Forms below quality 50, equal to the frame's hash or
// to an earlier form are left out, in Python's order.

import { pdqFromRGBA } from "./pdq.js";
import { centreCropBox, crop, middleBox, MIN_QUALITY, trimBorders, TRIM_TOLERANCE } from "./policy.js";

export const FRAME_TRIM_MIN_RUN = 0.005; // hashing/video_forms.py FRAME_TRIM_MIN_RUN

export function frameVariants(image, mainHex) {
  const box = trimBorders(image, TRIM_TOLERANCE, FRAME_TRIM_MIN_RUN);
  const bars = !(box.x0 === 0 && box.y0 === 0 && box.x1 === image.width && box.y1 === image.height);
  const trimmed = bars ? crop(image, box) : image;
  const { width, height } = trimmed;
  const forms = bars ? [trimmed] : [];
  forms.push(crop(trimmed, centreCropBox(width, height, 0.9)));
  forms.push(crop(trimmed, centreCropBox(width, height, 0.8)));
  forms.push(crop(trimmed, middleBox(width, height, 1.0, 0.9)));
  forms.push(crop(trimmed, middleBox(width, height, 0.9, 1.0)));
  const found = [];
  for (const form of forms) {
    const { hash, quality } = pdqFromRGBA(form.data, form.width, form.height);
    if (quality >= MIN_QUALITY && hash !== mainHex && !found.includes(hash)) found.push(hash);
  }
  return found;
}
