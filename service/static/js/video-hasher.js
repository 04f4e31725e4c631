// One video's fingerprints, as the Python client's `hashing.video_signals`:
// the file's MD5 and the PDQ hash of the frame shown at each sample time
// (vpdq.js), quality >= 50 and near-repeats pruned. The frames are grabbed on
// this page (video-frames.js) and hashed in the worker (worker-client.js);
// nothing leaves the browser.
//
//   const video = await hashVideo(file, { hasher, videoFrames, signal, onProgress });
//   video.md5, video.frames ([{hash, quality, timestamp}], kept), video.sampled (every
//   frame hashed, in time order, each also with `time`, the sample time it was seeked
//   at), video.duration, video.scaled
//   onProgress({ done, total })   // sample times done of the video's
//
// A frame's `timestamp` is its own presentation time, as Python's, when the browser
// reports it (requestVideoFrameCallback), else the sample time; a frame shown at
// several sample times is hashed once, at the first, as hashing/sampling.py does.
//
// Throws UnplayableVideo (or an Error with a plain `reason`) when the video
// cannot be hashed here, and an AbortError as soon as `signal` is aborted:
// then no seek is started, the worker drops the job, and nothing is kept.

import { DEFAULT_RATE, selectFrames, sampleTimes } from "./vpdq.js";
import { openVideo } from "./video-frames.js";
import { newJob } from "./worker-client.js";
import { videoProblem } from "./video-limits.js";

const IN_FLIGHT = 2; // frames handed to the worker ahead of the seek loop

class VideoRefused extends Error {
  constructor(reason) {
    super(reason);
    this.reason = reason;
  }
}

export async function hashVideo(file, { hasher, videoFrames, rate = DEFAULT_RATE, signal, onProgress = () => {} }) {
  const early = videoProblem({ bytes: file.size }, { videoFrames, rate });
  if (early) throw new VideoRefused(early);
  const job = newJob();
  let stopped = null; // the worker's cancellation, once asked for
  const stop = () => { stopped ??= hasher.cancel(job); };
  signal?.addEventListener("abort", stop, { once: true });
  let video = null;
  let finished = false;
  try {
    video = await openVideo(file, { signal });
    const problem = videoProblem({ bytes: file.size, duration: video.duration }, { videoFrames, rate });
    if (problem) throw new VideoRefused(problem);
    const times = sampleTimes(video.duration, rate);
    const md5 = handled(hasher.md5(file, job));
    const sampled = [];
    let done = 0;
    const total = times.length;
    onProgress({ done, total });
    const inFlight = [];
    let shown = null; // the last frame's own timestamp
    for (const time of times) {
      const { image, mediaTime } = await video.frameAt(time, { signal });
      if (mediaTime !== null && mediaTime === shown) {
        onProgress({ done: ++done, total }); // the frame already hashed, still shown
        continue;
      }
      shown = mediaTime;
      const entry = { timestamp: mediaTime ?? time, time };
      sampled.push(entry);
      inFlight.push(handled(hasher.frame(image, job).then((hashed) => {
        Object.assign(entry, hashed);
        onProgress({ done: ++done, total });
      })));
      if (inFlight.length >= IN_FLIGHT) await inFlight.shift();
    }
    await Promise.all(inFlight);
    const result = {
      md5: await md5,
      frames: selectFrames(sampled),
      sampled,
      duration: video.duration,
      scaled: video.scaled,
    };
    finished = true;
    return result;
  } finally {
    signal?.removeEventListener("abort", stop);
    video?.close();
    if (!finished) stop(); // a failure midway: the worker drops the rest of the job
    if (stopped) await stopped; // returns or throws only once the worker has let go
  }
}

// The same promise, marked as handled: a rejection after the loop stopped is not "uncaught".
function handled(promise) {
  promise.catch(() => {});
  return promise;
}
