// Choose or drop images, hash each one in a worker (never on the main thread, never
// uploaded), and show per-image progress. The page only ever sees hashes: per
// image, the match policy's submission hashes (policy.js: one per submitted form of
// form-table.js).

const MAX_IMAGES = 100;
const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

export function setUpHasher({ input, drop, list, summary, onChange }) {
  const worker = new Worker(new URL("./hash-worker.js", import.meta.url), { type: "module" });
  const items = new Map(); // id -> { name, li, state, result }
  let nextId = 1;

  worker.onmessage = ({ data }) => {
    const item = items.get(data.id);
    if (!item) return;
    if ("progress" in data && !("ok" in data)) {
      item.bar.value = data.progress;
      return;
    }
    item.bar.remove();
    if (data.ok) {
      item.state = "ok";
      item.result = data.hashes.map(({ hash, quality }) => ({ hash, quality }));
      setState(item, "ok", `${plural(item.result.length, "fingerprint")} ready`);
    } else {
      item.state = "bad";
      setState(item, "bad", data.reason);
    }
    update();
  };

  function setState(item, kind, text) {
    item.status.textContent = text;
    item.status.className = `state ${kind}`;
  }

  function update() {
    const all = [...items.values()];
    const ready = all.filter((i) => i.state === "ok").length;
    const bad = all.filter((i) => i.state === "bad").length;
    const busy = all.length - ready - bad;
    summary.textContent = all.length === 0 ? "" :
      busy > 0 ? `Making fingerprints: ${ready + bad} of ${all.length} images done.` :
      `${plural(ready, "image")} ready to send` +
      (bad ? `, ${plural(bad, "image")} could not be used.` : ".");
    onChange({ ready, busy, bad });
  }

  function add(files) {
    for (const file of files) {
      if (items.size >= MAX_IMAGES) {
        summary.textContent = `At most ${MAX_IMAGES} images per case. Create another case for the rest.`;
        break;
      }
      const id = nextId++;
      const li = document.createElement("li");
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = file.name || `image ${id}`;
      const status = document.createElement("span");
      status.className = "state";
      status.textContent = "Waiting…";
      const bar = document.createElement("progress");
      bar.max = 1;
      bar.value = 0;
      bar.setAttribute("aria-label", `Progress for ${name.textContent}`);
      li.append(name, bar, status);
      list.append(li);
      const item = { li, bar, status, state: "busy", result: null };
      items.set(id, item);
      status.textContent = "Making fingerprints…";
      worker.postMessage({ id, file });
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
    // Per ready image, its list of {hash, quality}, in the order the images were chosen.
    results: () => [...items.values()].filter((i) => i.state === "ok").map((i) => i.result),
    clear() {
      items.clear();
      list.replaceChildren();
      update();
    },
  };
}
