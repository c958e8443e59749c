// spencer-signage: what every page a kiosk shows (the screen, the embed, the pairing view)
// does alike. The server serves it in front of each of their scripts, as one file, so a
// TV still loads one script per page. Written as they are, for old TVs: ES2016, nothing
// newer than Chromium 53 unguarded.
var signageKiosk = (() => {
  "use strict";

  // cancelFrozenPageRefresh: the page's <meta http-equiv="refresh"> reloads it every few
  // minutes while its script cannot run (a browser too old for it, a script that failed),
  // rather than show old news forever. Removing the element does not cancel the reload it
  // scheduled (in any engine); stopping the loaded document does.
  function cancelFrozenPageRefresh() {
    const meta = document.querySelector('meta[http-equiv="refresh"]');
    if (!meta) return;
    const stop = () => {
      if (meta.parentNode) meta.parentNode.removeChild(meta);
      if (!window.stop) return;
      window.stop();
      // stop() also ends the loads still under way, lazy images not yet in view among
      // them: those start again.
      for (const img of Array.from(document.images)) {
        if (img.complete && img.naturalWidth > 0) continue;
        const src = img.getAttribute("src");
        img.removeAttribute("src");
        if (src) img.setAttribute("src", src);
      }
    };
    if (document.readyState === "complete") stop();
    else addEventListener("load", stop);
  }

  // safeReload reloads the page, never into an error page: only once the server answers
  // for it. Until then it asks again every retryMs to twice that (jittered, so that a wall
  // of kiosks does not come back at once). The cookie goes along (Chromium before 72 sends
  // none by default), so the page asked for is the one the kiosk shows.
  let reloading = false;
  function safeReload(retryMs) {
    if (reloading) return;
    reloading = true;
    fetch(location.href, { cache: "no-store", credentials: "same-origin" })
      .then((res) => res.ok)
      .catch(() => false)
      .then((ok) => {
        if (ok) {
          location.reload();
          return;
        }
        reloading = false; // not reachable: try again later
        setTimeout(() => safeReload(retryMs), retryMs + Math.random() * retryMs);
      });
  }

  return { cancelFrozenPageRefresh, safeReload };
})();
