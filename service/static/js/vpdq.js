// vPDQ's rules for a video in the browser, ported from the Python client:
// which instants are sampled (`hashing/sampling.py`) and which frame hashes
// are kept (`hashing/vpdq.py` select_frames). Pure functions, no I/O.
//
// At `rate` samples per second the sample times are t_k = k / rate while
// t_k is before the end of the video; the page seeks its <video> element to
// each t_k, and the browser shows the frame displayed then (the last one whose
// timestamp is <= t_k), as the Python client samples. Of the frames hashed,
// those of PDQ quality >= 50 are kept, and in order a frame is kept only when
// it is more than PRUNE_DISTANCE bits from the last frame kept.

import { hammingDistance } from "./pdq.js";
import { roundHalfEven } from "./policy.js";

export const ALGORITHM = "vpdq"; // hashing.vpdq.VPDQ.name
export const DEFAULT_RATE = 1; // samples per second, hashing.vpdq.DEFAULT_RATE (Meta's advice)
export const MIN_QUALITY = 50; // hashing.pdq.MIN_QUALITY
export const PRUNE_DISTANCE = 8; // hashing.vpdq.PRUNE_DISTANCE

/** The sample times (seconds) of a video lasting `duration` seconds: k / rate while < duration. */
export function sampleTimes(duration, rate = DEFAULT_RATE) {
  if (!(rate > 0)) throw new RangeError("the sampling rate must be positive");
  const times = [];
  if (!Number.isFinite(duration)) return times;
  for (let k = 0; k / rate < duration; k++) times.push(k / rate);
  return times;
}

/** At most `limit` of `frames`, evenly spaced, first and last kept (hashing.case_items.thin_frames). */
export function thinFrames(frames, limit) {
  if (limit < 1) return [];
  if (frames.length <= limit) return [...frames];
  if (limit === 1) return [frames[0]];
  const step = (frames.length - 1) / (limit - 1);
  return Array.from({ length: limit }, (_, i) => frames[roundHalfEven(i * step)]);
}

/**
 * As many of `frames`, evenly spaced, as have at most `limit` hashes together, each
 * frame's `variants` included (hashing.case_items.fitting_frames).
 */
export function fittingFrames(frames, limit) {
  const size = (list) => list.reduce((n, f) => n + 1 + (f.variants?.length ?? 0), 0);
  const total = size(frames);
  let count = total <= limit ? frames.length : Math.trunc((frames.length * limit) / total);
  for (;;) {
    const kept = thinFrames(frames, count);
    if (size(kept) <= limit) return kept;
    count -= 1;
  }
}

/**
 * The frames worth sending, as hashing.vpdq.select_frames: quality >= minQuality,
 * then each kept only when more than `pruneDistance` bits from the last one kept
 * (null keeps them all). `frames`: [{hash, quality, ...}] in time order.
 */
export function selectFrames(frames, { minQuality = MIN_QUALITY, pruneDistance = PRUNE_DISTANCE } = {}) {
  const kept = [];
  let last = null;
  for (const frame of frames) {
    if (frame.quality < minQuality) continue;
    if (pruneDistance !== null && last !== null && hammingDistance(frame.hash, last) <= pruneDistance) {
      continue;
    }
    kept.push(frame);
    last = frame.hash;
  }
  return kept;
}
