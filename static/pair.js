// spencer-signage pairing view: a kiosk the server does not know shows a code until the
// operator pairs it in /admin. The page stays live over a WebSocket (HTTP polling where
// that is blocked), so that the pairing reaches it within a second: it then reloads onto
// its screen. It asks for a new code before its code ends. Written for old TVs, as the
// screen's script is: ES2016, and nothing newer than Chromium 53 unguarded.
(() => {
  "use strict";

  const body = document.body;
  const card = document.getElementById("pair");
  if (!body || !card) return;

  const build = body.dataset.build || "";
  const lang = body.dataset.lang || "";
  const HEARTBEAT_EVERY = 30 * 1000;
  const POLL_EVERY = 1000; // without a WebSocket: the pairing still reaches it within a second or so
  let code = card.dataset.code || "";

  // ---- the browser's id: in its cookie, and in localStorage, from which a lost cookie
  // comes back (a TV that clears its cookies but not its storage); once, never in a loop ----
  (function remember() {
    const id = body.dataset.device || "";
    let kept = "";
    try { kept = localStorage.getItem("signage-device") || ""; } catch (e) { return; }
    if (/^[0-9a-f]{32}$/.test(kept) && kept !== id) {
      let tried = "";
      try { tried = sessionStorage.getItem("signage-device-restored") || ""; } catch (e) { /* no storage */ }
      if (tried !== kept) {
        try { sessionStorage.setItem("signage-device-restored", kept); } catch (e) { /* no storage */ }
        document.cookie = "signage_device=" + kept + "; path=/s; max-age=34560000; samesite=lax" + (location.protocol === "https:" ? "; secure" : "");
        if (document.cookie.indexOf("signage_device=" + kept) >= 0) {
          location.reload();
          return;
        }
      }
    }
    if (id) {
      try { localStorage.setItem("signage-device", id); } catch (e) { /* no storage */ }
    }
  })();


  function viewport() { return innerWidth + "x" + innerHeight; }

  function query(extra) {
    const p = new URLSearchParams();
    Object.keys(extra).forEach((k) => { if (extra[k]) p.set(k, extra[k]); });
    if (lang) p.set("lang", lang);
    return "?" + p.toString();
  }

  // ---- reloads: never into an error page ----
  function safeReload() { signageKiosk.safeReload(5000); }

  // ---- the code ----
  let renewTimer = 0;
  function scheduleRenew(ms) {
    clearTimeout(renewTimer);
    if (ms > 0) renewTimer = setTimeout(renew, ms);
  }

  function onCode(f) {
    if (f && typeof f.html === "string" && f.html && f.version && f.version !== code) {
      card.innerHTML = f.html;
      code = f.version;
      card.dataset.code = code;
    }
    if (f && f.renew > 0) scheduleRenew(f.renew);
  }

  // ask polls the server: paired (another build: reload), and, with renewing, the code to
  // show now. It resolves to whether the server answered.
  function ask(renewing) {
    return fetch("/s/deck" + query({ v: code, r: renewing ? "1" : "", vp: viewport() }), { cache: "no-store", credentials: "same-origin" })
      .then((res) => (res.ok ? res.json() : null))
      .then((f) => {
        if (!f) return false;
        if (f.build && build && f.build !== build) {
          safeReload();
          return true;
        }
        if (renewing) onCode(f);
        return true;
      })
      .catch(() => false);
  }

  function renew() {
    ask(true).then((ok) => { if (!ok) scheduleRenew(15000); });
  }

  // ---- live: the WebSocket, else polling ----
  let ws = null;
  let transport = "none";
  let failures = 0;
  let openedAt = 0;
  let reconnectTimer = 0;
  let heartbeatTimer = 0;
  let pollTimer = 0;

  function send(obj) {
    if (ws && ws.readyState === WebSocket.OPEN) {
      try { ws.send(JSON.stringify(obj)); } catch (e) { /* the close handler reconnects */ }
    }
  }

  function heartbeat() { send({ type: "heartbeat", version: code, viewport: viewport() }); }

  function startPolling() {
    if (pollTimer) return;
    pollTimer = setInterval(() => { ask(false); }, POLL_EVERY);
    transport = "poll";
  }

  function stopPolling() {
    clearInterval(pollTimer);
    pollTimer = 0;
  }

  function connect() {
    clearTimeout(reconnectTimer);
    if (!("WebSocket" in window)) {
      startPolling();
      return;
    }
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    let sock;
    try {
      sock = new WebSocket(proto + "//" + location.host + "/s/ws" + query({ v: code, b: build, vp: viewport() }));
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
      stopPolling();
      heartbeat();
      clearInterval(heartbeatTimer);
      heartbeatTimer = setInterval(heartbeat, HEARTBEAT_EVERY);
    };
    sock.onmessage = (ev) => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      if (!msg || typeof msg !== "object") return;
      // The server has just spoken: reload at once (the service worker answers with the
      // kept page should the server be gone the next moment).
      if (msg.type === "reload") location.reload();
      else if (msg.type === "deck") onCode(msg);
    };
    sock.onerror = () => { /* onclose follows */ };
    sock.onclose = () => {
      if (ws !== sock) return;
      ws = null;
      clearInterval(heartbeatTimer);
      if (opened && Date.now() - openedAt > 30000) failures = 0;
      else failures++;
      if (failures >= 3) startPolling();
      else if (transport === "ws") transport = "none";
      // A pairing made while it was away: polling, or the next connection, tells it.
      ask(false);
      scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    clearTimeout(reconnectTimer);
    const cap = Math.min(60000, 1000 * Math.pow(2, Math.min(failures, 6)));
    reconnectTimer = setTimeout(connect, 500 + Math.random() * cap); // full jitter
  }

  // ---- start ----
  scheduleRenew(parseInt(card.dataset.renew, 10) || 0);
  connect();
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
  }
  signageKiosk.cancelFrozenPageRefresh();

  // For browser tests and curious operators.
  window.__signagePair = {
    code: () => code,
    connected: () => !!(ws && ws.readyState === WebSocket.OPEN),
    transport: () => transport,
  };
})();
