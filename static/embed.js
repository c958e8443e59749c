// spencer-signage embed widget: keeps the headline list fresh and tells the host page its
// height, so an iframe needs no fixed size.
(() => {
  "use strict";
  const body = document.body;
  const list = document.getElementById("list");
  if (!body || !list) return;
  const userlist = body.dataset.userlist || "";
  const lang = body.dataset.lang || "";
  const key = body.dataset.key || "";
  const build = body.dataset.build || "";
  const limit = parseInt(body.dataset.limit, 10) || 0;
  let version = list.dataset.version || "";

  function applyLimit() {
    if (limit <= 0) return;
    list.querySelectorAll(".headline").forEach((li, i) => { li.hidden = i >= limit; });
  }

  function localizeDates() {
    let fmt;
    try { fmt = new Intl.DateTimeFormat(lang || document.documentElement.lang || undefined, { day: "numeric", month: "short", year: "numeric" }); } catch (e) { return; }
    for (const t of list.querySelectorAll("time[datetime]")) {
      const d = new Date(t.getAttribute("datetime"));
      if (!isNaN(d)) t.textContent = fmt.format(d);
    }
  }

  function postHeight() {
    if (window.parent === window) return;
    window.parent.postMessage({ type: "signage-embed-height", height: document.documentElement.scrollHeight }, "*");
  }

  async function poll() {
    const p = new URLSearchParams({ v: version });
    if (lang) p.set("lang", lang);
    if (key) p.set("key", key);
    try {
      const res = await fetch("/embed/" + encodeURIComponent(userlist) + "/fragment?" + p, { cache: "no-store" });
      if (!res.ok) return;
      const f = await res.json();
      if (f.build && build && f.build !== build) { location.reload(); return; }
      if (f.html && f.version !== version) {
        const tpl = document.createElement("template");
        tpl.innerHTML = f.html;
        list.replaceChildren(tpl.content);
        list.dataset.version = version = f.version;
        applyLimit();
        localizeDates();
        postHeight();
      }
    } catch (e) { /* keep what we show */ }
  }

  applyLimit();
  localizeDates();
  postHeight();
  addEventListener("load", postHeight);
  if ("ResizeObserver" in window) new ResizeObserver(postHeight).observe(document.documentElement);
  setInterval(poll, 30000 + Math.random() * 5000);
  window.__signageEmbed = { version: () => version };
})();
