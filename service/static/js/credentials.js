// Show a new case's id and key once, with copy, download and an opt-in "remember".
// The key is kept in localStorage only if the survivor ticks the box.

const STORE = "hashbank.case";

export function remembered() {
  try {
    return JSON.parse(localStorage.getItem(STORE) || "null");
  } catch {
    return null;
  }
}

export function forget() {
  localStorage.removeItem(STORE);
}

export function offerCredentials(caseId, caseKey) {
  const $ = (id) => document.getElementById(id);
  $("case-id").textContent = caseId;
  $("case-key").textContent = caseKey;
  const text = `hashbank case\ncase id:  ${caseId}\ncase key: ${caseKey}\n\n` +
    `Keep this private. The key cannot be recovered. Open your case at ${location.origin}/case\n`;
  $("copy").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
      $("copied").textContent = "Copied. Paste it somewhere safe.";
    } catch {
      $("copied").textContent = "Copying is blocked here: select the id and key and copy them by hand.";
    }
  });
  $("download").addEventListener("click", () => {
    const url = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = `hashbank-case-${caseId}.txt`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  });
  $("remember").addEventListener("change", (e) => {
    if (e.target.checked) localStorage.setItem(STORE, JSON.stringify({ caseId, caseKey }));
    else forget();
  });
}
