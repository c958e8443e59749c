// spencer-signage kiosk screen: rotates the slides the server rendered, keeps them live
// over a WebSocket (with HTTP polling as a fallback), and heals itself: reconnects with
// backoff and jitter, reloads when the server's build changes and once a night. Written
// for old TVs: ES2016 (no async, so that Chromium 53 runs it), and no API newer than
// Chromium 53 but behind a test (make lint checks both).
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
    // locale is the CLDR locale the server wrote the dates in: Intl writes the clock in
    // the same one, so that what the script writes matches what the page showed before.
    locale: body.dataset.locale || document.documentElement.lang || undefined,
    key: body.dataset.key || "",
    clock: body.dataset.clock === "1",
    reloadHour: parseInt(body.dataset.quietHour, 10),
  };
  // a screen set up with a pairing code goes live at /s, and keeps its kiosk's id
  const base = body.dataset.base || "/screens/" + encodeURIComponent(cfg.userlist);
  try { if (body.dataset.device) localStorage.setItem("signage-device", body.dataset.device); } catch (e) { /* none */ }
  const STALE_MARKER_AFTER = (parseInt(body.dataset.staleMarkerAfter, 10) || 300) * 1000;
  const HEARTBEAT_EVERY = 30 * 1000;
  const POLL_EVERY = 30 * 1000;
  const CLOCK_CHECK_EVERY = 3600 * 1000; // the server's time, asked again while on the WebSocket
  const reduceMotion = !!(window.matchMedia && matchMedia("(prefers-reduced-motion: reduce)").matches);

  // ---- the server's clock ----
  // The clock, the "last updated" marker and the nightly reload follow the server's time
  // in its screens.time_zone, never the device's (signage networks block NTP, TVs keep
  // their factory zone): the difference from the device's clock (skew), measured from the
  // page and from each poll's answer, and the zone as the server gives it (views.Zone).
  const clock = { skew: 0, at: 0, zone: { offset: 0, until: 0, next: 0 }, base: 0 };

  function zoneOf(z) {
    return z && typeof z.offset === "number" ? { offset: z.offset, until: z.until || 0, next: z.next || 0 } : null;
  }

  // setClock takes the server's time serverMs seen at the device's deviceMs, in zone z;
  // keep remembers it for the next page.
  function setClock(serverMs, deviceMs, z, keep) {
    if (!(serverMs > 0)) return;
    clock.skew = serverMs - deviceMs;
    clock.at = serverMs;
    clock.zone = zoneOf(z) || clock.zone;
    // the device's clock against its monotonic one: they part when someone sets it
    clock.base = Date.now() - performance.now();
    if (keep) {
      try { localStorage.setItem("signage-clock", JSON.stringify({ skew: clock.skew, at: clock.at, zone: clock.zone })); } catch (e) { /* no storage */ }
    }
  }

  function serverNow() { return Date.now() + clock.skew; }

  // wall is the instant t as a Date whose UTC fields read the server's zone's time.
  function wall(t) {
    const z = clock.zone;
    const offset = z.until && t >= z.until ? z.next : z.offset;
    return new Date(t + offset * 60000);
  }

  let timeFormat = null;
  try {
    timeFormat = new Intl.DateTimeFormat(cfg.locale, { hour: "2-digit", minute: "2-digit", timeZone: "UTC" });
  } catch (e) {
    try { timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", timeZone: "UTC" }); } catch (e2) { /* by hand below */ }
  }

  // timeOfDay is t's time of day in the server's zone, as the locale writes it (Intl).
  function timeOfDay(t) {
    const d = wall(t);
    if (timeFormat) return timeFormat.format(d);
    return ("0" + d.getUTCHours()).slice(-2) + ":" + ("0" + d.getUTCMinutes()).slice(-2);
  }

  // The page's measurement: the time it was rendered at, against the device's as it
  // arrived; unless a later answer is remembered, when this is an older page the service
  // worker kept, opened while the server is away.
  (function startClock() {
    const timing = window.performance && performance.timing;
    const arrived = timing && timing.responseStart > 0 ? timing.responseStart : Date.now();
    const rendered = parseInt(body.dataset.now, 10);
    let zone = null;
    try { zone = JSON.parse(body.dataset.zone || "null"); } catch (e) { /* the offset stays 0 */ }
    let kept = null;
    try { kept = JSON.parse(localStorage.getItem("signage-clock") || "null"); } catch (e) { /* none */ }
    if (kept && kept.at > rendered) setClock(kept.at, kept.at - kept.skew, kept.zone, false);
    else setClock(rendered, arrived, zone, true);
  })();

  // An answer carrying the server's time (a poll's), the round trip split in two; not one
  // the service worker kept.
  function clockFromAnswer(res, f, sentAt) {
    if (!f || !(f.now > 0) || res.headers.get("Signage-From-Cache")) return;
    setClock(f.now, (sentAt + Date.now()) / 2, f.zone, true);
  }


  // A stable id for this screen, kept across reloads, so that the operator's status page
  // and alerts recognise it when it comes back.
  // newUUID is a random (version 4) UUID, the form the server accepts as a screen's id.
  // crypto.randomUUID exists only on HTTPS and localhost pages; getRandomValues everywhere.
  function newUUID() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => ("0" + x.toString(16)).slice(-2)).join("");
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
  let disconnectedAt = 0; // in the server's time

  const slides = () => Array.from(deckEl.querySelectorAll(".slide"));

  function query(extra) {
    const p = new URLSearchParams();
    Object.keys(extra).forEach((k) => { if (extra[k]) p.set(k, extra[k]); });
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
  // lines is how many lines el has and how far apart they are, as laid out. The distance
  // is measured, not the computed line-height: Chromium up to 88 at least and WebKit set
  // lines a whole number of pixels apart (151 px for a computed 151.63), and at the
  // computed value two lines that fit would count as a pixel too tall.
  function lines(el) {
    const range = document.createRange();
    range.selectNodeContents(el);
    const rects = range.getClientRects();
    const tops = new Set();
    let first = Infinity, last = -Infinity;
    for (let i = 0; i < rects.length; i++) {
      if (rects[i].width < 1) continue;
      tops.add(Math.round(rects[i].top));
      first = Math.min(first, rects[i].top);
      last = Math.max(last, rects[i].top);
    }
    const n = tops.size;
    const pitch = n > 1 ? (last - first) / (n - 1) : parseFloat(getComputedStyle(el).lineHeight);
    return { n: n, pitch: pitch || parseFloat(getComputedStyle(el).fontSize) * 1.2 };
  }

  function fit(root) {
    const shorter = Math.min(innerWidth, innerHeight);
    for (const el of Array.from(root.querySelectorAll(".fit"))) {
      el.style.fontSize = "";
      el.style.webkitLineClamp = "";
      delete el.dataset.clamped;
      let size = parseFloat(getComputedStyle(el).fontSize) || 16;
      const min = Math.min(size, (parseFloat(el.dataset.fitMin) || 2.6) * shorter / 100);
      const overflows = () => {
        const l = lines(el);
        return l.n * l.pitch > el.clientHeight + 1;
      };
      let guard = 0;
      while (overflows() && size > min && guard++ < 40) {
        size = Math.max(min, size * 0.95);
        el.style.fontSize = size + "px";
      }
      if (overflows()) {
        el.style.webkitLineClamp = String(Math.max(1, Math.floor((el.clientHeight + 1) / lines(el).pitch)));
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

  // ---- rotation ----
  // ready waits for the slide's image (4 s at most); a broken one makes it type-led.
  function ready(slide) {
    const img = slide && slide.querySelector("img");
    if (!img) return Promise.resolve();
    const decoded = img.decode ? img.decode() : loaded(img);
    const timeout = new Promise((resolve) => setTimeout(resolve, 4000));
    return Promise.race([decoded, timeout]).catch(() => {
      slide.classList.remove("has-image", "photo-led");
      slide.classList.add("no-image");
      const media = img.closest(".media");
      if (media) media.parentNode.removeChild(media);
      fit(slide);
    });
  }

  // loaded is decode() for engines without it (before Chromium 64): the image's load.
  function loaded(img) {
    if (img.complete) return img.naturalWidth > 0 ? Promise.resolve() : Promise.reject(new Error("broken image"));
    return new Promise((resolve, reject) => {
      img.addEventListener("load", resolve);
      img.addEventListener("error", reject);
    });
  }

  // restartProgress fills the bar over the slide's time, a step a second: an animation,
  // even in steps(), makes the browser draw sixty frames a second, which costs a TV's
  // chip more than the rest of the screen between two slides.
  let progressTimer = 0;
  function restartProgress() {
    clearInterval(progressTimer);
    const bar = document.getElementById("progress");
    if (!bar) return;
    bar.style.transform = "scaleX(0)";
    if (slides().length < 2 || reduceMotion) return;
    const started = Date.now();
    progressTimer = setInterval(() => {
      const done = Math.min(1, (Date.now() - started + 500) / cfg.interval);
      bar.style.transform = "scaleX(" + done.toFixed(3) + ")";
      if (done >= 1) clearInterval(progressTimer);
    }, 1000);
  }

  function stopProgress() {
    clearInterval(progressTimer);
    const bar = document.getElementById("progress");
    if (bar) bar.style.transform = "scaleX(0)";
  }

  // schedule starts the wait for the next slide; while an urgent announcement has the
  // screen or the screen rests in its quiet hours, nothing rotates.
  function schedule() {
    clearTimeout(rotateTimer);
    if (held()) {
      stopProgress();
      return;
    }
    restartProgress();
    rotateTimer = setTimeout(advance, cfg.interval);
  }

  function advance() {
    if (pendingDeck) {
      applyDeck(pendingDeck, true);
      return;
    }
    const all = slides();
    if (all.length < 2) {
      schedule();
      return;
    }
    showSlide((index + 1) % all.length, true).then(schedule, schedule);
  }

  // showSlide makes slide next the active one; the style sheet runs the transition. A
  // move of the rotation that is still waiting for its photo when the screen is held (an
  // urgent announcement came, or the quiet hours) does not happen: behind the hold, the
  // slide stays the one it covered.
  function showSlide(next, rotating) {
    const all = slides();
    if (!all[next] || next === index) return Promise.resolve();
    return ready(all[next]).then(() => {
      if (rotating && held()) return;
      const now = slides();
      if (now[index]) now[index].classList.remove("is-active");
      if (!now[next]) return;
      now[next].classList.add("is-active");
      index = next;
    });
  }

  // slideIDs names a deck's slides in order.
  function slideIDs(root) {
    return Array.prototype.map.call(root.querySelectorAll(".slide"), (el) => el.getAttribute("data-id")).join("\n");
  }

  // applyDeck swaps in a new deck; it waits for a slide boundary unless nothing rotates.
  // A deck of the same slides (a photo arrived, a text changed) goes on from the slide
  // shown, which stays on screen, to the next one, rather than starting over.
  function applyDeck(msg, atBoundary) {
    pendingDeck = null;
    const tpl = document.createElement("template");
    tpl.innerHTML = msg.html;
    const same = slides().length > 1 && slideIDs(tpl.content) === slideIDs(deckEl);
    const from = same ? index : 0;
    const first = tpl.content.querySelectorAll(".slide, .state")[from];
    const show = () => {
      deckEl.textContent = "";
      deckEl.appendChild(tpl.content);
      deckEl.dataset.version = msg.version;
      deckEl.dataset.state = first && first.classList.contains("state") ? "state" : "items";
      version = msg.version;
      index = 0;
      if (same && from > 0) {
        const all = slides();
        all[0].classList.remove("is-active");
        all[from].classList.add("is-active");
        index = from;
      }
      fit(deckEl);
      if (same && atBoundary) showSlide((index + 1) % slides().length).then(schedule, schedule);
      else schedule();
    };
    const img = first && first.querySelector("img");
    if (img) {
      // Decode the new shown image off-screen before it shows, in the width this screen
      // takes of it.
      const probe = new Image();
      if (img.getAttribute("srcset")) {
        probe.sizes = img.getAttribute("sizes") || "";
        probe.srcset = img.getAttribute("srcset");
      }
      probe.src = img.getAttribute("src");
      const decoded = probe.decode ? probe.decode() : loaded(probe);
      Promise.race([decoded, new Promise((resolve) => setTimeout(resolve, 4000))]).then(show, show);
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
    staleSince = stale ? (since ? Date.parse(since) : serverNow()) : 0;
    body.dataset.stale = stale ? "1" : "0";
    updateMarker();
  }

  // The marker says how old the news may be, in words a passer-by understands: since
  // Spencer stopped answering, or since this screen lost the server, whichever came first.
  function updateMarker() {
    const marker = document.getElementById("stale-marker");
    if (!marker) return;
    const since = [stale && staleSince, disconnectedAt].filter((t) => t > 0);
    const from = since.length ? Math.min.apply(Math, since) : 0;
    const show = from > 0 && serverNow() - from > STALE_MARKER_AFTER;
    if (show) {
      const t = document.getElementById("stale-time");
      if (t) t.textContent = timeOfDay(from);
    }
    if (marker.hidden !== !show) {
      marker.hidden = !show;
      layout();
    }
  }

  // ---- connection ----
  function wsURL() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    return proto + "//" + location.host + base + "/ws" + query({ v: version, b: cfg.build, sid: sid, a: annEl ? annEl.dataset.version : "", q: quiet ? "1" : "" });
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
    else if (msg.type === "identify") identify(msg);
  }

  // identify shows the screen's name full screen for a while: which TV is it?
  let named = 0;
  function identify(msg) {
    let el = document.getElementById("identify");
    if (!el) {
      el = body.appendChild(document.createElement("div"));
      el.id = el.dataset.testid = "identify";
      el.className = "identify-layer";
    }
    el.textContent = msg.name || "";
    el.hidden = false;
    clearTimeout(named);
    named = setTimeout(() => { el.hidden = true; }, (msg.seconds || 10) * 1000);
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
      const wasAway = disconnectedAt > 0;
      disconnectedAt = 0;
      updateMarker();
      stopPolling();
      heartbeat();
      clearInterval(heartbeatTimer);
      heartbeatTimer = setInterval(heartbeat, HEARTBEAT_EVERY);
      if (wasAway) checkClock(); // the server may have been away long enough to matter
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
      if (!disconnectedAt) disconnectedAt = serverNow();
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

  // ---- HTTP polling: the fallback for proxies that block WebSockets, and the clock ----
  // fetchDeck resolves to the deck this screen would be sent (with the server's time), or
  // null.
  function fetchDeck() {
    const sentAt = Date.now();
    return fetch(base + "/deck" + query({ v: version }), { cache: "no-store" })
      .then((res) => {
        if (!res.ok) return null;
        return res.json().then((f) => {
          clockFromAnswer(res, f, sentAt);
          return f;
        });
      })
      .catch(() => null); // the server is away: keep showing what we have
  }

  function poll() {
    return fetchDeck().then((f) => {
      if (!f) return;
      if (f.build && cfg.build && f.build !== cfg.build) {
        safeReload();
        return;
      }
      if (f.html) onDeck({ version: f.version, html: f.html });
      onStatus(f.stale, f.since);
      onAnnouncements(f.announcements, f.announcements_version);
      onQuiet(f.quiet);
      if (!ws) {
        transport = "poll";
        disconnectedAt = 0;
      }
    });
  }

  function startPolling() {
    if (pollTimer) return;
    pollTimer = setInterval(poll, POLL_EVERY);
    poll();
  }

  function stopPolling() {
    clearInterval(pollTimer);
    pollTimer = 0;
  }

  // checkClock asks the server its time again, unless the polls do already.
  let clockCheckedAt = 0;
  function checkClock() {
    if (pollTimer || !cfg.userlist) return;
    clockCheckedAt = performance.now();
    fetchDeck();
  }

  // tickTime asks the server's time again every hour, and at once when the device's clock
  // jumped.
  function tickTime() {
    const jumped = Math.abs(Date.now() - performance.now() - clock.base) > 5000;
    if (jumped) clock.base = Date.now() - performance.now();
    if (jumped || performance.now() - clockCheckedAt > CLOCK_CHECK_EVERY) checkClock();
  }

  // ---- reloads: never into an error page ----
  function safeReload() { signageKiosk.safeReload(15000); }

  // nightly reloads the page at the server's reload_hour, so that a browser left for
  // months never grows without bound.
  function nightly() {
    if (!(cfg.reloadHour >= 0 && cfg.reloadHour <= 23)) return;
    if (wall(serverNow()).getUTCHours() === cfg.reloadHour && performance.now() > 3600 * 1000) safeReload();
  }

  // ---- clock and burn-in care ----
  // tickClock writes the time and comes back at the start of the server's next minute.
  let clockTimer = 0;
  function tickClock() {
    clearTimeout(clockTimer);
    const el = document.getElementById("clock");
    if (el && cfg.clock) el.textContent = timeOfDay(serverNow());
    nightly();
    clockTimer = setTimeout(tickClock, 60000 - (serverNow() % 60000) + 50);
  }

  let shiftStep = 0;
  const shifts = [[0, 0], [3, 1], [1, 4], [-2, 3], [-4, -1], [-1, -4], [2, -3], [4, 2]];
  function shiftChrome() {
    shiftStep = (shiftStep + 1) % shifts.length;
    document.documentElement.style.setProperty("--shift-x", shifts[shiftStep][0] + "px");
    document.documentElement.style.setProperty("--shift-y", shifts[shiftStep][1] + "px");
  }

  // ---- start ----
  if (annEl) {
    annEl.dataset.html = annEl.innerHTML.trim();
    body.classList.toggle("quiet", quiet);
    afterAnnouncements();
  }
  tickClock();
  layout();
  addEventListener("resize", layout);
  if (document.fonts && document.fonts.ready) document.fonts.ready.then(layout).catch(() => {});
  schedule();
  connect();
  updateMarker();
  setInterval(updateMarker, 5000);
  setInterval(tickTime, 5000);
  clockCheckedAt = performance.now(); // the page itself is a fresh answer
  setInterval(shiftChrome, 180000);

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
  }
  signageKiosk.cancelFrozenPageRefresh();

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
    // serverTime() is the server's time as this screen keeps it, in milliseconds.
    serverTime: () => serverNow(),
  };
})();
