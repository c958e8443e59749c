package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spencer-signage/signage/server/browsertest"
)

// The engine tests run the screen and the embed on the browsers that TVs and signage
// players run: Chromium 64, 78 and 88 (Tizen, webOS, BrightSign, Qt WebEngine), Firefox
// ESR, WebKitGTK (as iPads run WebKit) and Debian's Chromium. Each engine runs what a
// facility manager would check on a TV: the headline is big enough to read and shows, the
// slides rotate, news from upstream arrives without a reload, no script fails, and the
// legibility rules hold on a 720p panel and a portrait stele; and the embed shows its
// headlines and takes news too.

// kioskEngines are the engines screens must work on.
var kioskEngines = []browsertest.Engine{
	browsertest.OldChromium(64), browsertest.OldChromium(78), browsertest.OldChromium(88),
	browsertest.Firefox, browsertest.WebKit, browsertest.Chromium,
}

// needEngine skips the test when SIGNAGE_SKIP_BROWSER=1 asks for it, and fetches engine
// e's old Chromium build when it is not in the cache yet.
func needEngine(t *testing.T, e browsertest.Engine) {
	t.Helper()
	if os.Getenv("SIGNAGE_SKIP_BROWSER") == "1" {
		t.Skip("SIGNAGE_SKIP_BROWSER=1: browser tests skipped on purpose")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := browsertest.Fetch(ctx, e); err != nil {
		t.Fatal(err)
	}
}

// launchEngine starts a browser of engine e for the test, closed when it ends. A missing
// engine fails the test with what to install.
func launchEngine(t *testing.T, e browsertest.Engine) browsertest.Browser {
	t.Helper()
	needEngine(t, e)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b, err := browsertest.Launch(ctx, e, t.TempDir())
	if err != nil {
		t.Fatalf("%v\n(or set SIGNAGE_SKIP_BROWSER=1 to skip the browser tests on purpose)", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// on is a browser in a test: its calls fail the test.
type on struct {
	t *testing.T
	b browsertest.Browser
}

func (o on) open(url string, w, h int) {
	o.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := o.b.Open(ctx, url, w, h); err != nil {
		o.t.Fatalf("%s: %v", o.b.Engine().Name, err)
	}
}

// do evaluates expr and decodes its value into v (when not nil).
func (o on) do(expr string, v any) {
	o.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	raw, err := o.b.Eval(ctx, expr)
	if err != nil {
		o.t.Fatalf("%s: %v", o.b.Engine().Name, err)
	}
	if v != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			o.t.Fatalf("%s: %.80s: %s: %v", o.b.Engine().Name, expr, raw, err)
		}
	}
}

func (o on) is(expr string) bool {
	o.t.Helper()
	var ok bool
	o.do(expr, &ok)
	return ok
}

// wait waits for a predicate in the page; false when it did not come true in time (the
// caller says what that means).
func (o on) wait(timeout time.Duration, expr string) bool {
	o.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return browsertest.WaitFor(ctx, o.b, expr) == nil
}

// errors fails the test for every script error the page reported.
func (o on) errors(what string) {
	o.t.Helper()
	for _, msg := range o.b.Errors() {
		o.t.Errorf("%s on %s: script error: %s", what, o.b.Engine().Name, msg)
	}
}

// shot keeps a screenshot in $SIGNAGE_LAYOUT_SHOTS when it is set.
func (o on) shot(name string) {
	o.t.Helper()
	dir := os.Getenv("SIGNAGE_LAYOUT_SHOTS")
	if dir == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	png, err := o.b.Screenshot(ctx)
	if err != nil {
		o.t.Errorf("screenshot: %v", err)
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		o.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, o.b.Engine().Name+"-"+name+".png"), png, 0o644); err != nil {
		o.t.Fatal(err)
	}
}

// headlineJS measures the title of the slide that shows: its text, its size against the
// screen's shorter side, the share of the screen's width its box takes, and whether all
// of it lies inside the viewport, opaque and visible.
const headlineJS = `(() => {
  const S = Math.min(innerWidth, innerHeight);
  const el = document.querySelector('#deck .slide.is-active [data-testid=slide-title]');
  if (!el) return null;
  const range = document.createRange();
  range.selectNodeContents(el);
  const rects = Array.from(range.getClientRects()).filter((r) => r.width >= 1 && r.height >= 1);
  let opacity = 1;
  for (let a = el; a; a = a.parentElement) opacity *= parseFloat(getComputedStyle(a).opacity);
  const box = el.getBoundingClientRect();
  return {
    text: el.textContent.trim(),
    fontPct: parseFloat(getComputedStyle(el).fontSize) / S * 100,
    widthPct: box.width / innerWidth * 100,
    lines: new Set(rects.map((r) => Math.round(r.top))).size,
    inside: rects.length > 0 && rects.every((r) => r.left >= -1 && r.top >= -1 && r.right <= innerWidth + 1 && r.bottom <= innerHeight + 1),
    shown: getComputedStyle(el).visibility === 'visible' && opacity > 0.99,
  };
})()`

type headline struct {
	Text     string  `json:"text"`
	FontPct  float64 `json:"fontPct"`
	WidthPct float64 `json:"widthPct"`
	Lines    int     `json:"lines"`
	Inside   bool    `json:"inside"`
	Shown    bool    `json:"shown"`
}

// shownSlidesJS lists the slides a viewer sees, read from the DOM: those visible, opaque
// and inside the viewport, by index.
const shownSlidesJS = `Array.from(document.querySelectorAll('#deck .slide')).map((s, i) => {
  let opacity = 1;
  for (let a = s; a; a = a.parentElement) opacity *= parseFloat(getComputedStyle(a).opacity);
  const r = s.getBoundingClientRect();
  return getComputedStyle(s).visibility === 'visible' && opacity > 0.5 && r.width > 0 && r.height > 0 && r.left < innerWidth && r.top < innerHeight ? i : -1;
}).filter((i) => i >= 0)`

// TestBrowserEngines: on every kiosk engine, the screen and the embed work for the people
// in front of them. One browser per engine serves the screen's checks. The embed asks for
// news only every 30 to 35 s, so every engine's embed is opened first, in a browser of its
// own, and the news it must take is sent then: by the time each engine's embed is checked,
// it has had its half minute.
func TestBrowserEngines(t *testing.T) {
	embeds := openEmbeds(t, kioskEngines)
	for _, eng := range kioskEngines {
		t.Run(eng.Name, func(t *testing.T) {
			start := time.Now()
			b := on{t, launchEngine(t, eng)}
			t.Logf("%s", b.b.Version())
			e := newEnv(t, 300*time.Millisecond)
			t.Run("screen", func(t *testing.T) { engineScreen(t, on{t, b.b}, e) })
			// TestBrowserLayout holds Debian's Chromium to the legibility rules on every panel.
			if eng != browsertest.Chromium {
				t.Run("legibility", func(t *testing.T) {
					le := newLayoutEnv(t)
					engineLegibility(t, on{t, b.b}, le, 1280, 720, true)
					engineLegibility(t, on{t, b.b}, le, 1080, 1920, false)
				})
			}
			t.Run("embed", func(t *testing.T) { engineEmbed(t, embeds[eng.Name]) })
			t.Logf("%s: %.1f s", eng.Name, time.Since(start).Seconds())
		})
	}
}

// openedEmbed is an engine's browser with the canteen's embed open.
type openedEmbed struct {
	b     browsertest.Browser
	err   error  // what kept it from opening
	shown string // the text it showed instead of its headline, when it did not show it
}

// openEmbeds launches a browser of each engine at once, opens the canteen's embed on a
// server of their own, checks that it shows its headline, marks the page, and then changes
// the canteen's news upstream.
func openEmbeds(t *testing.T, engines []browsertest.Engine) map[string]*openedEmbed {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	for _, eng := range engines {
		needEngine(t, eng)
	}
	e := newEnv(t, 300*time.Millisecond)
	out := map[string]*openedEmbed{}
	var wg sync.WaitGroup
	for _, eng := range engines {
		o := &openedEmbed{}
		out[eng.Name] = o
		dir := t.TempDir()
		wg.Go(func() {
			if o.b, o.err = browsertest.Launch(ctx, eng, dir); o.err != nil {
				return
			}
			// 480 px wide: WebKitGTK's MiniBrowser has no narrower window (its toolbar).
			if o.err = o.b.Open(ctx, e.base+"/embed/"+canteen, 480, 640); o.err != nil {
				return
			}
			var ok bool
			if ok, o.err = browsertest.Eval[bool](ctx, o.b, `(() => {
			  const h = document.querySelector('[data-testid=headline] .headline-title');
			  if (!h || h.textContent.trim() !== 'Menu of the week') return false;
			  const r = h.getBoundingClientRect();
			  return r.width > 0 && r.height > 0 && r.right <= innerWidth + 1 && getComputedStyle(h).visibility === 'visible';
			})()`); o.err != nil || ok {
				_, o.err = o.b.Eval(ctx, `window.__engineMark = 'same page'`)
				return
			}
			o.shown, o.err = browsertest.Eval[string](ctx, o.b, `document.body.innerText`)
		})
	}
	wg.Wait()
	for _, o := range out {
		if o.b != nil {
			t.Cleanup(func() { o.b.Close() })
		}
	}
	e.fake.SetPublications(canteen, map[string]any{"data": []map[string]any{
		{"id": "c2", "title": "Curry on Thursday", "summary": "And soup.", "publishedAt": "2026-11-23T09:00:00Z"},
		{"id": "c1", "title": "Menu of the week", "summary": "Soup, pasta, curry.", "publishedAt": "2026-11-21T09:00:00Z"},
	}})
	return out
}

// engineEmbed checks an embed openEmbeds opened: it showed its headline, and takes the news
// sent since without a reload.
func engineEmbed(t *testing.T, o *openedEmbed) {
	if o.err != nil {
		t.Fatalf("%v\n(or set SIGNAGE_SKIP_BROWSER=1 to skip the browser tests on purpose)", o.err)
	}
	b := on{t, o.b}
	b.shot("embed-480x640")
	if o.shown != "" {
		t.Errorf("the embed does not show its headline %q: it shows %q", "Menu of the week", o.shown)
	} else if !b.wait(45*time.Second, `document.body.textContent.includes('Curry on Thursday')`) {
		t.Errorf("the change upstream did not reach the embed")
	} else if !b.is(`window.__engineMark === 'same page'`) {
		t.Errorf("the embed reloaded to show the change")
	}
	b.errors("the embed")
}

// engineScreen opens a lobby screen at 720p with slides of 3 s and checks its headline,
// its rotation, its WebSocket, a change from upstream without a reload, and that no script
// failed.
func engineScreen(t *testing.T, b on, e *env) {
	// What shows at first is read on a page that does not move for a minute: at
	// ?interval=3 an old engine on a loaded machine can be into its first move by the time
	// its page has loaded. The rotation is checked at ?interval=3 below.
	b.open(e.base+"/screens/"+lobby+"?interval=60", 1280, 720)
	// Right after the load, Chromium 64 and 78 were seen (a few times in ten) with the
	// second slide not active yet at full opacity and visible, under the active first one
	// (z-index 1, opaque: nobody sees it), as in the 0.9 s its hiding is delayed by. So
	// only the first slide must be left within 3 s of the load.
	var shown []int
	if !b.wait(3*time.Second, `(() => { const s = `+shownSlidesJS+`; return s.length === 1 && s[0] === 0 })()`) {
		b.do(shownSlidesJS, &shown)
		t.Errorf("the slides that show at first: %v, want only the first", shown)
	}
	var h *headline
	b.do(headlineJS, &h)
	b.shot("screen-1280x720")
	switch {
	case h == nil:
		t.Errorf("no slide title shows")
	case h.Text != "Town hall on Friday":
		t.Errorf("the slide shown is %q, want the first, %q", h.Text, "Town hall on Friday")
	case h.FontPct < 4:
		t.Errorf("the headline is %.2f %% of the shorter side, want 4 %% or more", h.FontPct)
	case !h.Shown || !h.Inside || h.WidthPct < 20:
		t.Errorf("the headline does not show whole: shown %v, inside the viewport %v, its box %.1f %% of the width, on %d lines", h.Shown, h.Inside, h.WidthPct, h.Lines)
	default:
		t.Logf("headline at %.2f %% of the shorter side, %.0f %% of the width, %d lines", h.FontPct, h.WidthPct, h.Lines)
	}

	// It rotates: after 3 s the slide that shows is another one.
	b.open(e.base+"/screens/"+lobby+"?interval=3", 1280, 720)
	if !b.wait(12*time.Second, `(() => { const s = `+shownSlidesJS+`; return s.length === 1 && s[0] !== 0 })()`) {
		b.do(shownSlidesJS, &shown)
		t.Errorf("the screen does not rotate at ?interval=3: after 12 s the slides that show are %v", shown)
	}

	// It holds its WebSocket (the page's policy must allow it by name on Chromium 64), so
	// that news reaches it at once rather than at the next poll.
	if !b.wait(10*time.Second, `window.__signage.connected() && window.__signage.transport() === 'ws'`) {
		var transport string
		b.do(`window.__signage.transport()`, &transport)
		t.Errorf("the screen's WebSocket did not connect within 10 s (transport %q)", transport)
	}

	// A change upstream arrives in the same page.
	b.do(`window.__engineMark = 'same page'`, nil)
	e.fake.SetPublications(lobby, []map[string]any{
		{"id": "n1", "title": "Fire drill at 11:00", "summary": "Leave by the stairs.", "publishedAt": "2026-11-22T09:00:00Z"},
		{"id": "l1", "title": "Town hall on Friday", "body": "<p>Auditorium at 16:00.</p>", "publishedAt": "2026-11-20T09:00:00Z"},
	})
	if !b.wait(15*time.Second, `document.getElementById('deck').textContent.includes('Fire drill at 11:00')`) {
		t.Errorf("the change upstream did not reach the screen within 15 s")
	} else if !b.is(`window.__engineMark === 'same page'`) {
		t.Errorf("the screen reloaded to show the change")
	}
	b.errors("the screen")
}

// engineLegibility audits every slide of the layout userlist on a w×h panel, dark, and
// with transitions every state of the moves between them. Without the page's script (an
// engine that cannot run it), only the first slide as the server rendered it can be
// audited.
func engineLegibility(t *testing.T, b on, e *env, w, h int, transitions bool) {
	t.Helper()
	panel := fmt.Sprintf("%dx%d", w, h)
	b.open(e.base+"/screens/"+layoutList+"?clock=1&interval=600&theme=dark", w, h)
	if !b.wait(15*time.Second, `document.querySelectorAll('#deck .slide').length === 5 &&
		Array.from(document.querySelectorAll('.slide img')).every((i) => i.complete && i.naturalWidth > 0)`) {
		t.Fatalf("%s: the layout userlist's slides and their images did not load", panel)
	}
	script := b.is(`!!window.__signage && typeof window.__signage.show === 'function'`)
	if !script {
		t.Errorf("%s: the screen's script did not run (no window.__signage): only the first slide, as the server rendered it, is audited", panel)
	}
	b.do(auditJS, nil)
	audit := func(what string) {
		t.Helper()
		// The slide shown has faded in, the others are gone.
		if !b.wait(10*time.Second, `(() => {
		  const a = document.querySelector('.deck > .is-active');
		  return !!a && Array.from(a.querySelectorAll('.text, .state > *')).every((x) => getComputedStyle(x).opacity === '1') &&
		    Array.from(document.querySelectorAll('.deck > :not(.is-active)')).every((x) => getComputedStyle(x).visibility === 'hidden');
		})()`) {
			t.Errorf("%s %s: the slide did not settle (faded in, the others hidden) within 10 s", panel, what)
		}
		var r layoutReport
		b.do(`window.__audit()`, &r)
		for _, p := range r.Problems {
			t.Errorf("%s %s: %s", panel, what, p)
		}
		if r.Texts == 0 {
			t.Errorf("%s %s: no text found to audit", panel, what)
		}
		t.Logf("%s %s: smallest text %.2f %%, lowest small-text contrast %.2f:1, titles %v %%, QR %v %%", panel, what, r.MinTextPct, r.MinContrast, r.TitlePcts, r.QRPcts)
		b.shot(panel + "-" + strings.ReplaceAll(what, " ", "-"))
	}
	audit("slide 0")
	if !script {
		b.errors(panel)
		return
	}
	for i := 1; i < 5; i++ {
		if transitions {
			var tr transitionReport
			b.do(fmt.Sprintf(`window.__transition(%d)`, i), &tr)
			for _, p := range append(tr.Problems, tr.faults(i)...) {
				t.Errorf("%s transition to slide %d: %s", panel, i, p)
			}
		} else {
			b.do(fmt.Sprintf(`window.__signage.show(%d)`, i), nil)
		}
		audit(fmt.Sprintf("slide %d", i))
	}
	b.errors(panel)
}
