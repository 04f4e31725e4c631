// MD5 (RFC 1321) of a file, in plain JavaScript, read in chunks.
//
// A video's MD5 identifies exact copies of the file (StopNCII's `VideoMD5`);
// it is the same digest as Python's `hashlib.md5` over the file's bytes
// (`hashing/video_signals.py`), tested on the reference videos. MD5 is no
// security measure here, only a fingerprint of the bytes.
//
//   const md5 = new Md5(); md5.update(bytes); md5.hex();   // bytes: Uint8Array
//   await md5Blob(file, { onProgress, signal })            // -> 32 hex digits
//
// md5Blob reads `CHUNK_BYTES` at a time, so a large video never sits in
// memory whole, and stops with an AbortError as soon as `signal` is aborted.
// No dependencies and no I/O beyond reading the Blob given.

export const CHUNK_BYTES = 4 * 1024 * 1024;

// Per-round left rotations and the constants floor(abs(sin(i + 1)) * 2^32).
const SHIFTS = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
const K = new Int32Array(64).map((_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) | 0);

export class Md5 {
  constructor() {
    this.state = new Int32Array([0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476]);
    this.block = new Uint8Array(64); // bytes waiting for a whole 64-byte block
    this.filled = 0;
    this.length = 0; // bytes seen (a Number: exact up to 2^53)
    this.words = new Int32Array(16);
  }

  /** Add bytes (a Uint8Array); returns this. */
  update(bytes) {
    let offset = 0;
    this.length += bytes.length;
    if (this.filled > 0) {
      const take = Math.min(64 - this.filled, bytes.length);
      this.block.set(bytes.subarray(0, take), this.filled);
      this.filled += take;
      offset = take;
      if (this.filled < 64) return this;
      this.compress(this.block, 0);
      this.filled = 0;
    }
    for (; offset + 64 <= bytes.length; offset += 64) this.compress(bytes, offset);
    this.block.set(bytes.subarray(offset), 0);
    this.filled = bytes.length - offset;
    return this;
  }

  /** The digest as 32 lowercase hex digits; the object is spent afterwards. */
  hex() {
    const bits = this.length * 8;
    const padding = new Uint8Array(((this.filled < 56 ? 56 : 120) - this.filled) + 8);
    padding[0] = 0x80;
    const view = new DataView(padding.buffer);
    view.setUint32(padding.length - 8, bits % 2 ** 32, true);
    view.setUint32(padding.length - 4, Math.floor(bits / 2 ** 32), true);
    this.update(padding);
    let out = "";
    for (const word of this.state) {
      for (let i = 0; i < 4; i++) out += ((word >>> (8 * i)) & 0xff).toString(16).padStart(2, "0");
    }
    return out;
  }

  compress(bytes, offset) {
    const x = this.words;
    for (let i = 0; i < 16; i++) {
      const p = offset + 4 * i;
      x[i] = bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16) | (bytes[p + 3] << 24);
    }
    let [a, b, c, d] = this.state;
    for (let i = 0; i < 64; i++) {
      let f;
      let g;
      if (i < 16) {
        f = (b & c) | (~b & d);
        g = i;
      } else if (i < 32) {
        f = (d & b) | (~d & c);
        g = (5 * i + 1) % 16;
      } else if (i < 48) {
        f = b ^ c ^ d;
        g = (3 * i + 5) % 16;
      } else {
        f = c ^ (b | ~d);
        g = (7 * i) % 16;
      }
      const s = SHIFTS[(i >> 4) * 4 + (i % 4)];
      const sum = (a + f + K[i] + x[g]) | 0;
      a = d;
      d = c;
      c = b;
      b = (b + ((sum << s) | (sum >>> (32 - s)))) | 0;
    }
    const state = this.state;
    state[0] = (state[0] + a) | 0;
    state[1] = (state[1] + b) | 0;
    state[2] = (state[2] + c) | 0;
    state[3] = (state[3] + d) | 0;
  }
}

/**
 * The MD5 of a Blob (a File), read `chunkBytes` at a time.
 * onProgress(fraction) after each chunk; an aborted `signal` stops it with an AbortError.
 */
export async function md5Blob(blob, { chunkBytes = CHUNK_BYTES, onProgress = () => {}, signal } = {}) {
  const md5 = new Md5();
  for (let start = 0; start < blob.size; start += chunkBytes) {
    signal?.throwIfAborted();
    const chunk = new Uint8Array(await blob.slice(start, start + chunkBytes).arrayBuffer());
    signal?.throwIfAborted();
    md5.update(chunk);
    onProgress(Math.min(1, (start + chunk.length) / blob.size));
  }
  return md5.hex();
}
