// spencer-signage embed widget: keeps the headline list fresh and tells the host page its
// height, so an iframe needs no fixed size. Written, like the screen's script, for the
// TVs' old engines: ES2016 syntax, no API newer than Chromium 53 but behind a test.
(() => {
  "use strict";
  const body = document.body;
  const list = document.getElementById("list");
  const announcements = document.getElementById("announcements");
  if (!body || !list) return;
  const userlist = body.dataset.userlist || "";
  const lang = body.dataset.lang || "";
  const key = body.dataset.key || "";
  const build = body.dataset.build || "";
  const limit = parseInt(body.dataset.limit, 10) || 0;
  let version = list.dataset.version || "";
  let lastHeight = -1;

  function applyLimit() {
    if (limit <= 0) return;
    list.querySelectorAll(".headline").forEach((li, i) => { li.hidden = i >= limit; });
  }

  // contentHeight is what the widget needs, measured on its content: the document's
  // scrollHeight never goes below the frame's own height, so a frame sized by it could
  // grow but never shrink.
  function contentHeight() {
    return Math.ceil(body.getBoundingClientRect().height);
  }

  // A frame kept smaller than the content (a fixed slot, or before the host has resized
  // it) shows whole cards only: one it would cut is hidden, keeping its place, so the
  // height the widget asks for does not change.
  function hideCut() {
    const bottom = innerHeight + 0.5;
    for (const li of Array.from(list.querySelectorAll(".headline"))) {
      li.classList.toggle("is-cut", li.getBoundingClientRect().bottom > bottom);
    }
  }

  function update() {
    hideCut();
    if (window.parent === window) return;
    const h = contentHeight();
    if (h === lastHeight) return;
    lastHeight = h;
    window.parent.postMessage({ type: "signage-embed-height", height: h }, "*");
  }

  // poll asks for the list again; the dates in it are the server's days, in its
  // screens.time_zone, as on the page it rendered.
  function poll() {
    const p = new URLSearchParams();
    p.set("v", version);
    if (lang) p.set("lang", lang);
    if (key) p.set("key", key);
    fetch("/embed/" + encodeURIComponent(userlist) + "/fragment?" + p, { cache: "no-store" })
      .then((res) => (res.ok ? res.json() : null))
      .then((f) => {
        if (!f) return;
        if (f.build && build && f.build !== build) { location.reload(); return; }
        if (announcements && typeof f.announcements === "string" && f.announcements !== announcements.dataset.html) {
          announcements.innerHTML = announcements.dataset.html = f.announcements;
          update();
        }
        if (f.html && f.version !== version) {
          const tpl = document.createElement("template");
          tpl.innerHTML = f.html;
          list.textContent = "";
          list.appendChild(tpl.content);
          list.dataset.version = version = f.version;
          applyLimit();
          update();
        }
      })
      .catch(() => { /* keep what we show */ });
  }


  if (announcements) announcements.dataset.html = announcements.innerHTML.trim();
  applyLimit();
  update();
  addEventListener("load", update);
  addEventListener("resize", update);
  if ("ResizeObserver" in window) new ResizeObserver(update).observe(body);
  setInterval(poll, 30000 + Math.random() * 5000);
  signageKiosk.cancelFrozenPageRefresh();
  window.__signageEmbed = { version: () => version, height: contentHeight };
})();
