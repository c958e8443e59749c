// Status page: refresh the status section every few seconds without a reload.
(() => {
  "use strict";
  const REFRESH = 5000;
  async function refresh() {
    try {
      const res = await fetch("/admin", { cache: "no-store", credentials: "same-origin" });
      if (!res.ok) return;
      const doc = new DOMParser().parseFromString(await res.text(), "text/html");
      const fresh = doc.getElementById("status");
      const current = document.getElementById("status");
      if (fresh && current) current.replaceWith(fresh);
    } catch (e) { /* try again at the next tick */ }
  }
  setInterval(refresh, REFRESH);
})();
