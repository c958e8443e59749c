// spencer-signage embed widget: keeps the headline list fresh and tells the host page its
// height, so an iframe needs no fixed size.
(() => {
  "use strict";
  const body = document.body;
  const list = document.getElementById("list");
  const announcements = document.getElementById("announcements");
  if (!body || !list) return;
  const userlist = body.dataset.userlist || "";
  const lang = body.dataset.lang || "";
  // the CLDR locale the server wrote the dates in
  const locale = body.dataset.locale || document.documentElement.lang || undefined;
  const key = body.dataset.key || "";
  const build = body.dataset.build || "";
  const limit = parseInt(body.dataset.limit, 10) || 0;
  let version = list.dataset.version || "";
  let lastHeight = -1;

  function applyLimit() {
    if (limit <= 0) return;
    list.querySelectorAll(".headline").forEach((li, i) => { li.hidden = i >= limit; });
  }

  // The server wrote each date as a day in UTC; where the reader's time zone puts it on
  // another day, Intl writes it again in the same locale and form.
  const utcDay = (d) => d.getDate() === d.getUTCDate() && d.getMonth() === d.getUTCMonth() && d.getFullYear() === d.getUTCFullYear();
  function localizeDates() {
    let fmt;
    try { fmt = new Intl.DateTimeFormat(locale, { dateStyle: "medium" }); } catch (e) { return; }
    for (const t of list.querySelectorAll("time[datetime]")) {
      const d = new Date(t.getAttribute("datetime"));
      if (!isNaN(d) && !utcDay(d)) t.textContent = fmt.format(d);
    }
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
    for (const li of list.querySelectorAll(".headline")) {
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

  async function poll() {
    const p = new URLSearchParams({ v: version });
    if (lang) p.set("lang", lang);
    if (key) p.set("key", key);
    try {
      const res = await fetch("/embed/" + encodeURIComponent(userlist) + "/fragment?" + p, { cache: "no-store" });
      if (!res.ok) return;
      const f = await res.json();
      if (f.build && build && f.build !== build) { location.reload(); return; }
      if (announcements && typeof f.announcements === "string" && f.announcements !== announcements.dataset.html) {
        announcements.innerHTML = announcements.dataset.html = f.announcements;
        update();
      }
      if (f.html && f.version !== version) {
        const tpl = document.createElement("template");
        tpl.innerHTML = f.html;
        list.replaceChildren(tpl.content);
        list.dataset.version = version = f.version;
        applyLimit();
        localizeDates();
        update();
      }
    } catch (e) { /* keep what we show */ }
  }

  if (announcements) announcements.dataset.html = announcements.innerHTML.trim();
  applyLimit();
  localizeDates();
  update();
  addEventListener("load", update);
  addEventListener("resize", update);
  if ("ResizeObserver" in window) new ResizeObserver(update).observe(body);
  setInterval(poll, 30000 + Math.random() * 5000);
  window.__signageEmbed = { version: () => version, height: contentHeight };
})();
