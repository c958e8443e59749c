// spencer-signage service worker: keeps the last screen page, its assets, its last deck and
// their photos, so that a kiosk opened or reloaded while the server is down shows news (and
// keeps retrying) instead of a browser error page. Written for the TVs' old engines, as the
// screen's script is: ES2016 syntax, and nothing newer than Chromium 53.
const CACHE = "signage-v1";
// MEDIA keeps the photos (/media/…, whose names change with their bytes): every one the
// kept pages and decks show, and of the others, which decks sent over the WebSocket
// showed since, the latest up to MAX_MEDIA in all.
const MEDIA = "signage-media-v1";
const MAX_MEDIA = 48;
const mediaName = /\/media\/[0-9a-f]{32}-[0-9]+\.(?:jpg|png)/g;

self.addEventListener("install", (event) => { event.waitUntil(self.skipWaiting()); });
self.addEventListener("activate", (event) => { event.waitUntil(self.clients.claim()); });

// offlineTexts are the words of the page shown for a screen opened while the server is
// down and never kept here, in the languages the server's pages speak: the one its ?lang=
// asks for (by its language alone: nl-BE is nl), else English. Without ?lang= the worker
// cannot know the configured locale, and English it is.
const offlineTexts = {
  en: ["Reconnecting…", "Waiting for the signage server… this page retries by itself."],
  nl: ["Opnieuw verbinden…", "Wachten op de signage-server… deze pagina probeert het vanzelf opnieuw."],
  fr: ["Reconnexion…", "En attente du serveur d’affichage… cette page réessaie d’elle-même."],
  de: ["Verbindung wird hergestellt…", "Warten auf den Signage-Server… diese Seite versucht es von selbst erneut."],
};

function offlinePage(url) {
  const lang = (url.searchParams.get("lang") || "").toLowerCase().split(/[-_]/)[0];
  const code = Object.prototype.hasOwnProperty.call(offlineTexts, lang) ? lang : "en";
  const [title, text] = offlineTexts[code];
  return `<!DOCTYPE html><html lang="${code}"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="15"><title>${title}</title></head>
<body style="margin:0;height:100vh;display:grid;place-items:center;background:#0b1020;color:#aab3cf;font:3vh sans-serif">
<p>${text}</p></body></html>`;
}

// networkFirst answers from the network, and from the cache when the server is away.
// An answer from the cache says so (Signage-From-Cache): the screen takes the server's
// time from the answers to its polls, and a kept one's is old.
function networkFirst(request, fallback) {
  return caches.open(CACHE).then((cache) =>
    fetch(request).then((response) => {
      if (response.ok) cache.put(request, response.clone());
      return response;
    }, (err) => cache.match(request, { ignoreSearch: false }).then((cached) => {
      if (cached) return markCached(cached);
      if (fallback) return fallback();
      throw err;
    })));
}

function markCached(response) {
  const headers = new Headers(response.headers);
  headers.set("Signage-From-Cache", "1");
  return response.blob().then((body) => new Response(body, { status: response.status, statusText: response.statusText, headers: headers }));
}

function cacheFirst(request) {
  return caches.open(CACHE).then((cache) => cache.match(request).then((cached) => {
    if (cached) return cached;
    return fetch(request).then((response) => {
      if (response.ok) cache.put(request, response.clone());
      return response;
    });
  }));
}

// media answers a photo from the cache, else from the network (keeping it); when the
// server is away and the browser asks for a width it does not hold (a page kept at
// another size), another width of the same picture will do.
function media(request) {
  return caches.open(MEDIA).then((cache) => cache.match(request).then((cached) => {
    if (cached) return cached;
    return fetch(request).then((response) => {
      if (response.ok) cache.put(request, response.clone()).then(pruneMedia);
      return response;
    }, (err) => {
      const picture = new URL(request.url).pathname.replace(/-[0-9]+\.(jpg|png)$/, "-");
      return cache.keys().then((keys) => {
        const other = keys.find((k) => new URL(k.url).pathname.indexOf(picture) === 0);
        if (other) return cache.match(other);
        throw err;
      });
    });
  }));
}

// pruneMedia keeps the photos within MAX_MEDIA: those the kept pages and decks name stay,
// the others go oldest first.
function pruneMedia() {
  return Promise.all([caches.open(CACHE), caches.open(MEDIA)]).then(([pages, photos]) =>
    pages.keys().then((keys) => Promise.all(keys.map((k) => pages.match(k).then((r) => (r && !/^\/static\//.test(new URL(k.url).pathname) ? r.text() : "")))))
      .then((texts) => {
        const shown = {};
        texts.join(" ").replace(mediaName, (m) => { shown[m] = true; return m; });
        return photos.keys().then((keys) => {
          let over = keys.length - MAX_MEDIA;
          const gone = [];
          for (const k of keys) {
            if (over <= 0) break;
            if (!shown[new URL(k.url).pathname]) {
              gone.push(photos.delete(k));
              over--;
            }
          }
          return Promise.all(gone);
        });
      }));
}

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  const p = url.pathname;
  if (p.startsWith("/api/") || p.startsWith("/admin") || p.endsWith("/ws")) return;
  const kiosk = p === "/s" || p.startsWith("/s/"); // a screen set up with a pairing code
  if (req.mode === "navigate" && (p.startsWith("/screens/") || p.startsWith("/embed/") || kiosk)) {
    event.respondWith(networkFirst(req, () => new Response(offlinePage(url), { headers: { "Content-Type": "text/html; charset=utf-8" } })));
  } else if (p.startsWith("/static/")) {
    event.respondWith(cacheFirst(req));
  } else if (p.startsWith("/media/")) {
    event.respondWith(media(req));
  } else if (/^\/screens\/[^/]+\/deck$/.test(p)) {
    event.respondWith(networkFirst(req));
  }
});
