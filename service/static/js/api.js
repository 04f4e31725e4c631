// Calls to hashbank's own case API. Only hashes and the case key ever leave the page.

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

// The service's default per-request limit (`max_hashes_per_case`), hashing.limits
// DEFAULT_CASE_HASHES; GET /v1/limits has this server's own.
export const MAX_HASHES_PER_REQUEST = 100;

// `image`: which image of the request the hash is of (packImages numbers them), so
// that a dispute treats one image's hashes together.
const asHashes = (hashes) =>
  hashes.map((h) => ({ algorithm: "pdq", hash: h.hash, quality: h.quality, image: h.image }));

// One request each: `hashes` is a list of {hash, quality} (at most MAX_HASHES_PER_REQUEST).
export const createCase = (hashes) => call("POST", "/v1/cases", { body: { hashes: asHashes(hashes) } });
export const caseStatus = (caseId, key) => call("GET", `/v1/cases/${encodeURIComponent(caseId)}`, { key });
export const addToCase = (caseId, key, hashes) =>
  call("POST", `/v1/cases/${encodeURIComponent(caseId)}/hashes`, { key, body: { hashes: asHashes(hashes) } });
export const withdrawCase = (caseId, key) => call("DELETE", `/v1/cases/${encodeURIComponent(caseId)}`, { key });

/**
 * Whole images into requests of at most `limit` hashes, as hashing/cli_cases.py
 * `_requests`: one image's hashes never straddle two requests.
 * @param {Array<Array<{hash: string, quality: number}>>} images each image's hashes
 * @returns {Array<{hashes: Array<{hash: string, quality: number, image: number}>, images: number}>}
 *   each hash with `image`, its image's number within its request (0, 1, ...)
 */
export function packImages(images, limit = MAX_HASHES_PER_REQUEST) {
  const batches = [{ hashes: [], images: 0 }];
  for (const hashes of images) {
    let batch = batches[batches.length - 1];
    if (batch.hashes.length > 0 && batch.hashes.length + hashes.length > limit) {
      batch = { hashes: [], images: 0 };
      batches.push(batch);
    }
    const image = batch.images;
    batch.hashes.push(...hashes.slice(0, limit).map((h) => ({ ...h, image })));
    batch.images += 1;
  }
  return batches;
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
  const batches = packImages(images);
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
