// Choose or drop photos and videos, make their fingerprints in the browser (the
// hashing in a worker, never on the main thread, never uploaded), and show each
// file's progress. The page only ever sees hashes:
// - a photo: the match policy's submission hashes (policy.js: one per submitted
//   form of form-table.js), as PDQ;
// - a video: its file's MD5 and the PDQ of the frame shown at each second
//   (video-hasher.js), one video at a time, each with a Cancel button.
// The limits on videos come from GET /v1/limits and are stated on the page.

import { DEFAULT_LIMITS, fetchLimits } from "./api.js";
import { hashVideo } from "./video-hasher.js";
import { MAX_FRAME_SIZE, MAX_VIDEO_BYTES, bytesInWords, lengthInWords, maxSeconds } from "./video-limits.js";
import { fittingFrames } from "./vpdq.js";
import { HashWorker } from "./worker-client.js";

const MAX_ITEMS = 100;
const VIDEO_SUFFIX = /\.(mp4|m4v|mov|qt|webm|mkv|3gp|3g2)$/i;
const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

export const isVideo = (file) => (file.type || "").startsWith("video/") || VIDEO_SUFFIX.test(file.name || "");

/** The video limits in plain words, for the page to state. */
export function videoLimitsText(limits = DEFAULT_LIMITS) {
  return `Videos: MP4, WebM or MOV files that this browser can play, up to ` +
    `${lengthInWords(maxSeconds(limits.video_frames))} long and ${bytesInWords(MAX_VIDEO_BYTES)} each. ` +
    `One frame per second is fingerprinted (frames larger than 4K, ${MAX_FRAME_SIZE.width} × ${MAX_FRAME_SIZE.height} pixels, ` +
    "are scaled down to that size first). Keep this page in front while a video is fingerprinted.";
}

export function setUpHasher({ input, drop, list, summary, limitsNote, onChange }) {
  const hasher = new HashWorker();
  const items = new Map(); // id -> { kind, name, li, bar, status, state, result, controller, cancel }
  const limits = fetchLimits();
  let videos = Promise.resolve(); // one video at a time
  let nextId = 1;

  if (limitsNote) limits.then((l) => { limitsNote.textContent = videoLimitsText(l); });

  function setState(item, kind, text) {
    item.status.textContent = text;
    item.status.className = `state ${kind}`;
  }

  function finish(item, state, text) {
    item.bar.remove();
    item.cancel?.remove();
    item.state = state;
    setState(item, state === "ok" ? "ok" : "bad", text);
    update();
  }

  function counted(all, state, kind) {
    const n = all.filter((i) => i.state === state && i.kind === kind).length;
    return n ? [plural(n, kind)] : [];
  }

  function update() {
    const all = [...items.values()];
    const ready = all.filter((i) => i.state === "ok").length;
    const bad = all.filter((i) => i.state === "bad").length;
    const cancelled = all.filter((i) => i.state === "cancelled").length;
    const busy = all.length - ready - bad - cancelled;
    const readyWords = [...counted(all, "ok", "image"), ...counted(all, "ok", "video")].join(" and ") || "Nothing";
    const left = [
      ...(bad ? [`${plural(bad, "file")} could not be used`] : []),
      ...(cancelled ? [`${plural(cancelled, "video")} cancelled`] : []),
    ];
    summary.textContent = all.length === 0 ? "" :
      busy > 0 ? `Making fingerprints: ${ready + bad + cancelled} of ${plural(all.length, "file")} done.` :
      `${readyWords} ready to send${left.length ? `, ${left.join(", ")}` : ""}.`;
    onChange({ ready, busy, bad });
  }

  function row(file, id, kind) {
    const li = document.createElement("li");
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = file.name || `${kind} ${id}`;
    const status = document.createElement("span");
    status.className = "state";
    status.textContent = "Waiting…";
    const bar = document.createElement("progress");
    bar.max = 1;
    bar.value = 0;
    bar.setAttribute("aria-label", `Progress for ${name.textContent}`);
    li.append(name, bar, status);
    list.append(li);
    return { kind, name: name.textContent, li, bar, status, state: "busy", result: null };
  }

  function addImage(item, file) {
    setState(item, "", "Making fingerprints…");
    hasher.image(file, (progress) => { item.bar.value = progress; }).then((data) => {
      if (!items.has(item.id)) return;
      if (data.ok) {
        item.result = data.hashes.map(({ hash, quality }) => ({ algorithm: "pdq", hash, quality }));
        finish(item, "ok", `${plural(item.result.length, "fingerprint")} ready`);
      } else {
        finish(item, "bad", data.reason);
      }
    });
  }

  function addVideo(item, file) {
    item.controller = new AbortController();
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "secondary";
    cancel.textContent = "Cancel";
    cancel.setAttribute("aria-label", `Cancel the fingerprints of ${item.name}`);
    cancel.addEventListener("click", () => {
      cancel.disabled = true;
      setState(item, "", "Cancelling…");
      item.controller.abort();
    });
    item.cancel = cancel;
    item.li.append(cancel);
    const signal = item.controller.signal;
    videos = videos.then(async () => {
      if (signal.aborted) return finish(item, "cancelled", CANCELLED);
      setState(item, "", "Opening the video…");
      try {
        const { video_frames: videoFrames } = await limits;
        const video = await hashVideo(file, {
          hasher,
          videoFrames,
          signal,
          onProgress: ({ done, total }) => {
            item.bar.max = Math.max(total, 1);
            item.bar.value = done;
            if (!signal.aborted) setState(item, "", `Making fingerprints: ${done} of ${plural(total, "frame")}…`);
          },
        });
        // Each frame, then its other forms (`variant`, at its time), within the frame
        // hashes a request takes: a longer video sends evenly spaced frames.
        item.result = [
          { algorithm: "md5", hash: video.md5 },
          ...fittingFrames(video.frames, videoFrames).flatMap(({ hash, quality, timestamp, variants = [] }) => [
            { algorithm: "vpdq", hash, quality, timestamp },
            ...variants.map((variant) => ({ algorithm: "vpdq", hash: variant, timestamp, variant: true })),
          ]),
        ];
        finish(item, "ok", video.frames.length
          ? `${plural(video.frames.length, "frame fingerprint")} ready (${lengthInWords(video.duration)} of video)`
          : "No frame has enough detail: only exact copies of this file can be found");
      } catch (error) {
        if (signal.aborted) finish(item, "cancelled", CANCELLED);
        else finish(item, "bad", error.reason || `the video could not be fingerprinted (${error.message})`);
      }
    });
  }

  function add(files) {
    for (const file of files) {
      if (items.size >= MAX_ITEMS) {
        summary.textContent = `At most ${MAX_ITEMS} photos and videos per case. Create another case for the rest.`;
        break;
      }
      const id = nextId++;
      const item = { id, ...row(file, id, isVideo(file) ? "video" : "image") };
      items.set(id, item);
      if (item.kind === "video") addVideo(item, file);
      else addImage(item, file);
    }
    update();
  }

  input.addEventListener("change", () => {
    add([...input.files]);
    input.value = ""; // the page keeps no reference to the files
  });
  if (drop) {
    drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", (e) => {
      e.preventDefault();
      drop.classList.remove("over");
      add([...e.dataTransfer.files]);
    });
  }

  return {
    // Per ready photo or video, its hashes ({algorithm, hash, quality?, timestamp?}),
    // in the order the files were chosen.
    results: () => [...items.values()].filter((i) => i.state === "ok").map((i) => i.result),
    clear() {
      for (const item of items.values()) item.controller?.abort();
      items.clear();
      list.replaceChildren();
      update();
    },
  };
}

const CANCELLED = "Cancelled: nothing of this video will be sent";
