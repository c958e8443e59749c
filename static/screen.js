// spencer-signage kiosk screen: rotates the slides the server rendered, keeps them live
// over a WebSocket (with HTTP polling as a fallback), and heals itself: reconnects with
// backoff and jitter, reloads when the server's build changes and once a night.
(() => {
  "use strict";

  const body = document.body;
  const deckEl = document.getElementById("deck");
  if (!body || !deckEl) return;

  const cfg = {
    userlist: body.dataset.userlist || "",
    build: body.dataset.build || "",
    interval: Math.max(3, parseInt(body.dataset.interval, 10) || 12) * 1000,
    lang: body.dataset.lang || "",
    // locale is the CLDR locale the server wrote the dates in: Intl writes in the same one,
    // so that what the script writes matches what the page showed before it ran.
    locale: body.dataset.locale || document.documentElement.lang || undefined,
    key: body.dataset.key || "",
    clock: body.dataset.clock === "1",
    quietHour: parseInt(body.dataset.quietHour, 10),
  };
  const STALE_MARKER_AFTER = (parseInt(body.dataset.staleMarkerAfter, 10) || 300) * 1000;
  const HEARTBEAT_EVERY = 30 * 1000;
  const POLL_EVERY = 30 * 1000;
  const loadedAt = Date.now();

  // A stable id for this screen, kept across reloads, so that the operator's status page
  // and alerts recognise it when it comes back.
  // newUUID is a random (version 4) UUID, the form the server accepts as a screen's id.
  // crypto.randomUUID exists only on HTTPS and localhost pages; getRandomValues everywhere.
  function newUUID() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  let sid = "";
  try {
    sid = localStorage.getItem("signage-sid") || "";
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(sid)) {
      sid = newUUID();
      localStorage.setItem("signage-sid", sid);
    }
  } catch (e) { /* no storage: the server falls back to address and browser */ }

  let version = deckEl.dataset.version || "";
  let index = 0;
  let rotateTimer = 0;
  let pendingDeck = null;
  let stale = body.dataset.stale === "1";
  let staleSince = body.dataset.staleSince ? Date.parse(body.dataset.staleSince) : 0;

  let ws = null;
  let transport = "none";
  let wsFailures = 0;
  let openedAt = 0;
  let reconnectTimer = 0;
  let pollTimer = 0;
  let heartbeatTimer = 0;
  let disconnectedAt = 0;

  const slides = () => Array.from(deckEl.querySelectorAll(".slide"));

  function query(extra) {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(extra)) if (v) p.set(k, v);
    if (cfg.lang) p.set("lang", cfg.lang);
    if (cfg.key) p.set("key", cfg.key);
    const s = p.toString();
    return s ? "?" + s : "";
  }

  // ---- fitting text: shrink until it fits, down to its smallest size (data-fit-min, in %
  // of the screen's shorter side); past that, clamp it to the lines that fit, with an
  // ellipsis, so that no line is ever cut in half. "Fits" counts whole lines: comparing
  // scrollHeight with the box would count the glyphs that stick out of a tight line box
  // (some 4 % of the font size) as overflow and shrink titles that fit. ----
  function lineCount(el) {
    const range = document.createRange();
    range.selectNodeContents(el);
    const tops = new Set();
    for (const r of range.getClientRects()) if (r.width >= 1) tops.add(Math.round(r.top));
    return tops.size;
  }

  function fit(root) {
    const shorter = Math.min(innerWidth, innerHeight);
    for (const el of root.querySelectorAll(".fit")) {
      el.style.fontSize = "";
      el.style.webkitLineClamp = "";
      delete el.dataset.clamped;
      let size = parseFloat(getComputedStyle(el).fontSize) || 16;
      const min = Math.min(size, (parseFloat(el.dataset.fitMin) || 2.6) * shorter / 100);
      const lineHeight = () => parseFloat(getComputedStyle(el).lineHeight) || size * 1.2;
      const overflows = () => lineCount(el) * lineHeight() > el.clientHeight + 1;
      let guard = 0;
      while (overflows() && size > min && guard++ < 40) {
        size = Math.max(min, size * 0.95);
        el.style.fontSize = size + "px";
      }
      if (overflows()) {
        el.style.webkitLineClamp = String(Math.max(1, Math.floor((el.clientHeight + 1) / lineHeight())));
        el.dataset.clamped = "1";
      }
    }
  }

  // layout makes room for the chrome: the header band grows when the chrome wraps to a
  // second row (a long name, the stale marker), then the text is fitted again.
  function layout() {
    const chrome = document.querySelector(".chrome");
    if (chrome) {
      const unit = Math.min(innerWidth, innerHeight) / 100;
      const band = Math.max(12 * unit, chrome.offsetTop + chrome.offsetHeight + 2.5 * unit);
      body.style.setProperty("--band", band.toFixed(1) + "px");
    }
    fit(deckEl);
  }

  // ---- dates: the server wrote each one in the screen's locale, as a day in UTC, since
  // it knows no screen's time zone. Where this screen's puts it on another day, Intl
  // writes it again, in the same locale and form; elsewhere the server's text stays. ----
  const utcDay = (d) => d.getDate() === d.getUTCDate() && d.getMonth() === d.getUTCMonth() && d.getFullYear() === d.getUTCFullYear();
  function localizeDates(root) {
    let fmt;
    try {
      fmt = new Intl.DateTimeFormat(cfg.locale, { day: "numeric", month: "long", year: "numeric" });
    } catch (e) {
      return;
    }
    for (const t of root.querySelectorAll("time[datetime]")) {
      const d = new Date(t.getAttribute("datetime"));
      if (!isNaN(d) && !utcDay(d)) t.textContent = fmt.format(d);
    }
  }

  // ---- rotation ----
  function ready(slide) {
    const img = slide && slide.querySelector("img");
    if (!img) return Promise.resolve();
    const decoded = img.decode ? img.decode() : Promise.resolve();
    const timeout = new Promise((resolve) => setTimeout(resolve, 4000));
    return Promise.race([decoded, timeout]).catch(() => {
      // A broken image: show the slide type-led rather than with a hole.
      slide.classList.remove("has-image", "photo-led");
      slide.classList.add("no-image");
      img.closest(".media")?.remove();
      fit(slide);
    });
  }

  function restartProgress() {
    const bar = document.getElementById("progress");
    if (!bar) return;
    bar.classList.remove("run");
    void bar.offsetWidth; // restart the animation
    if (slides().length > 1) {
      bar.style.animationDuration = cfg.interval + "ms";
      bar.classList.add("run");
    }
  }

  // schedule starts the wait for the next slide; while an urgent announcement has the
  // screen or the screen rests in its quiet hours, nothing rotates.
  function schedule() {
    clearTimeout(rotateTimer);
    if (held()) {
      document.getElementById("progress")?.classList.remove("run");
      return;
    }
    restartProgress();
    rotateTimer = setTimeout(advance, cfg.interval);
  }

  async function advance() {
    if (pendingDeck) {
      applyDeck(pendingDeck);
      return;
    }
    const all = slides();
    if (all.length < 2) {
      schedule();
      return;
    }
    await showSlide((index + 1) % all.length);
    schedule();
  }

  // showSlide makes slide next the active one; the style sheet runs the transition.
  async function showSlide(next) {
    const all = slides();
    if (!all[next] || next === index) return;
    await ready(all[next]);
    all[index]?.classList.remove("is-active");
    all[next].classList.add("is-active");
    index = next;
  }

  // applyDeck swaps in a new deck; it waits for a slide boundary unless nothing rotates.
  function applyDeck(msg) {
    pendingDeck = null;
    const tpl = document.createElement("template");
    tpl.innerHTML = msg.html;
    const first = tpl.content.querySelector(".slide, .state");
    const show = () => {
      deckEl.replaceChildren(tpl.content);
      deckEl.dataset.version = msg.version;
      deckEl.dataset.state = first && first.classList.contains("state") ? "state" : "items";
      version = msg.version;
      index = 0;
      localizeDates(deckEl);
      fit(deckEl);
      schedule();
    };
    const img = first && first.querySelector("img");
    if (img) {
      // Decode the new first image off-screen before it shows.
      const probe = new Image();
      probe.src = img.getAttribute("src");
      (probe.decode ? probe.decode() : Promise.resolve()).catch(() => {}).finally(show);
    } else {
      show();
    }
  }

  function onDeck(msg) {
    if (!msg || typeof msg.html !== "string" || msg.version === version) return;
    if (slides().length < 2 || held()) applyDeck(msg); // nothing rotating, or nobody sees it: at once
    else pendingDeck = msg; // at the next slide boundary
  }

  // ---- announcements and quiet hours ----
  // The server sends the announcements layer as HTML (urgent ones over everything, the
  // informative ones as a banner) and the quiet hours as on and off; both come again on
  // every connection, so a screen that was away catches up.
  const annEl = document.getElementById("announcements");
  let quiet = body.dataset.quiet === "1";
  let infoTimer = 0;

  function held() {
    return quiet || !!(annEl && annEl.querySelector(".urgent-layer"));
  }

  function onAnnouncements(html, v) {
    if (!annEl || typeof html !== "string") return;
    annEl.dataset.version = v || "";
    if (html === annEl.dataset.html) return;
    annEl.innerHTML = annEl.dataset.html = html;
    afterAnnouncements();
  }

  function afterAnnouncements() {
    body.classList.toggle("has-urgent", !!annEl.querySelector(".urgent-layer"));
    body.classList.toggle("has-banner", !!annEl.querySelector(".info-banner"));
    fitUrgent();
    rotateInfo();
    layout(); // the banner takes room from the slides
    if (!held() && pendingDeck) applyDeck(pendingDeck);
    else schedule();
  }

  // fitUrgent shrinks an urgent announcement until it fits the screen, down to half its
  // size (its text then stays at 2.5 % of the shorter side or more).
  function fitUrgent() {
    const inner = annEl && annEl.querySelector(".urgent-inner");
    if (!inner) return;
    for (let scale = 1; scale >= 0.5; scale -= 0.05) {
      inner.style.setProperty("--urgent-scale", scale.toFixed(2));
      if (inner.scrollHeight <= inner.clientHeight + 1) return;
    }
  }

  // rotateInfo shows the informative announcements one at a time, a slide's time each.
  function rotateInfo() {
    clearInterval(infoTimer);
    const items = annEl ? Array.from(annEl.querySelectorAll(".info-item")) : [];
    if (items.length < 2) return;
    let i = 0;
    infoTimer = setInterval(() => {
      items[i].classList.remove("is-active");
      i = (i + 1) % items.length;
      items[i].classList.add("is-active");
    }, cfg.interval);
  }

  function onQuiet(on) {
    on = !!on;
    if (on === quiet) return;
    quiet = on;
    body.classList.toggle("quiet", quiet);
    body.dataset.quiet = quiet ? "1" : "0";
    if (!quiet && pendingDeck) applyDeck(pendingDeck); // wake with the current news
    else schedule();
  }

  // ---- stale marker ----
  function onStatus(isStale, since) {
    stale = !!isStale;
    staleSince = stale ? (since ? Date.parse(since) : Date.now()) : 0;
    body.dataset.stale = stale ? "1" : "0";
    updateMarker();
  }

  // The marker says how old the news may be, in words a passer-by understands: since
  // Spencer stopped answering, or since this screen lost the server, whichever came first.
  function updateMarker() {
    const marker = document.getElementById("stale-marker");
    if (!marker) return;
    const since = [stale && staleSince, disconnectedAt].filter((t) => t > 0);
    const from = since.length ? Math.min(...since) : 0;
    const show = from > 0 && Date.now() - from > STALE_MARKER_AFTER;
    if (show) {
      const t = document.getElementById("stale-time");
      if (t) t.textContent = timeOfDay(new Date(from));
    }
    if (marker.hidden !== !show) {
      marker.hidden = !show;
      layout();
    }
  }

  // ---- connection ----
  function wsURL() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    return proto + "//" + location.host + "/screens/" + encodeURIComponent(cfg.userlist) + "/ws" + query({ v: version, b: cfg.build, sid: sid, a: annEl ? annEl.dataset.version : "", q: quiet ? "1" : "" });
  }

  function send(obj) {
    if (ws && ws.readyState === WebSocket.OPEN) {
      try { ws.send(JSON.stringify(obj)); } catch (e) { /* the close handler reconnects */ }
    }
  }

  function heartbeat() {
    send({ type: "heartbeat", version: version, viewport: innerWidth + "x" + innerHeight });
  }

  function handle(msg) {
    if (!msg || typeof msg !== "object") return;
    if (msg.type === "deck") onDeck(msg);
    else if (msg.type === "status") onStatus(msg.stale, msg.since);
    else if (msg.type === "reload") safeReload();
    else if (msg.type === "announcements") onAnnouncements(msg.html, msg.version);
    else if (msg.type === "quiet") onQuiet(msg.quiet);
  }

  function connect() {
    clearTimeout(reconnectTimer);
    if (!cfg.userlist || !("WebSocket" in window)) {
      startPolling();
      return;
    }
    let sock;
    try {
      sock = new WebSocket(wsURL());
    } catch (e) {
      scheduleReconnect();
      return;
    }
    ws = sock;
    let opened = false;
    sock.onopen = () => {
      opened = true;
      openedAt = Date.now();
      transport = "ws";
      disconnectedAt = 0;
      updateMarker();
      stopPolling();
      heartbeat();
      clearInterval(heartbeatTimer);
      heartbeatTimer = setInterval(heartbeat, HEARTBEAT_EVERY);
    };
    sock.onmessage = (ev) => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      handle(msg);
    };
    sock.onerror = () => { /* onclose follows */ };
    sock.onclose = () => {
      if (ws !== sock) return;
      ws = null;
      clearInterval(heartbeatTimer);
      if (transport === "ws") transport = pollTimer ? "poll" : "none";
      if (!disconnectedAt) disconnectedAt = Date.now();
      // A connection that stayed up a while resets the backoff.
      if (opened && Date.now() - openedAt > 30000) wsFailures = 0;
      else if (!opened) wsFailures++;
      else wsFailures = Math.max(wsFailures, 1);
      if (wsFailures >= 3) startPolling();
      scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    clearTimeout(reconnectTimer);
    const cap = Math.min(60000, 1000 * Math.pow(2, Math.min(wsFailures, 6)));
    const delay = 500 + Math.random() * cap; // full jitter
    reconnectTimer = setTimeout(connect, delay);
  }

  // ---- HTTP polling fallback, for proxies that block WebSockets ----
  function startPolling() {
    if (pollTimer) return;
    const tick = async () => {
      try {
        const res = await fetch("/screens/" + encodeURIComponent(cfg.userlist) + "/deck" + query({ v: version }), { cache: "no-store" });
        if (res.ok) {
          const f = await res.json();
          if (f.build && cfg.build && f.build !== cfg.build) return safeReload();
          if (f.html) onDeck({ version: f.version, html: f.html });
          onStatus(f.stale, f.since);
          onAnnouncements(f.announcements, f.announcements_version);
          onQuiet(f.quiet);
          if (!ws) {
            transport = "poll";
            disconnectedAt = 0;
          }
        }
      } catch (e) { /* the server is away: keep showing what we have */ }
    };
    pollTimer = setInterval(tick, POLL_EVERY);
    tick();
  }

  function stopPolling() {
    clearInterval(pollTimer);
    pollTimer = 0;
  }

  // ---- reloads: never into an error page ----
  let reloading = false;
  async function safeReload() {
    if (reloading) return;
    reloading = true;
    try {
      const res = await fetch(location.href, { cache: "no-store", method: "GET" });
      if (res.ok) {
        location.reload();
        return;
      }
    } catch (e) { /* not reachable: try again later */ }
    reloading = false;
    setTimeout(safeReload, 15000 + Math.random() * 15000);
  }

  function nightly() {
    if (!(cfg.quietHour >= 0 && cfg.quietHour <= 23)) return;
    const now = new Date();
    if (now.getHours() === cfg.quietHour && Date.now() - loadedAt > 3600 * 1000) safeReload();
  }

  // ---- clock and burn-in care ----
  // timeOfDay is a time as the screen's locale writes it: 24-hour where the locale is
  // (nl, fr, de), which is Intl's own choice.
  function timeOfDay(d) {
    try {
      return d.toLocaleTimeString(cfg.locale, { hour: "2-digit", minute: "2-digit" });
    } catch (e) {
      return d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
    }
  }

  function tickClock() {
    const el = document.getElementById("clock");
    if (el && cfg.clock) el.textContent = timeOfDay(new Date());
  }

  let shiftStep = 0;
  const shifts = [[0, 0], [3, 1], [1, 4], [-2, 3], [-4, -1], [-1, -4], [2, -3], [4, 2]];
  function shiftChrome() {
    shiftStep = (shiftStep + 1) % shifts.length;
    const [x, y] = shifts[shiftStep];
    document.documentElement.style.setProperty("--shift-x", x + "px");
    document.documentElement.style.setProperty("--shift-y", y + "px");
  }

  // ---- start ----
  if (annEl) {
    annEl.dataset.html = annEl.innerHTML.trim();
    body.classList.toggle("quiet", quiet);
    afterAnnouncements();
  }
  localizeDates(deckEl);
  tickClock();
  layout();
  addEventListener("resize", layout);
  if (document.fonts && document.fonts.ready) document.fonts.ready.then(layout).catch(() => {});
  schedule();
  connect();
  updateMarker();
  setTimeout(() => { tickClock(); setInterval(tickClock, 60000); }, 60000 - (Date.now() % 60000));
  setInterval(updateMarker, 5000);
  setInterval(shiftChrome, 180000);
  setInterval(nightly, 60000);

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
  }

  // For browser tests and curious operators.
  window.__signage = {
    version: () => version,
    slideIndex: () => index,
    slideCount: () => slides().length,
    connected: () => !!(ws && ws.readyState === WebSocket.OPEN),
    transport: () => transport,
    stale: () => stale,
    // show(i) moves to slide i now, with the usual transition, and keeps rotating from there.
    show: (i) => showSlide(i).then(() => { schedule(); return index; }),
    // deck(html) shows a deck as if the server had sent it, at once.
    deck: (html, v) => applyDeck({ html: html, version: v || "test-" + Date.now() }),
    // status(stale, since) is an upstream status as the server sends it.
    status: (isStale, since) => onStatus(isStale, since),
    quiet: () => quiet,
    held: () => held(),
  };
})();
