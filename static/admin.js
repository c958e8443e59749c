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

  // ---- the announcement form: a preview as the screens will show it, and a JSON POST to
  // the same API that scripts use ----
  const form = document.getElementById("announce-form");
  const preview = document.getElementById("announce-preview");
  const result = document.getElementById("announce-result");
  function draft() {
    const data = new FormData(form);
    const minutes = parseInt(data.get("duration"), 10) || 60;
    return {
      title: (data.get("title") || "").trim(),
      text: (data.get("text") || "").trim(),
      severity: data.get("severity") === "urgent" ? "urgent" : "info",
      userlists: data.getAll("userlists"),
      expires_at: new Date(Date.now() + minutes * 60000).toISOString(),
    };
  }
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }
  // isolated is el with its text in a <bdi>, as the screens show an announcement: a
  // right-to-left text does not reorder what is around it.
  function isolated(tag, cls, text) {
    const e = el(tag, cls);
    e.append(el("bdi", "", text));
    return e;
  }
  function renderPreview() {
    const d = draft();
    preview.replaceChildren();
    preview.dataset.severity = d.severity;
    if (!d.text) {
      preview.append(el("p", "announce-preview-empty", "Write a text to see how the screens will show it."));
      return;
    }
    if (d.severity === "urgent") {
      const layer = el("div", "preview-urgent");
      layer.append(el("p", "urgent-label", "Urgent"));
      if (d.title) layer.append(isolated("p", "preview-urgent-title", d.title));
      layer.append(isolated("p", "preview-urgent-text", d.text));
      preview.append(layer);
    } else {
      const banner = el("div", "preview-banner");
      banner.append(el("span", "info-label", "Announcement"));
      const line = el("span", "preview-banner-text");
      if (d.title) line.append(isolated("strong", "", d.title), " ");
      line.append(el("bdi", "", d.text));
      banner.append(line);
      preview.append(banner);
    }
  }
  if (form && preview) {
    form.addEventListener("input", renderPreview);
    form.addEventListener("change", renderPreview);
    renderPreview();
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      result.textContent = "Sending…";
      try {
        const res = await fetch("/admin/announcements", {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(draft()),
        });
        const answer = await res.json().catch(() => ({}));
        if (!res.ok) {
          result.textContent = answer.error || "Refused (" + res.status + ").";
          return;
        }
        result.textContent = "On the screens now.";
        form.reset();
        renderPreview();
        refresh();
      } catch (e) {
        result.textContent = "The server did not answer.";
      }
    });
  }

  // ---- the pairing form: a JSON POST to the API that scripts use, so that what went
  // wrong (a wrong code, a slug taken) is said next to it ----
  const pairForm = document.getElementById("pair-form");
  const pairResult = document.getElementById("pair-result");
  if (pairForm && pairResult) {
    pairForm.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const box = (name) => {
        const el = pairForm.querySelector('input[type=checkbox][name="' + name + '"]');
        return !!(el && el.checked);
      };
      const data = new FormData(pairForm);
      const body = {
        code: data.get("code") || "",
        name: (data.get("name") || "").trim(),
        userlist: data.get("userlist") || "",
        theme: data.get("theme") || "dark",
        interval: parseInt(data.get("interval"), 10) || 0,
        lang: (data.get("lang") || "").trim(),
        qr: box("qr"),
        clock: box("clock"),
        quiet: box("quiet"),
      };
      const slug = (data.get("slug") || "").trim();
      if (slug) body.slug = slug;
      pairResult.textContent = "Pairing…";
      try {
        const res = await fetch("/admin/screens", {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(body),
        });
        const answer = await res.json().catch(() => ({}));
        if (!res.ok) {
          pairResult.textContent = answer.error || "Refused (" + res.status + ").";
          return;
        }
        pairResult.textContent = "Paired: " + answer.name + " shows " + (answer.userlist_name || "its userlist") + " now, and at /s/" + answer.slug + ".";
        pairForm.reset();
        pairForm.querySelector('input[name="code"]').value = "";
        refresh();
      } catch (e) {
        pairResult.textContent = "The server did not answer.";
      }
    });
  }
})();
