// Status page: every few seconds, fetch the page again and swap in its status section,
// so the one template on the server renders both (no second renderer in script). Open
// snippets stay open, and nothing is swapped while text is selected (being copied) or
// the tab is hidden.
(() => {
  "use strict";
  const REFRESH = 5000;
  let busy = false;
  function openDetails(root) {
    const open = new Set();
    root.querySelectorAll("details[open]").forEach((d) => {
      const row = d.closest("[data-id]");
      if (row) open.add(row.dataset.id);
    });
    return open;
  }
  async function refresh() {
    if (busy || document.hidden) return;
    const sel = getSelection();
    const current = document.getElementById("status");
    if (!current || (sel && !sel.isCollapsed && current.contains(sel.anchorNode))) return;
    busy = true;
    try {
      const res = await fetch("/admin", { cache: "no-store", credentials: "same-origin" });
      if (!res.ok) return;
      const doc = new DOMParser().parseFromString(await res.text(), "text/html");
      const fresh = doc.getElementById("status");
      const now = document.getElementById("status");
      if (!fresh || !now) return;
      const open = openDetails(now);
      fresh.querySelectorAll("details").forEach((d) => {
        const row = d.closest("[data-id]");
        if (row && open.has(row.dataset.id)) d.open = true;
      });
      now.replaceWith(fresh);
    } catch (e) {
      /* try again at the next tick */
    } finally {
      busy = false;
    }
  }
  setInterval(refresh, REFRESH);
  document.addEventListener("visibilitychange", refresh);
})();
