package static

import (
	"strings"
	"testing"
)

// tvScripts are the scripts that run on screens, embeds and kiosks waiting to be paired;
// admin.js and index.js serve the operator's own browser.
var tvScripts = []string{"kiosk.js", "screen.js", "embed.js", "sw.js", "pair.js"}

// tvStyles are the style sheets of screens, embeds and the pairing view.
var tvStyles = []string{"screen.css", "pair.css"}

// TestOldEnginesScripts: the screen's, the embed's, the pairing view's and the service
// worker's scripts parse on Chromium 53 and use no newer API without testing for it. make
// lint runs it.
func TestOldEnginesScripts(t *testing.T) {
	for _, name := range tvScripts {
		src, err := files.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range lintScriptSyntax(name, string(src), scriptEngine) {
			t.Error(p)
		}
		for _, p := range lintScriptAPIs(name, string(src)) {
			t.Error(p)
		}
	}
}

// TestOldEnginesStyles: every feature of the style sheets that Chromium 53 lacks has a
// fallback before it. make lint runs it.
func TestOldEnginesStyles(t *testing.T) {
	for _, name := range tvStyles {
		css, err := files.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range lintStyles(name, string(css)) {
			t.Error(p)
		}
	}
}

// TestOldEnginesLintCatches: the lint fails on what breaks an old TV, and passes its
// fallbacks: each bad snippet names the problem it must raise.
func TestOldEnginesLintCatches(t *testing.T) {
	scripts := []struct {
		name, src, want string // want "" for a snippet that passes
	}{
		{"optional chaining", "const a = b?.c;", "syntax that Chromium 53 does not parse"},
		{"nullish coalescing", "const a = b ?? c;", "syntax that Chromium 53 does not parse"},
		{"async function", "async function f() { await g(); }", "syntax that Chromium 53 does not parse"},
		{"optional catch binding", "try { f(); } catch { g(); }", "syntax that Chromium 53 does not parse"},
		{"object spread", "const a = { ...b };", "syntax that Chromium 53 does not parse"},
		{"named groups", `const re = /(?<y>\d+)/;`, "syntax that Chromium 53 does not parse"},
		{"trailing comma", "f(a,\n  b,\n);", "trailing comma"},
		{"its line", "const a = 1;\nconst b = 2;\n\nconst c = d?.e;\n", "snippet.js:4:"},
		{"replaceChildren", "el.replaceChildren(frag);", "replaceChildren is Chromium 86"},
		{"Object.fromEntries", "const o = Object.fromEntries(list);", "Object.fromEntries is Chromium 73"},
		{"at", "const last = list.at(-1);", "at is Chromium 92"},
		{"finally", "p.catch(() => {}).finally(show);", "finally is Chromium 63"},
		{"dateStyle", `new Intl.DateTimeFormat(l, { dateStyle: "medium" });`, "dateStyle is Chromium 76"},
		{"guarded method", "if (el.replaceChildren) el.replaceChildren(frag); else el.textContent = '';", ""},
		{"guarded ternary", "const d = img.decode ? img.decode() : Promise.resolve();", ""},
		{"guarded global", `if ("ResizeObserver" in window) new ResizeObserver(f).observe(b);`, ""},
		{"in a comment", "// el.replaceChildren(x) is Chromium 86\nconst a = 1;", ""},
		{"in a string with slashes", `const u = "ws:" + "//" + host; const v = w?.x;`, "syntax that Chromium 53 does not parse"},
		{"ES2016", "const f = (a, b = 2) => a ** b; for (const [k, v] of m) g(`${k}`);", ""},
	}
	for _, c := range scripts {
		t.Run("script/"+c.name, func(t *testing.T) {
			problems := append(lintScriptSyntax("snippet.js", c.src, scriptEngine), lintScriptAPIs("snippet.js", c.src)...)
			check(t, problems, c.want)
		})
	}
	styles := []struct {
		name, src, want string
	}{
		{"unguarded color-mix", ".a { background: color-mix(in srgb, #000 80%, transparent); }", "color-mix() is Chromium 111: declare background without it first"},
		{"color-mix after rgba", ".a { background: rgba(0, 0, 0, 0.8); background: color-mix(in srgb, #000 80%, transparent); }", ""},
		{"color-mix with var()", ".a { background: rgba(0, 0, 0, 0.8); background: color-mix(in srgb, var(--bg) 80%, transparent); }", "with var() in it an earlier fallback does not hold"},
		{"color-mix in a custom property", ".a { --scrim: color-mix(in srgb, var(--bg) 80%, transparent); }", "a custom property holding it"},
		{"color-mix in @supports", "@supports (color: color-mix(in srgb, red 50%, blue)) { .a { --scrim: color-mix(in srgb, var(--bg) 80%, transparent); } }", ""},
		{"inset", ".a { position: absolute; inset: 0; }", "inset is Chromium 87: declare top and right and bottom and left"},
		{"inset after its sides", ".a { position: absolute; top: 0; right: 0; bottom: 0; left: 0; inset: 0; }", ""},
		{"flex gap", ".a { display: flex; gap: 8px; }", "flex gaps are Chromium 84"},
		{"grid gap", ".a { display: grid; gap: 8px; }", "declare grid-gap before it"},
		{"grid gap with fallback", ".a { display: flex; display: grid; grid-gap: 8px; gap: 8px; }", ""},
		{"grid without fallback", ".a { display: grid; }", "display: grid is Chromium 57"},
		{"display contents", ".a { display: contents; }", "display: contents is Chromium 65"},
		{"max()", ".a { font-size: max(2vmin, 12px); }", "min()/max()/clamp() is Chromium 79"},
		{"minmax is old", ".a { display: block; display: grid; grid-template-columns: minmax(0, 1fr) auto; }", ""},
		{"aspect-ratio", ".a { aspect-ratio: 16 / 9; }", "aspect-ratio is Chromium 88: declare min-height or padding-top or padding-bottom"},
		{"margin-block", ".a { margin-block: auto; }", "margin-block is Chromium 87"},
		{"space-separated rgb", ".a { color: rgb(0 0 0 / 50%); }", "rgb()/hsl() without commas is Chromium 65"},
		{":has()", "html:has(body.screen) { height: 100%; }", ":has() is Chromium 105"},
		{":focus-visible in a list", "a:hover, a:focus-visible { text-decoration: underline; }", "give it a rule of its own"},
		{":focus-visible alone", "a:focus-visible { text-decoration: underline; }", ""},
		{"nesting", ".a { color: red; & .b { color: blue; } }", "a nested rule is Chromium 112"},
		{"media range", "@media (width >= 600px) { .a { color: red; } }", "media range syntax"},
		{"inside @media", "@media (max-aspect-ratio: 1/1) { .a { inset: 0; } }", "inset is Chromium 87"},
		{"in a comment", "/* .a { inset: 0; } */ .b { color: red; }", ""},
		{"its line", ".a {\n  color: red;\n  inset: 0;\n}", "bad.css:3:"},
	}
	for _, c := range styles {
		t.Run("style/"+c.name, func(t *testing.T) {
			check(t, lintStyles("bad.css", c.src), c.want)
		})
	}
}

func check(t *testing.T, problems []string, want string) {
	t.Helper()
	if want == "" {
		for _, p := range problems {
			t.Errorf("unexpected: %s", p)
		}
		return
	}
	for _, p := range problems {
		if strings.Contains(p, want) {
			return
		}
	}
	t.Errorf("no problem says %q; got %q", want, problems)
}
