// A video's frames at chosen instants, decoded by the browser's own <video>.
//
// The File is played from an object URL of this page (never uploaded); for
// each sample time the element is seeked there, and the frame it then shows
// (the last one whose timestamp is <= the time) is drawn on a canvas at the
// video's own size (at most MAX_FRAME_PIXELS, video-limits.js) and read back
// as RGBA pixels.
//
//   const video = await openVideo(file, { signal });  // UnplayableVideo if it cannot be decoded
//   video.duration, video.width, video.height          // seconds; the size hashed
//   const { image, mediaTime } = await video.frameAt(t, { signal });
//       // ImageData of the frame shown at t, and that frame's own timestamp (null if unknown)
//   video.close();                                      // frees the decoder and the URL
//
// `seeked` alone is not enough: Chromium fires it up to tens of milliseconds
// before the new frame is composited, and a canvas drawn then now and then
// holds the previous frame (measured: about 1 sample in 100). So the frame is
// drawn when requestVideoFrameCallback reports the seek's frame presented,
// which also gives its timestamp (`mediaTime`); without that callback (or if it
// does not come within FRAME_WAIT_MS, as in a background tab) it is drawn then.
// An aborted `signal` stops a wait at once with an AbortError; no seek is
// started after that.

import { frameSize } from "./video-limits.js";

export const LOAD_TIMEOUT_MS = 30_000;
export const SEEK_TIMEOUT_MS = 30_000;
export const FRAME_WAIT_MS = 1_000;

/** The browser cannot decode the file as a video; `reason` says so in plain language. */
export class UnplayableVideo extends Error {
  constructor(reason) {
    super(reason);
    this.name = "UnplayableVideo";
    this.code = "unplayable";
    this.reason = reason;
  }
}

const CANNOT_PLAY =
  "this browser cannot play this video, so it cannot make its fingerprints " +
  "(try another browser, or the command-line client)";
const DAMAGED = "the video is damaged or incomplete: the browser stopped decoding it";

// Resolves on `event`, rejects on the element's `error`, the signal's abort, or after `ms`.
function waitFor(video, event, { signal, ms, failure }) {
  return new Promise((resolve, reject) => {
    const done = (settle, value) => {
      clearTimeout(timer);
      video.removeEventListener(event, onEvent);
      video.removeEventListener("error", onError);
      signal?.removeEventListener("abort", onAbort);
      settle(value);
    };
    const onEvent = () => done(resolve);
    const onError = () => done(reject, new UnplayableVideo(failure));
    const onAbort = () => done(reject, signal.reason);
    const timer = setTimeout(() => done(reject, new UnplayableVideo(failure)), ms);
    video.addEventListener(event, onEvent);
    video.addEventListener("error", onError);
    signal?.addEventListener("abort", onAbort);
  });
}

// The next frame the element presents, watched from just before a seek to `time`: a
// paused element presents none but the seek's (one later than `time` is not it). wait()
// gives its mediaTime, or null after FRAME_WAIT_MS or without requestVideoFrameCallback.
function watchPresented(video, time) {
  let handle = null;
  let settle = null;
  let frame = null;
  const watch = () => {
    handle = video.requestVideoFrameCallback((_, metadata) => {
      handle = null;
      if (metadata.mediaTime > time + 1e-3) watch();
      else if (settle) settle(metadata.mediaTime);
      else frame = metadata.mediaTime;
    });
  };
  if (typeof video.requestVideoFrameCallback === "function") watch();
  return {
    wait(signal) {
      if (frame !== null || handle === null) return Promise.resolve(frame);
      return new Promise((resolve, reject) => {
        const done = (finish, value) => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          settle = null;
          finish(value);
        };
        const timer = setTimeout(() => done(resolve, null), FRAME_WAIT_MS);
        const onAbort = () => done(reject, signal.reason);
        signal?.addEventListener("abort", onAbort, { once: true });
        settle = (mediaTime) => done(resolve, mediaTime);
      });
    },
    stop() {
      if (handle !== null) video.cancelVideoFrameCallback(handle);
      handle = null;
    },
  };
}

/** Open a video File for frame grabbing; UnplayableVideo when the browser cannot decode it. */
export async function openVideo(file, { signal } = {}) {
  signal?.throwIfAborted();
  const video = document.createElement("video");
  video.muted = true;
  video.playsInline = true;
  video.preload = "auto";
  const url = URL.createObjectURL(file);
  const close = () => {
    video.removeAttribute("src");
    video.load(); // drops the decoder
    URL.revokeObjectURL(url);
  };
  try {
    const loaded = waitFor(video, "loadeddata", { signal, ms: LOAD_TIMEOUT_MS, failure: CANNOT_PLAY });
    video.src = url;
    await loaded;
  } catch (error) {
    close();
    throw error;
  }
  if (!video.videoWidth || !video.videoHeight) {
    close();
    throw new UnplayableVideo("the file has no picture (sound only?), so there is nothing to fingerprint");
  }
  const { width, height } = frameSize(video.videoWidth, video.videoHeight);
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext("2d", { willReadFrequently: true, alpha: false });

  return {
    duration: video.duration,
    width,
    height,
    scaled: width !== video.videoWidth || height !== video.videoHeight,
    async frameAt(time, { signal: frameSignal } = {}) {
      frameSignal?.throwIfAborted();
      const presented = watchPresented(video, time);
      try {
        const seeked = waitFor(video, "seeked", { signal: frameSignal, ms: SEEK_TIMEOUT_MS, failure: DAMAGED });
        video.currentTime = time;
        await seeked;
        const mediaTime = await presented.wait(frameSignal);
        context.drawImage(video, 0, 0, width, height);
        return { image: context.getImageData(0, 0, width, height), mediaTime };
      } finally {
        presented.stop();
      }
    },
    close,
  };
}
