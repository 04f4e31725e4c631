// The "create a case" page: hash images and videos in the browser, send only the
// hashes, show the key once. Each image gives several hashes (policy.js), a video one
// per second and its MD5, so a large case is sent in several requests of whole images
// and videos: the first creates the case, the others add to it.

import { PartlySentError, createCaseFromImages, explain } from "./api.js";
import { setUpHasher } from "./hashing-ui.js";
import { offerCredentials } from "./credentials.js";

const $ = (id) => document.getElementById(id);

const submit = $("submit");
const sending = $("send-progress");
const hasher = setUpHasher({
  input: $("files"),
  drop: $("drop"),
  list: $("list"),
  summary: $("summary"),
  limitsNote: $("video-limits"),
  onChange: ({ ready, busy }) => { submit.disabled = ready === 0 || busy > 0; },
});

function showCreated(caseId, caseKey) {
  hasher.clear();
  sending.textContent = "";
  $("choose").classList.add("hidden");
  $("send").classList.add("hidden");
  offerCredentials(caseId, caseKey);
  $("created").classList.remove("hidden");
  $("created-title").focus();
}

submit.addEventListener("click", async () => {
  const error = $("send-error");
  error.classList.add("hidden");
  submit.disabled = true;
  const images = hasher.results();
  try {
    const created = await createCaseFromImages(images, {
      onProgress: ({ sent, total }) => {
        sending.textContent = total > 1 && sent < total
          ? `Sending fingerprints: ${sent} of ${total} images sent…`
          : "Sending fingerprints…";
      },
    });
    showCreated(created.case_id, created.case_key);
  } catch (e) {
    if (e instanceof PartlySentError) {
      // The case exists with the first images: the id and key must be shown all the same.
      const reason = explain(e.cause).replace(/([^.!?])$/, "$1.");
      $("partial").textContent =
        `Your case was created, but only ${e.sent} of your ${e.total} images are in it. ` +
        `The rest could not be sent: ${reason} Save the case id and key below, then open ` +
        "your case and add the other images (choosing all of them again is fine: nothing is added twice).";
      $("partial").classList.remove("hidden");
      showCreated(e.caseId, e.caseKey);
      return;
    }
    sending.textContent = "";
    error.textContent = explain(e);
    error.classList.remove("hidden");
    submit.disabled = false;
  }
});
