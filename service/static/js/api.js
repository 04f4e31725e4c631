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

const asHashes = (results) => results.map((r) => ({ algorithm: "pdq", hash: r.hash, quality: r.quality }));

export const createCase = (results) => call("POST", "/v1/cases", { body: { hashes: asHashes(results) } });
export const caseStatus = (caseId, key) => call("GET", `/v1/cases/${encodeURIComponent(caseId)}`, { key });
export const addToCase = (caseId, key, results) =>
  call("POST", `/v1/cases/${encodeURIComponent(caseId)}/hashes`, { key, body: { hashes: asHashes(results) } });
export const withdrawCase = (caseId, key) => call("DELETE", `/v1/cases/${encodeURIComponent(caseId)}`, { key });

export function explain(error) {
  if (error.status === 401) return "The case id or case key is not right. Check both and try again.";
  if (error.status === 429) return "Too many wrong keys were tried. Please wait a few minutes and try again.";
  return error.message || "Something went wrong. Please try again.";
}
