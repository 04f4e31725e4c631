// The case page: open a case with its id and key, see matches and removals, add images, withdraw.

import { PartlySentError, addImagesToCase, caseStatus, explain, withdrawCase } from "./api.js";
import { forget, remembered } from "./credentials.js";
import { setUpHasher } from "./hashing-ui.js";

const $ = (id) => document.getElementById(id);
let current = null; // { caseId, key } while the page is open; never stored unless asked

const STATES = {
  active: "Active: platforms are matching it",
  withdrawn: "Withdrawn",
  disputed: "Paused: platforms said the image is not intimate; under review",
  retired: "Removed after review",
};
const OUTCOMES = {
  matched: "Found, not reviewed yet",
  pending_review: "Being reviewed",
  removed: "Removed",
  not_violating: "Not removed (platform found no violation)",
};
const when = (iso) => (iso ? new Date(iso).toLocaleString() : "–");

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text;
  row.append(td);
}

const plural = (n, word, words = `${word}s`) => `${n} ${n === 1 ? word : words}`;

// The case's fingerprints by image (`image` in the status; one image each if absent).
function byImage(hashes) {
  const groups = new Map();
  hashes.forEach((h, i) => {
    const key = h.image ?? `single-${i}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(h);
  });
  return [...groups.values()];
}

// "Active: ..." when all of an image's fingerprints agree, else each state with its count.
function imageState(hashes) {
  const counts = new Map();
  for (const h of hashes) counts.set(h.state, (counts.get(h.state) || 0) + 1);
  if (counts.size === 1) return STATES[hashes[0].state] || hashes[0].state;
  return [...counts].map(([state, n]) => `${n} ${STATES[state] || state}`).join("; ");
}

function show(status) {
  const removed = status.outcome_counts.removed || 0;
  const images = byImage(status.hashes);
  $("status-summary").textContent =
    `Case ${status.case_id} is ${status.state === "active" ? "active" : "withdrawn"}. ` +
    `${plural(images.length, "image")} (${plural(status.hashes.length, "fingerprint")}), ` +
    `${plural(status.match_count, "match", "matches")}, ${plural(removed, "removal")}.`;
  $("hashes").replaceChildren(...images.map((hashes, i) => {
    const tr = document.createElement("tr");
    cell(tr, String(i + 1));
    cell(tr, String(hashes.length));
    cell(tr, imageState(hashes));
    cell(tr, when(hashes[0].added_at));
    return tr;
  }));
  $("outcomes").replaceChildren(...status.outcomes.map((o) => {
    const tr = document.createElement("tr");
    cell(tr, o.platform);
    cell(tr, OUTCOMES[o.outcome] || o.outcome);
    cell(tr, when(o.matched_at));
    cell(tr, when(o.reported_at));
    return tr;
  }));
  const states = new Set(status.hashes.map((h) => h.state));
  const retired = states.has("retired");
  $("disputed-help").classList.toggle("hidden", !(states.has("disputed") || retired));
  $("retired-help").classList.toggle("hidden", !retired);
  $("no-outcomes").classList.toggle("hidden", status.outcomes.length > 0);
  $("outcomes-table").classList.toggle("hidden", status.outcomes.length === 0);
  const open = status.state === "active";
  $("add").classList.toggle("hidden", !open);
  $("withdraw").classList.toggle("hidden", !open);
  $("status").classList.remove("hidden");
}

const saved = remembered();
if (saved) {
  $("case-id-input").value = saved.caseId;
  $("case-key-input").value = saved.caseKey;
  $("forget").classList.remove("hidden");
}
$("forget").addEventListener("click", () => {
  forget();
  $("forget").classList.add("hidden");
  $("case-key-input").value = "";
});

$("open").addEventListener("submit", async (e) => {
  e.preventDefault();
  const error = $("open-error");
  error.classList.add("hidden");
  const caseId = $("case-id-input").value.trim();
  const key = $("case-key-input").value.trim();
  try {
    const status = await caseStatus(caseId, key);
    current = { caseId, key };
    show(status);
    $("status-title").focus();
  } catch (err) {
    error.textContent = explain(err);
    error.classList.remove("hidden");
  }
});

const addSend = $("add-send");
const hasher = setUpHasher({
  input: $("files"),
  list: $("list"),
  summary: $("summary"),
  limitsNote: $("video-limits"),
  onChange: ({ ready, busy }) => { addSend.disabled = ready === 0 || busy > 0; },
});
addSend.addEventListener("click", async () => {
  addSend.disabled = true;
  const result = $("add-result");
  try {
    // Several requests of whole images when there are many (api.js); progress in between.
    const status = await addImagesToCase(current.caseId, current.key, hasher.results(), {
      onProgress: ({ sent, total }) => {
        result.textContent = total > 1 && sent < total
          ? `Sending fingerprints: ${sent} of ${total} images sent…`
          : "Sending fingerprints…";
      },
    });
    show(status);
    hasher.clear();
    result.textContent = "Added. Platforms are now matching these fingerprints too.";
  } catch (err) {
    if (err instanceof PartlySentError) {
      // The list stays: sending it again is safe, fingerprints already in the case are skipped.
      show(err.lastStatus);
      const reason = explain(err.cause).replace(/([^.!?])$/, "$1.");
      result.textContent =
        `Only ${err.sent} of ${err.total} images were added: ${reason} ` +
        "Press the button again to send the rest (images already added are not added twice).";
    } else {
      result.textContent = explain(err);
    }
    addSend.disabled = false;
  }
});

$("withdraw-start").addEventListener("click", () => {
  $("withdraw-confirm").classList.remove("hidden");
  $("withdraw-no").focus();
});
$("withdraw-no").addEventListener("click", () => {
  $("withdraw-confirm").classList.add("hidden");
  $("withdraw-start").focus();
});
$("withdraw-yes").addEventListener("click", async () => {
  try {
    const status = await withdrawCase(current.caseId, current.key);
    $("withdraw-confirm").classList.add("hidden");
    show(status);
    $("status-summary").textContent =
      "Your case is withdrawn. Your fingerprints no longer match and partners have been told to delete them. " +
      $("status-summary").textContent;
    $("status-title").focus();
  } catch (err) {
    $("confirm-text").textContent = explain(err);
  }
});
