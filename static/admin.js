// Status page: every few seconds, fetch the page again and bring the #status section up
// to date in place, so the one template on the server renders both (no second renderer in
// script). Only what changed is touched: an opened snippet stays open, the table keeps
// its layout, a selection survives; nothing is updated while text is selected (being
// copied) or the tab is hidden.
(() => {
  "use strict";
  const REFRESH = 5000;
  let busy = false;
  let refreshes = 0;

  // same says whether an old node can become the new one: same kind, same tag, and the
  // same data-id when the row or card has one (rows come and go, and move).
  function same(a, b) {
    if (a.nodeType !== b.nodeType) return false;
    if (a.nodeType !== Node.ELEMENT_NODE) return true;
    return a.tagName === b.tagName && (a.dataset.id || "") === (b.dataset.id || "");
  }

  // morph makes the live node `from` look like `to`. The "open" state of a <details> is
  // the reader's, not the server's, and is left alone.
  function morph(from, to) {
    if (from.nodeType === Node.TEXT_NODE || from.nodeType === Node.COMMENT_NODE) {
      if (from.nodeValue !== to.nodeValue) from.nodeValue = to.nodeValue;
      return;
    }
    const keep = from.tagName === "DETAILS" ? "open" : "";
    for (const a of Array.from(from.attributes)) {
      if (a.name !== keep && !to.hasAttribute(a.name)) from.removeAttribute(a.name);
    }
    for (const a of Array.from(to.attributes)) {
      if (a.name !== keep && from.getAttribute(a.name) !== a.value) from.setAttribute(a.name, a.value);
    }
    const wanted = Array.from(to.childNodes);
    let pool = Array.from(from.childNodes);
    wanted.forEach((next, i) => {
      const match = pool.find((old) => same(old, next));
      let node;
      if (match) {
        pool = pool.filter((old) => old !== match);
        morph(match, next);
        node = match;
      } else {
        node = document.importNode(next, true);
      }
      if (from.childNodes[i] !== node) from.insertBefore(node, from.childNodes[i] || null);
    });
    for (const old of pool) old.remove();
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
      morph(now, fresh);
      refreshes++;
    } catch (e) {
      /* try again at the next tick */
    } finally {
      busy = false;
    }
  }
  setInterval(refresh, REFRESH);
  document.addEventListener("visibilitychange", refresh);
  // For browser tests: refresh now, and count the refreshes done.
  window.__signageAdmin = { refresh: refresh, refreshes: () => refreshes };
})();
