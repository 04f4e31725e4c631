// A video's frames at chosen instants, decoded by the browser's own <video>.
//
// The File is played from an object URL of this page (never uploaded); for
// each sample time the element is seeked there, and after `seeked` the frame
// it shows (the last one whose timestamp is <= the time) is drawn on a canvas
// at the video's own size (at most MAX_FRAME_PIXELS, video-limits.js) and read
// back as RGBA pixels.
//
//   const video = await openVideo(file, { signal });  // UnplayableVideo if it cannot be decoded
//   video.duration, video.width, video.height          // seconds; displayed size
//   const image = await video.frameAt(t, { signal });   // ImageData, the frame shown at t
//   video.close();                                      // frees the decoder and the URL
//
// An aborted `signal` stops a wait at once with an AbortError; no seek is
// started after that.

import { frameSize } from "./video-limits.js";

export const LOAD_TIMEOUT_MS = 30_000;
export const SEEK_TIMEOUT_MS = 30_000;

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
      const seeked = waitFor(video, "seeked", { signal: frameSignal, ms: SEEK_TIMEOUT_MS, failure: DAMAGED });
      video.currentTime = time;
      await seeked;
      context.drawImage(video, 0, 0, width, height);
      return context.getImageData(0, 0, width, height);
    },
    close,
  };
}
