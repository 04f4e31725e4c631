// Calls to hashbank's own case API. Only hashes and the case key ever leave the page.
// (GET /v1/limits, asked once, says how many hashes one request may carry.)

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function call(method, path, { body, key } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (key) headers["X-Case-Key"] = key;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
      referrerPolicy: "no-referrer",
    });
  } catch {
    throw new ApiError(0, "offline", "The service could not be reached. Check your connection and try again.");
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = data && data.error ? data.error : { code: "error", message: `The service answered ${response.status}.` };
    throw new ApiError(response.status, error.code, error.message);
  }
  return data;
}

// The service's default per-request limits, hashing.limits DEFAULT_LIMITS (`case_hashes`:
// hashes of photos and videos' MD5s; `video_frames`: video frame hashes); GET /v1/limits
// has this server's own.
export const MAX_HASHES_PER_REQUEST = 100;
export const DEFAULT_LIMITS = Object.freeze({ case_hashes: MAX_HASHES_PER_REQUEST, video_frames: 3600 });

let limits = null;

/** This server's limits (GET /v1/limits, asked once); the defaults if it cannot say. */
export function fetchLimits() {
  limits ??= call("GET", "/v1/limits").then(
    (data) => ({
      case_hashes: positive(data?.case_hashes, DEFAULT_LIMITS.case_hashes),
      video_frames: positive(data?.video_frames, DEFAULT_LIMITS.video_frames),
    }),
    () => DEFAULT_LIMITS,
  );
  return limits;
}

const positive = (value, fallback) => (Number.isInteger(value) && value > 0 ? value : fallback);

// Each hash as the API takes it: `image` says which image or video of the request it
// is of (packImages numbers them), so that a dispute treats one image's hashes
// together; a video frame has its `timestamp` (seconds), an MD5 no quality, a frame's
// other form (video-forms.js) `variant: true` at its frame's time. A hash without an
// algorithm is a photo's PDQ.
const asHashes = (hashes) =>
  hashes.map(({ algorithm = "pdq", hash, quality, image, timestamp, variant }) => ({
    algorithm,
    hash,
    ...(quality === undefined ? {} : { quality }),
    image,
    ...(timestamp === undefined ? {} : { timestamp }),
    ...(variant ? { variant: true } : {}),
  }));

// One request each: `hashes` is a list of {algorithm?, hash, quality?, timestamp?, image}.
export const createCase = (hashes) => call("POST", "/v1/cases", { body: { hashes: asHashes(hashes) } });
export const caseStatus = (caseId, key) => call("GET", `/v1/cases/${encodeURIComponent(caseId)}`, { key });
export const addToCase = (caseId, key, hashes) =>
  call("POST", `/v1/cases/${encodeURIComponent(caseId)}/hashes`, { key, body: { hashes: asHashes(hashes) } });
export const withdrawCase = (caseId, key) => call("DELETE", `/v1/cases/${encodeURIComponent(caseId)}`, { key });

const isFrame = (h) => h.algorithm === "vpdq";

/**
 * Whole images and videos into requests, as hashing/cli_cases.py `_requests`: one
 * item's hashes never straddle two requests, and a request holds at most
 * `limits.case_hashes` hashes that are not video frames and `limits.video_frames`
 * video frame hashes (the service counts them apart).
 * @param {Array<Array<{algorithm?: string, hash: string}>>} images each image's or video's hashes
 * @returns {Array<{hashes: Array<object>, images: number}>} each hash with `image`, its
 *   item's number within its request (0, 1, ...)
 */
export function packImages(images, limits = DEFAULT_LIMITS) {
  const caps = { hashes: limits.case_hashes, frames: limits.video_frames };
  const batches = [];
  let batch = null;
  for (const item of images) {
    const hashes = item.filter((h) => !isFrame(h)).slice(0, caps.hashes);
    const frames = item.filter(isFrame).slice(0, caps.frames);
    if (batch === null || (batch.images > 0 &&
        (batch.counts.hashes + hashes.length > caps.hashes || batch.counts.frames + frames.length > caps.frames))) {
      batch = { hashes: [], images: 0, counts: { hashes: 0, frames: 0 } };
      batches.push(batch);
    }
    const image = batch.images;
    batch.hashes.push(...[...hashes, ...frames].map((h) => ({ ...h, image })));
    batch.counts.hashes += hashes.length;
    batch.counts.frames += frames.length;
    batch.images += 1;
  }
  if (batches.length === 0) return [{ hashes: [], images: 0 }];
  return batches.map(({ hashes, images }) => ({ hashes, images }));
}

/**
 * A later request failed: the case exists (or was added to) with the first `sent`
 * of `total` images. `cause` is the ApiError; `caseId`, `caseKey` (on creation)
 * and the last case status seen (`lastStatus`) are kept so the page can still show them.
 */
export class PartlySentError extends Error {
  constructor(cause, { caseId, caseKey, lastStatus, sent, total }) {
    super(cause.message, { cause });
    this.name = "PartlySentError";
    Object.assign(this, { caseId, caseKey, lastStatus, sent, total });
  }
}

// Send the batches in order; `first` sends batch 0 (creates the case or adds to it),
// `rest` the others. onProgress({sent, total}) counts images after each request.
async function sendBatches(images, first, rest, onProgress) {
  const batches = packImages(images, await fetchLimits());
  const total = images.length;
  let sent = 0;
  onProgress({ sent, total });
  const answer = await first(batches[0].hashes); // fails: nothing was saved
  sent += batches[0].images;
  onProgress({ sent, total });
  let status = answer.status ?? answer;
  for (const batch of batches.slice(1)) {
    try {
      status = await rest(answer, batch.hashes);
    } catch (error) {
      throw new PartlySentError(error, {
        caseId: status.case_id,
        caseKey: answer.case_key,
        lastStatus: status,
        sent,
        total,
      });
    }
    sent += batch.images;
    onProgress({ sent, total });
  }
  return { answer, status };
}

/**
 * Create a case from every image's hashes: the first request creates it, the
 * others add to it with its new id and key. Returns the creation's answer
 * ({case_id, case_key, status}) with the final status. Throws an ApiError when
 * nothing was created, a PartlySentError when the case exists with part of the images.
 */
export async function createCaseFromImages(images, { onProgress = () => {} } = {}) {
  const { answer, status } = await sendBatches(
    images,
    (hashes) => createCase(hashes),
    (created, hashes) => addToCase(created.case_id, created.case_key, hashes),
    onProgress,
  );
  return { ...answer, status };
}

/**
 * Add every image's hashes to a case, in requests of whole images. Returns the
 * case's status. Throws an ApiError when nothing was added, a PartlySentError
 * when only the first `sent` images were (sending them all again is safe: hashes
 * a case already holds are not added twice).
 */
export async function addImagesToCase(caseId, key, images, { onProgress = () => {} } = {}) {
  const send = (_, hashes) => addToCase(caseId, key, hashes);
  const { status } = await sendBatches(images, (hashes) => send(null, hashes), send, onProgress);
  return status;
}

export function explain(error) {
  if (error.status === 401) return "The case id or case key is not right. Check both and try again.";
  if (error.status === 429) return "Too many wrong keys were tried. Please wait a few minutes and try again.";
  return error.message || "Something went wrong. Please try again.";
}
