package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/spencer-signage/signage/server"
	"github.com/spencer-signage/signage/server/browsertest"
)

// Browser tests drive Debian's Chromium against the real server and spencertest. They
// never skip silently: without Chromium they fail, unless SIGNAGE_SKIP_BROWSER=1 says so
// on purpose (and then `go test -v` shows SKIP). The same launch serves the engine tests'
// Debian Chromium (browsertest).

// screenshotDir is where the screenshots are kept as an artefact (the README shows some):
// the test run writes them there only when asked (make screenshots), so that `make test`
// leaves the work tree as it found it; otherwise into the test's own temporary directory.
func screenshotDir(t *testing.T) string {
	if os.Getenv("SIGNAGE_UPDATE_SCREENSHOTS") == "1" {
		return "../testdata/screenshots"
	}
	return t.TempDir()
}

// skipBrowserOnPurpose skips a browser test when SIGNAGE_SKIP_BROWSER=1 asks to; a test
// that needs more than a browser calls it first, so that the skip asked for comes first.
func skipBrowserOnPurpose(t *testing.T) {
	t.Helper()
	if os.Getenv("SIGNAGE_SKIP_BROWSER") == "1" {
		t.Skip("SIGNAGE_SKIP_BROWSER=1: browser tests skipped on purpose")
	}
}

// browser is one headless Chromium tab with its console errors collected.
type browser struct {
	ctx context.Context
	cdp *browsertest.Chromedp
}

// newBrowser starts a headless Chromium of its own; extra adds to its options (an
// environment, a flag).
func newBrowser(t *testing.T, width, height int, extra ...chromedp.ExecAllocatorOption) *browser {
	t.Helper()
	skipBrowserOnPurpose(t)
	cdp, err := browsertest.LaunchChromium(context.Background(), t.TempDir(), append([]chromedp.ExecAllocatorOption{chromedp.WindowSize(width, height)}, extra...)...)
	if err != nil {
		t.Fatalf("%v, or set SIGNAGE_SKIP_BROWSER=1 to skip the browser tests on purpose", err)
	}
	t.Cleanup(func() { cdp.Close() })
	b := &browser{ctx: cdp.Context(), cdp: cdp}
	if err := chromedp.Do(b.ctx, chromedp.EmulateViewport(int64(width), int64(height))); err != nil {
		t.Fatal(err)
	}
	return b
}

// consoleErrors returns the errors seen so far, and forgets them.
func (b *browser) consoleErrors() []string { return b.cdp.Errors() }

// errorsBesidesTheOutage are the page's errors other than those a server that was down
// for a while causes, which a test that stops the server expects: the refused connections
// of the WebSocket and the service worker's failed fetches.
func (b *browser) errorsBesidesTheOutage() []string {
	var out []string
	for _, msg := range b.consoleErrors() {
		if strings.Contains(msg, "ERR_CONNECTION_REFUSED") || strings.Contains(msg, "WebSocket") || strings.Contains(msg, "Failed to fetch") {
			continue
		}
		out = append(out, msg)
	}
	return out
}

func (b *browser) navigate(t *testing.T, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("navigate %s: %v", url, err)
	}
}

func eval[T any](t *testing.T, b *browser, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitJS polls a JavaScript predicate in the page until it is true. A navigation in
// between (a reload) only means asking again.
func waitJS(t *testing.T, b *browser, timeout time.Duration, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var lastErr error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		cancel()
		if err == nil && ok {
			return
		}
		lastErr = err
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("waiting for %s (%s): timed out after %v (last error: %v)", what, expr, timeout, lastErr)
}

func (b *browser) screenshot(t *testing.T, name string) {
	t.Helper()
	buf, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := screenshotDir(t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBrowserScreenLivesAndHeals: the page shows the items with no script error, slides
// advance on their own, a change upstream appears without a reload, and after the server
// restarts on the same port the page picks up new content by itself.
func TestBrowserScreenLivesAndHeals(t *testing.T) {
	b := newBrowser(t, 1920, 1080)
	e := newEnv(t, 500*time.Millisecond)
	b.navigate(t, e.base+"/screens/"+lobby+"?interval=3")

	if got := eval[string](t, b, `document.querySelector('.slide.is-active [data-testid=slide-title]').textContent`); got != "Town hall on Friday" {
		t.Fatalf("first slide title %q", got)
	}
	waitJS(t, b, 10*time.Second, "the WebSocket", `window.__signage && window.__signage.connected()`)
	if n := eval[int](t, b, `window.__signage.slideCount()`); n != 2 {
		t.Errorf("slide count %d, want 2", n)
	}
	// Nothing overflows: no scrollbar, the page is exactly the viewport.
	if overflow := eval[bool](t, b, `document.documentElement.scrollHeight > innerHeight || document.documentElement.scrollWidth > innerWidth`); overflow {
		t.Errorf("the page overflows the viewport")
	}

	// Slides advance on their own.
	waitJS(t, b, 8*time.Second, "the second slide", `window.__signage.slideIndex() === 1`)
	waitJS(t, b, 8*time.Second, "back to the first slide", `window.__signage.slideIndex() === 0`)

	// A change upstream appears in the same JS context, without a reload.
	eval[bool](t, b, `window.__sameContext = true`)
	e.fake.SetPublications(lobby, []map[string]any{
		{"id": "n1", "title": "Fire drill at 11:00", "summary": "Leave by the stairs.", "publishedAt": "2026-11-22T09:00:00Z"},
		{"id": "l1", "title": "Town hall on Friday", "body": "<p>Auditorium at 16:00.</p>", "publishedAt": "2026-11-20T09:00:00Z"},
	})
	waitJS(t, b, 10*time.Second, "the new item", `document.getElementById('deck').textContent.includes('Fire drill at 11:00')`)
	if !eval[bool](t, b, `window.__sameContext === true`) {
		t.Errorf("the page reloaded to show the change")
	}

	// Stop the server; the page keeps its content; start it again on the same port with
	// new content upstream: the page picks it up by itself.
	addr := strings.TrimPrefix(e.base, "http://")
	e.stop()
	waitJS(t, b, 10*time.Second, "the disconnect", `!window.__signage.connected()`)
	if !eval[bool](t, b, `document.getElementById('deck').textContent.includes('Fire drill at 11:00')`) {
		t.Errorf("content vanished while the server was down")
	}
	e.fake.SetPublications(lobby, []map[string]any{
		{"id": "r1", "title": "Back after the restart", "summary": "New content.", "publishedAt": "2026-11-23T09:00:00Z"},
	})
	e.start(addr)
	waitJS(t, b, 45*time.Second, "the content after the restart", `document.getElementById('deck').textContent.includes('Back after the restart')`)

	for _, msg := range b.consoleErrors() {
		t.Errorf("browser error: %s", msg)
	}
}

// TestBrowserStates: the empty and unknown-userlist states show their messages.
func TestBrowserStates(t *testing.T) {
	b := newBrowser(t, 1920, 1080)
	const empty = "7a7a7a7a-1111-4222-8333-944444444444"
	const unknown = "00000000-0000-4000-8000-000000000000"
	e := newEnv(t, time.Minute)
	e.fake.SetPublications(empty, []map[string]any{})
	for _, tc := range []struct{ id, testid, text string }{
		{empty, "state-empty", "No news right now"},
		{unknown, "state-unknown", unknown},
	} {
		b.navigate(t, e.base+"/screens/"+tc.id)
		waitJS(t, b, 10*time.Second, tc.testid, fmt.Sprintf(`!!document.querySelector('[data-testid=%s]')`, tc.testid))
		if txt := eval[string](t, b, `document.getElementById('deck').innerText`); !strings.Contains(txt, tc.text) {
			t.Errorf("%s: text %q lacks %q", tc.testid, txt, tc.text)
		}
		visible := eval[bool](t, b, fmt.Sprintf(`(() => { const r = document.querySelector('[data-testid=%s] h1').getBoundingClientRect(); return r.width > 0 && r.height > 0 && getComputedStyle(document.querySelector('[data-testid=%s]')).opacity === '1' })()`, tc.testid, tc.testid))
		if !visible {
			t.Errorf("%s is not visible", tc.testid)
		}
	}
	for _, msg := range b.consoleErrors() {
		t.Errorf("browser error: %s", msg)
	}
}

// TestBrowserScreenshots keeps what the demo looks like on a 720p panel, a 4K panel and a
// portrait stele, dark and light: a slide with an image and a QR code, a photo-led slide,
// a type-led slide and the state of a userlist Spencer does not know; and, dark, a Dutch
// screen (?lang=nl-BE) on the 720p panel and the stele. The layout rules themselves are
// TestBrowserLayout's; these are for people to look at (the README shows some).
func TestBrowserScreenshots(t *testing.T) {
	e := newEnv(t, time.Minute)
	e.fake.LoadDemo(time.Hour, "")
	for _, id := range []string{lobby, canteen} {
		e.srv.News().Get(id).FetchNow()
	}
	waitFor(t, 10*time.Second, "demo content", func() bool {
		l, c := e.srv.News().Get(lobby).Content(), e.srv.News().Get(canteen).Content()
		return l != nil && len(l.Items) == 5 && c != nil && len(c.Items) == 3
	})
	// and their photos, kept by the server, before any page is opened
	e.waitImages("/screens/"+lobby, 5)
	e.waitImages("/screens/"+canteen, 2)
	const unknown = "00000000-0000-4000-8000-000000000000"
	// settled: the slide shown, its image decoded, its text faded in, the others gone.
	const settled = `(() => {
		const a = document.querySelector('.deck > .is-active');
		const img = a && a.querySelector('img');
		return !!a && (!img || (img.complete && img.naturalWidth > 0)) &&
			Array.from(a.querySelectorAll('.text, .state > *')).every(x => getComputedStyle(x).opacity === '1') &&
			Array.from(document.querySelectorAll('.deck > :not(.is-active)')).every(x => getComputedStyle(x).visibility === 'hidden')
	})()`
	for _, vp := range []struct {
		w, h int
	}{{1280, 720}, {3840, 2160}, {1080, 1920}} {
		t.Run(fmt.Sprintf("%dx%d", vp.w, vp.h), func(t *testing.T) {
			b := newBrowser(t, vp.w, vp.h)
			for _, theme := range []string{"dark", "light"} {
				suffix := fmt.Sprintf("-%dx%d-%s.png", vp.w, vp.h, theme)
				for _, shot := range []struct {
					name, userlist string
					slide          int
					class          string
					lang           string
				}{
					{"screen", lobby, 1, "has-image", ""},
					{"photo", lobby, 2, "photo-led", ""},
					{"text", canteen, 2, "no-image", ""},
					{"state-unknown", unknown, -1, "state-unknown", ""},
					{"screen-nl", canteen, 0, "has-image", "nl-BE"},
				} {
					if shot.lang != "" && (vp.w == 3840 || theme != "dark") {
						continue
					}
					b.navigate(t, e.base+"/screens/"+shot.userlist+"?clock=1&interval=600&theme="+theme+"&lang="+shot.lang)
					waitJS(t, b, 15*time.Second, "the page", `!!window.__signage && document.getElementById('clock').textContent !== ''`)
					if shot.slide >= 0 {
						eval[bool](t, b, fmt.Sprintf(`(window.__signage.show(%d), true)`, shot.slide))
						waitJS(t, b, 15*time.Second, "the slide", fmt.Sprintf(`window.__signage.slideIndex() === %d`, shot.slide))
					}
					waitJS(t, b, 15*time.Second, "the settled "+shot.name, settled)
					if !eval[bool](t, b, `document.querySelector('.deck > .is-active').classList.contains('`+shot.class+`')`) {
						t.Errorf("%s: the shown slide is not %s", shot.name, shot.class)
					}
					b.screenshot(t, shot.name+suffix)
				}
			}
			for _, msg := range b.consoleErrors() {
				t.Errorf("browser error: %s", msg)
			}
		})
	}
}

// TestBrowserScreenOpensWhileServerDown: once a screen has been open, its service worker
// keeps the page: opened again while the server is down, it shows the last news instead
// of a browser error page, and goes live by itself when the server is back.
func TestBrowserScreenOpensWhileServerDown(t *testing.T) {
	b := newBrowser(t, 1280, 720)
	e := newEnv(t, 500*time.Millisecond)
	page := e.base + "/screens/" + lobby
	b.navigate(t, page)
	waitJS(t, b, 15*time.Second, "the service worker", `!!(navigator.serviceWorker && navigator.serviceWorker.controller)`)
	b.navigate(t, page) // through the worker now: it keeps the page and its assets
	waitJS(t, b, 10*time.Second, "the WebSocket", `window.__signage && window.__signage.connected()`)

	addr := strings.TrimPrefix(e.base, "http://")
	e.stop()
	b.navigate(t, page)
	waitJS(t, b, 10*time.Second, "the kept page", `document.getElementById('deck') !== null`)
	if txt := eval[string](t, b, `document.getElementById('deck').textContent`); !strings.Contains(txt, "Town hall on Friday") {
		t.Fatalf("opened while the server is down, the page shows %q", txt)
	}
	e.fake.SetPublications(lobby, []map[string]any{
		{"id": "r2", "title": "Server is back", "summary": "Live again.", "publishedAt": "2026-11-23T09:00:00Z"},
	})
	e.start(addr)
	waitJS(t, b, 45*time.Second, "live content after the server came back", `document.getElementById('deck').textContent.includes('Server is back')`)
	for _, msg := range b.errorsBesidesTheOutage() {
		t.Errorf("browser error: %s", msg)
	}
}

// TestBrowserAdminReloadsScreens is the operator's walk-through: two screens open, the
// status page shows both online, the reload button of their userlist reloads them.
func TestBrowserAdminReloadsScreens(t *testing.T) {
	e := newEnv(t, time.Minute)
	screens := []*browser{newBrowser(t, 1280, 720), newBrowser(t, 1280, 720)}
	for _, b := range screens {
		b.navigate(t, e.base+"/screens/"+lobby)
		waitJS(t, b, 10*time.Second, "the WebSocket", `window.__signage && window.__signage.connected()`)
		eval[bool](t, b, `window.__beforeReload = true`)
	}
	admin := newBrowser(t, 1400, 1000)
	admin.navigate(t, e.base+"/admin")
	waitJS(t, admin, 15*time.Second, "two online screens on the status page",
		`document.querySelectorAll('[data-testid=admin-screen][data-online="1"]').length === 2`)
	admin.screenshot(t, "admin.png")
	// Each page keeps a stable id of its own, a UUID, which the server accepts.
	sids := map[string]bool{}
	for _, sc := range e.status().Screens {
		if !server.IsUUID(sc.SID) {
			t.Errorf("screen %s has stable id %q, not a UUID", sc.ID, sc.SID)
		}
		sids[sc.SID] = true
	}
	if len(sids) != 2 {
		t.Errorf("two screens, %d stable ids", len(sids))
	}
	eval[bool](t, admin, `(() => { document.querySelector('tr[data-id="`+lobby+`"] form[action="/admin/reload"] button').click(); return true })()`)
	for i, b := range screens {
		waitJS(t, b, 15*time.Second, "the screen to reload", `window.__beforeReload === undefined && !!window.__signage`)
		if got := eval[string](t, b, `document.querySelector('.slide.is-active [data-testid=slide-title]').textContent`); got != "Town hall on Friday" {
			t.Errorf("screen %d after reload shows %q", i, got)
		}
	}
	for _, b := range append(screens, admin) {
		for _, msg := range b.consoleErrors() {
			t.Errorf("browser error: %s", msg)
		}
	}
}

// TestBrowserScreenBehindProxyThatBlocksWebSockets: behind a proxy that refuses WebSocket
// upgrades, the screen falls back to polling the deck over HTTP and still gets changes.
func TestBrowserScreenBehindProxyThatBlocksWebSockets(t *testing.T) {
	e := newEnv(t, 300*time.Millisecond)
	target, _ := url.Parse(e.base)
	rp := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			http.Error(w, "WebSockets are not allowed here", http.StatusForbidden)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	defer proxy.Close()

	b := newBrowser(t, 1280, 720)
	b.navigate(t, proxy.URL+"/screens/"+lobby)
	waitJS(t, b, 20*time.Second, "the polling fallback", `window.__signage && window.__signage.transport() === 'poll'`)
	e.fake.SetPublications(lobby, []map[string]any{
		{"id": "p1", "title": "Delivered by polling", "summary": "No WebSocket needed.", "publishedAt": "2026-11-23T09:00:00Z"},
	})
	waitJS(t, b, 45*time.Second, "the change through polling", `document.getElementById('deck').textContent.includes('Delivered by polling')`)
	for _, msg := range b.consoleErrors() {
		// The refused upgrades are the point of the test.
		if strings.Contains(msg, "WebSocket") || strings.Contains(msg, "403") {
			continue
		}
		t.Errorf("browser error: %s", msg)
	}
}
