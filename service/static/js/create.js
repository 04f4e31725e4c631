// The "create a case" page: hash images in a worker, send only the hashes, show the key once.

import { createCase, explain } from "./api.js";
import { setUpHasher } from "./hashing-ui.js";
import { offerCredentials } from "./credentials.js";

const $ = (id) => document.getElementById(id);

const submit = $("submit");
const hasher = setUpHasher({
  input: $("files"),
  drop: $("drop"),
  list: $("list"),
  summary: $("summary"),
  onChange: ({ ready, busy }) => { submit.disabled = ready === 0 || busy > 0; },
});

submit.addEventListener("click", async () => {
  const error = $("send-error");
  error.classList.add("hidden");
  submit.disabled = true;
  try {
    const created = await createCase(hasher.results());
    hasher.clear();
    $("choose").classList.add("hidden");
    $("send").classList.add("hidden");
    offerCredentials(created.case_id, created.case_key);
    $("created").classList.remove("hidden");
    $("created-title").focus();
  } catch (e) {
    error.textContent = explain(e);
    error.classList.remove("hidden");
    submit.disabled = false;
  }
});
