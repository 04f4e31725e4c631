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
