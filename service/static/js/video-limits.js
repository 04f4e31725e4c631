// What a video may be for the page to hash it, and the words that state it.
//
// - Length: at most `video_frames` samples (GET /v1/limits, 3,600 by default)
//   go in one request, so at `rate` samples per second a video may last
//   video_frames / rate seconds (an hour at 1 per second).
// - Size: MAX_VIDEO_BYTES, the Python client's limit (hashing.video
//   DEFAULT_LIMITS.max_bytes, 1 GiB), so the page and `hashbank hash` refuse alike.
// - Frame size: frames are hashed at the video's own size up to
//   MAX_FRAME_PIXELS (4K UHD, 3840 x 2160); a larger frame is scaled down to
//   that many pixels first (PDQ looks at 64 x 64 blocks; the hash barely moves),
//   so one frame's pixels stay about 33 MB.
// Pure functions, no I/O.

import { DEFAULT_RATE } from "./vpdq.js";

export const DEFAULT_VIDEO_FRAMES = 3600; // hashing.limits.DEFAULT_VIDEO_FRAMES
export const MAX_VIDEO_BYTES = 1024 ** 3; // hashing.video DEFAULT_LIMITS.max_bytes
export const MAX_FRAME_SIZE = Object.freeze({ width: 3840, height: 2160 }); // 4K UHD
export const MAX_FRAME_PIXELS = MAX_FRAME_SIZE.width * MAX_FRAME_SIZE.height;

/** The longest video (seconds) whose samples fit in one request of `videoFrames`. */
export const maxSeconds = (videoFrames = DEFAULT_VIDEO_FRAMES, rate = DEFAULT_RATE) => videoFrames / rate;

/** "60 minutes", "90 seconds", "1 hour 30 minutes": a length in plain words. */
export function lengthInWords(seconds) {
  const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
  if (seconds < 120) return plural(Math.floor(seconds), "second");
  const minutes = Math.floor(seconds / 60);
  if (minutes <= 60) return plural(minutes, "minute");
  const hours = Math.floor(minutes / 60);
  return minutes % 60 ? `${plural(hours, "hour")} ${plural(minutes % 60, "minute")}` : plural(hours, "hour");
}

/** "1 GB", "500 MB": a byte limit in plain words. */
export const bytesInWords = (bytes) =>
  bytes >= 1024 ** 3 ? `${+(bytes / 1024 ** 3).toFixed(1)} GB` : `${Math.round(bytes / 1024 ** 2)} MB`;

/** Why a video cannot be hashed here, in plain language, or null when it can (`duration`
 * undefined: before the video is opened, only its size is checked). */
export function videoProblem({ bytes, duration }, { videoFrames = DEFAULT_VIDEO_FRAMES, rate = DEFAULT_RATE } = {}) {
  if (bytes > MAX_VIDEO_BYTES) {
    return `the file is larger than ${bytesInWords(MAX_VIDEO_BYTES)}; the command-line client cannot take it either`;
  }
  if (duration === undefined) return null;
  if (!Number.isFinite(duration) || duration <= 0) {
    return "the browser could not tell how long the video is, so it cannot be hashed here";
  }
  const longest = maxSeconds(videoFrames, rate);
  if (duration > longest) {
    return `the video is longer than ${lengthInWords(longest)}, the longest this service takes ` +
      "in one piece (a video editor can cut it into shorter parts)";
  }
  return null;
}

/** The size (width, height) a frame is hashed at: its own, or scaled down to MAX_FRAME_PIXELS. */
export function frameSize(width, height, maxPixels = MAX_FRAME_PIXELS) {
  if (width * height <= maxPixels) return { width, height };
  const scale = Math.sqrt(maxPixels / (width * height));
  return { width: Math.max(1, Math.floor(width * scale)), height: Math.max(1, Math.floor(height * scale)) };
}
