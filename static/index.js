// Start page: copy buttons for the embed snippets.
(() => {
  "use strict";
  for (const btn of document.querySelectorAll("button[data-copy-prev]")) {
    btn.addEventListener("click", async () => {
      const code = btn.previousElementSibling && btn.previousElementSibling.textContent;
      if (!code) return;
      try {
        await navigator.clipboard.writeText(code);
        btn.textContent = "Copied";
      } catch (e) {
        const range = document.createRange();
        range.selectNodeContents(btn.previousElementSibling);
        const sel = getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
        btn.textContent = "Selected: press Ctrl+C";
      }
      setTimeout(() => { btn.textContent = "Copy"; }, 2500);
    });
  }
})();
