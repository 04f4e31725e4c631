// Module Web Worker that hashes the survivor's images off the main thread.
// The image never leaves this worker: it is decoded here, hashed, and only the
// hashes go back to the page. The worker makes no network request.
//
//   const worker = new Worker(new URL("js/hash-worker.js", base), { type: "module" });
//   worker.postMessage({ id, file });           // file: a File or Blob
//
// Replies, for that id:
//   { id, progress, stage }                      // 0..1, several times per image
//   { id, ok: true, algorithm: "pdq", hash, quality, dihedral: [8 hex],
//     hashes: [{ hash, quality }] }
//   { id, ok: false, code, reason, quality? }    // reason: plain language
//
// A video (video-hasher.js) is a job of several requests, each with its own id:
//   worker.postMessage({ id, job, md5: file });  // -> { id, progress }..., { id, ok: true, md5 }
//   worker.postMessage({ id, job, frame: { data, width, height } }, [data]);
//                                               // RGBA ArrayBuffer -> { id, ok: true, hash, quality }
//   worker.postMessage({ cancel: job });        // -> { cancelled: job }, once nothing of it runs
// After a cancel, the job's queued requests are dropped unanswered and a
// running MD5 stops at its next chunk; `cancelled` is the job's last message.
//
// `hashes` is what the page submits for the image: the match policy's
// submission hashes (policy.js, ported from `hashing/policy.py`: one per
// submitted form of form-table.js). `hash`, `quality` and `dihedral` describe the
// image as loaded (untrimmed): `dihedral` lists the 8 rotations/flips in the
// order of `hashing/pdq.py` DIHEDRAL_NAMES; dihedral[0] === hash. Images are
// hashed one at a time, in the order received, so a batch of large photos does
// not pile up in memory.

import { loadCanonicalImage } from "./canonical.js";
import { md5Blob } from "./md5.js";
import { pdqDihedralFromRGBA, pdqFromRGBA } from "./pdq.js";
import { LowQualityImage, MIN_QUALITY, submissionHashes } from "./policy.js";
import { frameVariants } from "./video-forms.js";

export { MIN_QUALITY }; // 50, as hashing/pdq.py: below it, hashes collide with unrelated images
export const LOW_QUALITY_REASON = "not enough detail to be matched reliably";

async function hashFile(id, file) {
  const progress = (fraction, stage) => self.postMessage({ id, progress: fraction, stage });
  if (!(file instanceof Blob)) {
    return { id, ok: false, code: "no-file", reason: "no file was given" };
  }
  progress(0, "reading");
  const image = await loadCanonicalImage(file, {
    onProgress: (fraction) => progress(0.9 * fraction, fraction < 0.4 ? "decoding" : "scaling"),
  });
  progress(0.9, "hashing");
  const { hashes, quality } = pdqDihedralFromRGBA(image.data, image.width, image.height);
  if (quality < MIN_QUALITY) {
    return lowQuality(id, quality);
  }
  let submitted;
  try {
    submitted = submissionHashes(image);
  } catch (error) {
    if (error instanceof LowQualityImage) return lowQuality(id, error.quality);
    throw error;
  }
  progress(1, "done");
  return { id, ok: true, algorithm: "pdq", hash: hashes[0], quality, dihedral: hashes, hashes: submitted };
}

function lowQuality(id, quality) {
  return { id, ok: false, code: "low-quality", reason: LOW_QUALITY_REASON, quality };
}

function failure(id, error) {
  if (error && typeof error.reason === "string") {
    return { id, ok: false, code: error.code ?? "unreadable", reason: error.reason };
  }
  const detail = error && error.message ? ` (${error.message})` : "";
  return { id, ok: false, code: "error", reason: `the image could not be hashed${detail}` };
}

// A video frame's PDQ, at its full size, as hashing/vpdq.py hash_frame, and, for a frame
// of enough detail, the hashes of its submitted forms (video-forms.js, as
// hashing/video_forms.py): `variants`, which let a cropped or letterboxed copy match.
function hashFrame(id, { data, width, height }) {
  const image = { data: new Uint8ClampedArray(data), width, height };
  const { hash, quality } = pdqFromRGBA(image.data, width, height);
  const variants = quality >= MIN_QUALITY ? frameVariants(image, hash) : [];
  return { id, ok: true, hash, quality, variants };
}

const cancelled = new Set(); // video jobs cancelled: their queued requests are dropped
const running = new Map(); // job -> AbortController of its running MD5

async function hashVideoFile(id, job, file) {
  const controller = new AbortController();
  running.set(job, controller);
  try {
    const md5 = await md5Blob(file, {
      signal: controller.signal,
      onProgress: (fraction) => self.postMessage({ id, progress: fraction, stage: "md5" }),
    });
    return { id, ok: true, md5 };
  } finally {
    running.delete(job);
  }
}

async function handle(message) {
  const { id, job, file, md5, frame } = message;
  if (job !== undefined && cancelled.has(job)) return null;
  try {
    if (md5 !== undefined) return await hashVideoFile(id, job, md5);
    if (frame !== undefined) return hashFrame(id, frame);
    return await hashFile(id, file);
  } catch (error) {
    if (job !== undefined && cancelled.has(job)) return null;
    return failure(id, error);
  }
}

let queue = Promise.resolve();

self.addEventListener("message", (event) => {
  const message = event.data ?? {};
  if (message.cancel !== undefined) {
    cancelled.add(message.cancel);
    running.get(message.cancel)?.abort();
    // Queued after whatever runs now, so it is the job's last message.
    queue = queue.then(() => self.postMessage({ cancelled: message.cancel }));
    return;
  }
  queue = queue.then(async () => {
    const reply = await handle(message);
    if (reply !== null) self.postMessage(reply);
  });
});
