// The page's side of the hashing worker (hash-worker.js): one request, one promise.
//
//   const hasher = new HashWorker();
//   await hasher.image(file, onProgress)            // the worker's image reply (ok or not)
//   await hasher.md5(file, job, onProgress)         // 32 hex digits
//   await hasher.frame(imageData, job)              // { hash, quality, variants }; the pixels are moved
//   await hasher.cancel(job)                        // resolves when the worker has let the job go
//
// `job` groups a video's requests so that cancel(job) drops all of them: their
// promises reject with an AbortError at once and later replies are ignored.

let nextId = 1;
let nextJob = 1;

export const newJob = () => nextJob++;

export class HashWorker {
  constructor(url = new URL("./hash-worker.js", import.meta.url)) {
    this.worker = new Worker(url, { type: "module" });
    this.pending = new Map(); // id -> { resolve, reject, onProgress, job }
    this.cancelling = new Map(); // job -> resolve
    this.worker.onmessage = ({ data }) => this.receive(data);
  }

  receive(data) {
    if ("cancelled" in data) {
      this.cancelling.get(data.cancelled)?.();
      this.cancelling.delete(data.cancelled);
      return;
    }
    const entry = this.pending.get(data.id);
    if (!entry) return;
    if ("progress" in data && !("ok" in data)) {
      entry.onProgress?.(data.progress);
      return;
    }
    this.pending.delete(data.id);
    entry.resolve(data);
  }

  request(message, { job, onProgress, transfer = [] } = {}) {
    const id = nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress, job });
      this.worker.postMessage({ id, job, ...message }, transfer);
    });
  }

  /** The worker's reply for an image: { ok, hashes, ... } or { ok: false, reason }. */
  image(file, onProgress) {
    return this.request({ file }, { onProgress });
  }

  async md5(file, job, onProgress) {
    return unwrap(await this.request({ md5: file }, { job, onProgress })).md5;
  }

  async frame({ data, width, height }, job) {
    const buffer = data.buffer;
    const reply = await this.request({ frame: { data: buffer, width, height } }, { job, transfer: [buffer] });
    const { hash, quality, variants } = unwrap(reply);
    return { hash, quality, variants };
  }

  /** Drop every request of `job`; resolves once the worker has stopped working on it. */
  cancel(job) {
    for (const [id, entry] of this.pending) {
      if (entry.job === job) {
        this.pending.delete(id);
        entry.reject(new DOMException("cancelled", "AbortError"));
      }
    }
    const done = new Promise((resolve) => this.cancelling.set(job, resolve));
    this.worker.postMessage({ cancel: job });
    return done;
  }
}

function unwrap(reply) {
  if (reply.ok) return reply;
  const error = new Error(reply.reason);
  error.reason = reply.reason;
  error.code = reply.code;
  throw error;
}
