package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/spencer-signage/signage/server"
	"github.com/spencer-signage/signage/views"
)

// The layout tests hold the screen to its legibility rules on the TVs facility staff
// actually buy: every text inside the viewport, none under 2.5 % of the shorter side,
// titles at 5 % or more and never shrunk when they fit, contrast of at least 4.5:1 for
// small text (over photos too), QR codes of at least 20 % of the shorter side, and no two
// texts on top of each other, even halfway through a transition.

// layoutList is a userlist whose items exercise every slide layout.
const layoutList = "5c1b2a3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"

// layoutViewports are the panels of the rules: 720p, a small 1024×600 panel, full HD, 4K
// at scale 1, and a portrait stele.
var layoutViewports = []struct{ w, h int }{
	{1280, 720}, {1024, 600}, {1920, 1080}, {3840, 2160}, {1080, 1920},
}

// layoutItems has one item per layout and per hard case: an image beside a long text,
// pinned; a photo-led item on a bright photo; a type-led item; a title alone; and a
// title too long for any screen, which must shrink to the smallest title size and then
// be clamped.
func layoutItems(images string) []map[string]any {
	day := func(d int) string {
		return time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC).Add(time.Duration(-d) * 24 * time.Hour).Format(time.RFC3339)
	}
	return []map[string]any{
		{
			"id": "split", "title": "Town hall on Friday: our plans for next year", "isPinned": true,
			"summary":     "Join the leadership team in the auditorium at 16:00, or follow the stream on the intranet. Questions can be sent in advance through the Spencer app. Drinks and snacks afterwards in the atrium.",
			"publishedAt": day(0), "image": images + "/townhall.jpg", "url": "https://intranet.example.com/news/town-hall-q4",
			"author": "Internal Communications",
		},
		{
			"id": "photo", "title": "Snow expected tonight: the car park is gritted",
			"summary":     "Park on levels −1 and −2; the roof level stays closed.",
			"publishedAt": day(1), "image": images + "/winter.jpg", "url": "https://intranet.example.com/news/snow",
			"author": "Facility Management",
		},
		{
			"id": "type", "title": "Bring your own cup and save 20 cents",
			"summary":     "Every hot drink in a cup you bring yourself is 20 cents cheaper. Together we saved 14,000 paper cups last year.",
			"publishedAt": day(2), "url": "https://intranet.example.com/canteen/cups", "author": "Canteen Team",
		},
		{"id": "bare", "title": "Fire drill at 11:00", "publishedAt": day(3)},
		{
			"id": "long", "publishedAt": day(4), "image": images + "/security.jpg", "author": "IT Security",
			"title":   "Watch out for fake parcel notifications that ask you to pay customs fees, confirm your address, install a tracking app or call a premium number: none of them comes from our mail room, and every one of them should be reported to the service desk at once",
			"summary": "We see a wave of text messages about parcels held at customs. Do not click the link: report the message to the service desk on extension 4444. The service desk blocks the sender for everyone, and tells the people who clicked what to do next. If you paid, call your bank as well.",
		},
	}
}

// newLayoutEnv is a server in demo mode (for the demo badge) with the layout userlist
// configured under a long name, and the fake's images loaded.
func newLayoutEnv(t *testing.T, mod ...func(*server.Config)) *env {
	t.Helper()
	e := newEnv(t, time.Minute, append([]func(*server.Config){func(c *server.Config) {
		c.Screens.Userlists = append(c.Screens.Userlists, server.UserlistConfig{ID: layoutList, Name: "Head office lobby"})
	}}, mod...)...)
	e.fake.LoadDemo(time.Hour, "")
	e.fake.SetPublications(layoutList, layoutItems(e.fake.URL+"/images"))
	e.stop()
	e.opts.Demo = true
	e.start()
	// The server keeps the photos before any page is opened: a page opened sooner would
	// show their slides type-led until the next deck.
	e.waitImages("/screens/"+layoutList, 3)
	return e
}

// stateDecks are the states a screen in lang can show instead of slides, rendered by the
// component the server renders them with.
func stateDecks(t *testing.T, lang string) map[string]string {
	t.Helper()
	out := map[string]string{}
	l := views.LocaleFor(lang)
	for _, d := range []views.Deck{
		{UserListID: layoutList, Name: "Head office lobby", State: views.DeckEmpty, Locale: l},
		{UserListID: layoutList, Name: "Head office lobby", State: views.DeckUnknown, Locale: l},
		{UserListID: layoutList, Name: "Head office lobby", State: views.DeckLoading, Locale: l},
	} {
		var buf bytes.Buffer
		if err := views.DeckSlides(d).Render(context.Background(), &buf); err != nil {
			t.Fatal(err)
		}
		out[string(d.State)] = buf.String()
	}
	return out
}

// layoutReport is what the in-page audit finds on one frame.
type layoutReport struct {
	Problems    []string  `json:"problems"`
	MinTextPct  float64   `json:"minTextPct"`
	MinContrast float64   `json:"minContrast"`
	TitlePcts   []float64 `json:"titlePcts"`
	QRPcts      []float64 `json:"qrPcts"`
	Texts       int       `json:"texts"`
}

// transitionReport is what the audit found during a transition.
type transitionReport struct {
	Problems []string `json:"problems"`
	How      string   `json:"how"`    // how its states were taken: frames, or steps of the transitions held
	States   int      `json:"states"` // states checked
	Under    int      `json:"under"`  // of those, with the change under way
	Settled  bool     `json:"settled"`
	Index    int      `json:"index"`
}

// faults are what is wrong with a move to slide i besides what the audit found in its
// states: it went elsewhere, did not end with the new slide shown and the old one gone, or
// was seen under way in fewer than three states (it jumped, or was cut short: checked
// every 25 ms, a 0.9 s cross-fade is under way in some 35).
func (r transitionReport) faults(i int) []string {
	var out []string
	if r.Index != i {
		out = append(out, fmt.Sprintf("ended at slide %d", r.Index))
	}
	if !r.Settled {
		out = append(out, "did not end with the new slide and its text shown and the old one hidden")
	}
	if r.Under < 3 {
		out = append(out, fmt.Sprintf("under way in %d of the %d states checked (%s)", r.Under, r.States, r.How))
	}
	return out
}

func TestBrowserLayout(t *testing.T) {
	e := newLayoutEnv(t)
	var minText, minContrast = 100.0, 100.0
	for _, vp := range layoutViewports {
		t.Run(fmt.Sprintf("%dx%d", vp.w, vp.h), func(t *testing.T) {
			text, contrast := walkLayout(t, e, vp.w, vp.h, "", "dark", "light")
			minText, minContrast = min(minText, text), min(minContrast, contrast)
		})
	}
	t.Logf("over every viewport: smallest text %.2f %% of the shorter side, lowest small-text contrast %.2f:1", minText, minContrast)
}

// TestBrowserLayoutInGerman holds a German screen, whose words are the longest of the
// languages we speak, to the same rules on the smallest panels and the stele, with the
// chrome at its widest (the stale marker showing).
func TestBrowserLayoutInGerman(t *testing.T) {
	e := newLayoutEnv(t)
	for _, vp := range []struct{ w, h int }{{1280, 720}, {1024, 600}, {1080, 1920}} {
		t.Run(fmt.Sprintf("%dx%d", vp.w, vp.h), func(t *testing.T) {
			walkLayout(t, e, vp.w, vp.h, "de-DE", "light")
		})
	}
}

// walkLayout audits every slide, every transition and every state of the layout userlist
// on a w×h panel in each theme, for a screen in lang ("" for the configured locale), and
// returns the smallest text and the lowest contrast it found. In the light theme the
// slides are walked with the stale marker showing.
func walkLayout(t *testing.T, e *env, w, h int, lang string, themes ...string) (minText, minContrast float64) {
	t.Helper()
	minText, minContrast = 100, 100
	states := stateDecks(t, lang)
	shots := os.Getenv("SIGNAGE_LAYOUT_SHOTS") // a directory: keep a screenshot of every frame audited
	b := newBrowser(t, w, h)
	for _, theme := range themes {
		b.navigate(t, e.base+"/screens/"+layoutList+"?clock=1&interval=600&theme="+theme+"&lang="+lang)
		waitJS(t, b, 15*time.Second, "the slides' images", `!!window.__signage && window.__signage.slideCount() === 5 &&
			Array.from(document.querySelectorAll('.slide img')).every(i => i.complete && i.naturalWidth > 0) &&
			document.getElementById('clock').textContent !== ''`)
		installAudit(t, b)
		audit := func(what string) {
			t.Helper()
			r := runAudit(t, b)
			for _, p := range r.Problems {
				t.Errorf("%s %s: %s", theme, what, p)
			}
			if r.Texts == 0 {
				t.Errorf("%s %s: no text found to audit", theme, what)
			}
			minText, minContrast = min(minText, r.MinTextPct), min(minContrast, r.MinContrast)
			t.Logf("%s %s: smallest text %.2f %%, lowest small-text contrast %.2f:1, titles %v %%, QR %v %%", theme, what, r.MinTextPct, r.MinContrast, r.TitlePcts, r.QRPcts)
			if shots != "" {
				panel := fmt.Sprintf("%dx%d", w, h)
				if lang != "" {
					panel += "-" + lang
				}
				b.screenshotTo(t, filepath.Join(shots, fmt.Sprintf("%s-%s-%s.png", panel, theme, strings.ReplaceAll(what, " ", "-"))))
			}
		}
		// The chrome at its widest must still keep clear of every layout.
		stale := ""
		if theme == "light" {
			eval[bool](t, b, `(window.__signage.status(true, '2026-11-28T07:00:00Z'), true)`)
			waitJS(t, b, 5*time.Second, "the stale marker", `!document.getElementById('stale-marker').hidden`)
			stale = " stale"
		}
		for i := range 5 {
			if i > 0 {
				tr := runTransition(t, b, i)
				for _, p := range append(tr.Problems, tr.faults(i)...) {
					t.Errorf("%s transition to slide %d: %s", theme, i, p)
				}
			}
			audit(fmt.Sprintf("slide %d%s", i, stale))
		}
		for _, st := range []string{"empty", "unknown", "loading"} {
			html, _ := json.Marshal(states[st])
			eval[bool](t, b, fmt.Sprintf(`(window.__signage.deck(%s), true)`, html))
			waitJS(t, b, 5*time.Second, "the "+st+" state", fmt.Sprintf(`(() => { const s = document.querySelector('[data-testid=state-%s]'); return !!s && getComputedStyle(s.querySelector('p')).opacity === '1' })()`, st))
			audit("state " + st)
		}
		for _, msg := range b.consoleErrors() {
			t.Errorf("browser error: %s", msg)
		}
	}
	return minText, minContrast
}

// installAudit defines window.__audit and window.__transition in the page.
func installAudit(t *testing.T, b *browser) {
	t.Helper()
	eval[bool](t, b, auditJS+`; true`)
}

func runAudit(t *testing.T, b *browser) layoutReport {
	t.Helper()
	var r layoutReport
	if err := json.Unmarshal([]byte(eval[string](t, b, `JSON.stringify(window.__audit())`)), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// runTransition moves to slide i through the page's own rotation and checks the states of
// the transition (see __transition).
func runTransition(t *testing.T, b *browser, i int) transitionReport {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`window.__transition(%d).then(JSON.stringify)`, i), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("transition to %d: %v", i, err)
	}
	var r transitionReport
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func (b *browser) screenshotTo(t *testing.T, path string) {
	t.Helper()
	buf, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

// auditJS measures the page as a viewer sees it. Texts are the text nodes that show
// (visible, not transparent), each as the rectangles of its lines, clipped by the boxes
// that clip them. Contrast is computed from the computed colours: the text over the
// backgrounds of its own boxes, down to the first opaque one; where a photo lies beneath,
// the translucent layers (the scrim) must hold over a black and over a white photo alike.
const auditJS = `
(() => {
  const rgba = (s) => {
    const m = s.match(/rgba?\(([^)]+)\)/);
    if (!m) {
      const c = s.match(/color\(srgb ([^)]+)\)/);
      if (!c) return [0, 0, 0, 0];
      const p = c[1].split(/[\s\/]+/).filter(Boolean).map(Number);
      return [p[0] * 255, p[1] * 255, p[2] * 255, p.length > 3 ? p[3] : 1];
    }
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, bottom) => { // top composited over an opaque bottom
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a)).concat(1);
  };
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  const opacity = (el) => { let o = 1; for (let a = el; a; a = a.parentElement) o *= parseFloat(getComputedStyle(a).opacity); return o; };
  const shown = (el) => getComputedStyle(el).visibility === 'visible' && opacity(el) > 0.02;
  const intersect = (a, b) => ({ left: Math.max(a.left, b.left), top: Math.max(a.top, b.top), right: Math.min(a.right, b.right), bottom: Math.min(a.bottom, b.bottom) });
  const area = (r) => Math.max(0, r.right - r.left) * Math.max(0, r.bottom - r.top);
  const clip = (rects, el) => {
    let out = rects.map((r) => ({ left: r.left, top: r.top, right: r.right, bottom: r.bottom }));
    for (let a = el; a && a !== document.documentElement; a = a.parentElement) {
      const cs = getComputedStyle(a);
      if (cs.overflowX !== 'visible' || cs.overflowY !== 'visible') out = out.map((r) => intersect(r, a.getBoundingClientRect()));
    }
    return out.filter((r) => r.right - r.left >= 1 && r.bottom - r.top >= 1);
  };
  const texts = () => {
    const out = [];
    const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n; (n = walk.nextNode());) {
      if (!n.nodeValue.trim()) continue;
      const el = n.parentElement;
      if (!el || el.closest('script, style, template') || !shown(el)) continue;
      const range = document.createRange();
      range.selectNodeContents(n);
      const rects = clip(Array.from(range.getClientRects()), el);
      if (!rects.length) continue;
      out.push({ el, rects, text: n.nodeValue.trim().slice(0, 40) });
    }
    return out;
  };
  const name = (t) => '"' + t.text + '" (' + t.el.tagName.toLowerCase() + (t.el.className && typeof t.el.className === 'string' ? '.' + t.el.className.trim().split(/\s+/).join('.') : '') + ')';
  const overlaps = (list) => {
    const out = [];
    for (let i = 0; i < list.length; i++) for (let j = i + 1; j < list.length; j++) {
      const a = list[i], b = list[j];
      if (a.el === b.el) continue;
      for (const ra of a.rects) for (const rb of b.rects) {
        const x = intersect(ra, rb);
        if (x.right - x.left > 1 && x.bottom - x.top > 1) { out.push(name(a) + ' overlaps ' + name(b)); break; }
      }
    }
    return [...new Set(out)];
  };
  const images = () => Array.from(document.querySelectorAll('img')).filter(shown).map((img) => ({ img, rects: clip([img.getBoundingClientRect()], img) }));
  // background returns the colours a text may stand on: one, or a black-photo and a
  // white-photo case when a photo lies beneath its translucent layers.
  const backgrounds = (t, imgs) => {
    const under = imgs.filter((i) => i.rects.some((ri) => t.rects.some((rt) => area(intersect(ri, rt)) > 1)));
    const layers = [];
    let base = null;
    for (let a = t.el; a; a = a.parentElement) {
      if (under.some((i) => a.contains(i.img))) { base = 'photo'; break; }
      const bg = rgba(getComputedStyle(a).backgroundColor);
      if (bg[3] > 0) layers.push(bg);
      if (bg[3] >= 1) { base = 'opaque'; break; }
    }
    const compose = (start) => layers.slice().reverse().reduce((acc, l) => over(l, acc), start);
    if (base === 'photo') return [compose([0, 0, 0, 1]), compose([255, 255, 255, 1])];
    return [compose([255, 255, 255, 1])];
  };

  window.__audit = () => {
    const W = innerWidth, H = innerHeight, S = Math.min(W, H);
    const problems = [];
    const list = texts();
    const imgs = images();
    let minText = 100, minContrast = 100;
    for (const t of list) {
      const cs = getComputedStyle(t.el);
      const fs = parseFloat(cs.fontSize);
      minText = Math.min(minText, fs / S * 100);
      if (fs < 0.025 * S - 0.01) problems.push(name(t) + ' is ' + (fs / S * 100).toFixed(2) + ' % of the shorter side');
      for (const r of t.rects) {
        if (r.left < -1 || r.top < -1 || r.right > W + 1 || r.bottom > H + 1) { problems.push(name(t) + ' lies outside the viewport'); break; }
      }
      if (fs < 0.05 * S) {
        const fg = rgba(cs.color);
        for (const bg of backgrounds(t, imgs)) {
          const c = ratio(over(fg, bg), bg);
          minContrast = Math.min(minContrast, c);
          if (c < 4.5) problems.push(name(t) + ' has contrast ' + c.toFixed(2) + ':1 on rgb(' + bg.slice(0, 3).map(Math.round) + ')');
        }
      }
    }
    problems.push(...overlaps(list));
    const titles = [];
    for (const el of document.querySelectorAll('.slide.is-active .fit')) {
      const cs = getComputedStyle(el);
      const fs = parseFloat(cs.fontSize);
      // lines counts e's lines and measures how far apart they are as laid out (one line:
      // its computed line-height). Chromium up to 88 at least and WebKit set lines a whole
      // number of pixels apart while they report the fractional computed line-height, with
      // which lines that fit would count as a pixel too tall each.
      const lines = (e) => {
        const r = document.createRange();
        r.selectNodeContents(e);
        const tops = Array.from(r.getClientRects()).filter((x) => x.width >= 1).map((x) => x.top);
        const n = new Set(tops.map(Math.round)).size;
        return { n, pitch: n > 1 ? (Math.max(...tops) - Math.min(...tops)) / (n - 1) : parseFloat(getComputedStyle(e).lineHeight) };
      };
      const l = lines(el), lh = l.pitch;
      const isTitle = el.classList.contains('title');
      if (isTitle) {
        titles.push(+(fs / S * 100).toFixed(2));
        if (fs < 0.05 * S - 0.5) problems.push('title "' + el.textContent.slice(0, 30) + '" shrunk below 5 %: ' + (fs / S * 100).toFixed(2) + ' %');
      }
      // Shown whole, or clamped to the whole lines that fit.
      if (el.dataset.clamped !== '1' && l.n * lh > el.clientHeight + 1) problems.push(el.className + ' "' + el.textContent.slice(0, 30) + '" is cut: ' + l.n + ' lines of ' + lh.toFixed(1) + ' px in ' + el.clientHeight + ' px');
      if (el.dataset.clamped === '1' && parseInt(el.style.webkitLineClamp, 10) * lh > el.clientHeight + 1) problems.push(el.className + ' clamped to more lines than fit');
      // Shrunk only when it would not fit at its own size: measured by counting its
      // lines at that size, not by the script's own rule.
      if (el.style.fontSize) {
        const saved = [el.style.fontSize, el.style.webkitLineClamp];
        el.style.fontSize = '';
        el.style.webkitLineClamp = '';
        const own = lines(el);
        const fitsAsIs = own.n * own.pitch <= el.clientHeight + 1;
        [el.style.fontSize, el.style.webkitLineClamp] = saved;
        if (fitsAsIs) problems.push(el.className + ' "' + el.textContent.slice(0, 30) + '" was shrunk although it fits');
        // and only when its column is full (to within a line: the sizes come in steps), as
        // a box sized by its own content would make any text "not fit" it.
        const text = el.closest('.text'), tcs = getComputedStyle(text);
        if (tcs.display === 'flex') {
          const inner = text.clientHeight - parseFloat(tcs.paddingTop) - parseFloat(tcs.paddingBottom);
          const kids = Array.from(text.children);
          const used = kids.reduce((h, c) => h + c.getBoundingClientRect().height, 0) + (parseFloat(tcs.rowGap) || 0) * (kids.length - 1);
          if (used < inner - lh) problems.push(el.className + ' "' + el.textContent.slice(0, 30) + '" was shrunk while its column has ' + Math.round(inner - used) + ' px free');
        }
      }
    }
    const qrs = [];
    for (const svg of document.querySelectorAll('.slide.is-active .qr svg')) {
      if (!shown(svg)) continue;
      const r = svg.getBoundingClientRect();
      const side = Math.min(r.width, r.height);
      qrs.push(+(side / S * 100).toFixed(1));
      if (side < 0.2 * S - 0.5) problems.push('QR code is ' + (side / S * 100).toFixed(1) + ' % of the shorter side');
      if (r.left < 0 || r.top < 0 || r.right > W || r.bottom > H) problems.push('QR code lies outside the viewport');
      const quiet = svg.querySelector('rect');
      if (!quiet || quiet.getAttribute('fill') !== '#fff' || svg.viewBox.baseVal.width < 29) problems.push('QR code without its quiet zone');
    }
    return { problems, minTextPct: +minText.toFixed(2), minContrast: +minContrast.toFixed(2), titlePcts: titles, qrPcts: qrs, texts: list.length };
  };

  // __transition(i) moves to slide i through the page's own rotation and checks every
  // moment of the move: no two texts that show (however faintly) may overlap. Where a
  // script can hold the transitions (document.getAnimations: Chromium 84 on, Firefox,
  // WebKit), they are paused as they start and stepped through 25 ms at a time. Sampling
  // frames instead depends on the machine: the computed style moves only from one frame to
  // the next, and a renderer without a GPU on a loaded machine draws a 4K frame only every
  // few hundred ms, so that a 0.9 s cross-fade showed in two frames, or none. Elsewhere
  // (Chromium 64, 78) every frame is sampled until 2 s after the swap. The report says how
  // many of the states checked had the change under way (a jump has none, a fade cut short
  // few) and whether it ended as it should: the new slide and its text opaque, the old text
  // gone and the old slide hidden.
  window.__transition = (i) => new Promise((resolve, reject) => {
    const problems = new Set();
    const all = Array.from(document.querySelectorAll('#deck .slide'));
    const from = window.__signage.slideIndex();
    const deck = document.getElementById('deck');
    const op = (el) => parseFloat(getComputedStyle(el).opacity);
    const watched = () => [op(all[i]), op(all[i].querySelector('.text')), op(all[from].querySelector('.text'))];
    let states = 0, under = 0;
    const check = () => {
      states++;
      for (const p of overlaps(texts())) problems.add(p);
      if (window.__signage.slideIndex() === i && watched().some((o) => o > 0.02 && o < 0.98)) under++;
    };
    const settled = () => {
      const o = watched();
      return o[0] === 1 && o[1] === 1 && o[2] === 0 && getComputedStyle(all[from]).visibility === 'hidden';
    };
    // report waits up to 3 s for the end state: an engine may apply what a finished
    // transition leaves only at its next style update (Chromium 88 does).
    const report = (how) => {
      const until = performance.now() + 3000;
      const wait = () => {
        if (settled() || performance.now() > until) {
          resolve({ problems: [...problems], how, states, under, settled: settled(), index: window.__signage.slideIndex() });
          return;
        }
        setTimeout(wait, 50);
      };
      wait();
    };
    check();
    if (typeof document.getAnimations !== 'function') {
      let swappedAt = 0;
      const start = performance.now();
      const tick = () => {
        check();
        const now = performance.now();
        if (!swappedAt && window.__signage.slideIndex() === i) swappedAt = now;
        if ((swappedAt && now - swappedAt > 2000) || now - start > 15000) {
          report('frames');
          return;
        }
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
      window.__signage.show(i);
      return;
    }
    window.__signage.show(i).then(() => {
      getComputedStyle(all[i]).opacity; // the style change that starts the transitions
      const moving = document.getAnimations().filter((a) => a.effect && a.effect.target && deck.contains(a.effect.target));
      moving.forEach((a) => a.pause());
      // They all started with the same style change: the same current time is the same moment.
      const end = Math.max(0, ...moving.map((a) => a.effect.getComputedTiming().endTime));
      for (let t = 0; t < end; t += 25) {
        moving.forEach((a) => { a.currentTime = t; });
        check();
      }
      moving.forEach((a) => a.finish());
      check();
      report('steps of 25 ms');
    }).catch(reject);
  });
})()
`
