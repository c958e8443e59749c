package server_test

import (
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/spencer-signage/signage/server"
)

// urgentShown is the script that tells whether a page shows an urgent announcement over
// everything: the layer is there, covers the viewport, and its text is the topmost element
// at the centre of the screen.
const urgentShown = `(() => {
	const l = document.querySelector('.urgent-layer');
	if (!l) return false;
	const r = l.getBoundingClientRect();
	const top = document.elementFromPoint(innerWidth / 2, innerHeight / 2);
	return r.width >= innerWidth - 1 && r.height >= innerHeight - 1 && !!top && !!top.closest('.urgent-layer') &&
		getComputedStyle(l).visibility === 'visible';
})()`

// watchUrgent makes the page note the time (its Date.now(), the machine's clock) of the
// first frame after the urgent announcement appears (window.__urgent.on) and after it goes
// (window.__urgent.off): how long a screen took, without the test's polling of the page.
func watchUrgent(t *testing.T, b *browser) {
	t.Helper()
	eval[bool](t, b, `(() => {
		const shown = () => `+urgentShown+`;
		const gone = () => !document.querySelector('.urgent-layer');
		window.__urgent = {};
		const note = () => {
			const u = window.__urgent;
			if (!u.on && shown()) { u.on = -1; requestAnimationFrame(() => { u.on = Date.now(); }); }
			if (u.on && !u.off && gone()) { u.off = -1; requestAnimationFrame(() => { u.off = Date.now(); }); }
		};
		new MutationObserver(note).observe(document.body, {childList: true, subtree: true, attributes: true});
		note();
		return true;
	})()`)
}

// urgentAt is when the page noted the urgent announcement's arrival ("on") or end ("off").
func urgentAt(t *testing.T, b *browser, which string) time.Time {
	t.Helper()
	waitJS(t, b, 5*time.Second, "the page's note of the urgent announcement's "+which, `window.__urgent.`+which+` > 0`)
	return time.UnixMilli(int64(eval[float64](t, b, `window.__urgent.`+which)))
}

// TestBrowserUrgentAnnouncement: an urgent announcement posted with curl shows full screen on
// two open screens within a second, pauses the rotation, survives a restart of the server,
// and disappears after DELETE; an info one is a banner on the screen that takes its room from
// the slides, and on the embed.
func TestBrowserUrgentAnnouncement(t *testing.T) {
	e := newEnv(t, time.Minute)
	e.fake.LoadDemo(time.Hour, "")
	e.srv.News().Get(lobby).FetchNow()
	waitFor(t, 10*time.Second, "demo content", func() bool { c := e.srv.News().Get(lobby).Content(); return c != nil && len(c.Items) == 5 })
	addr := strings.TrimPrefix(e.base, "http://")
	screens := []*browser{newBrowser(t, 1280, 720), newBrowser(t, 1080, 1920), newBrowser(t, 3840, 2160)}
	for _, b := range screens {
		b.navigate(t, e.base+"/screens/"+lobby+"?interval=3")
		waitJS(t, b, 10*time.Second, "the WebSocket", `window.__signage && window.__signage.connected()`)
	}

	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Fatal("curl not found: install it")
	}
	for _, b := range screens {
		watchUrgent(t, b)
	}
	expires := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	posted := time.Now()
	out, err := exec.Command(curl, "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", e.base+"/admin/announcements",
		"-H", "Content-Type: application/json",
		"-d", `{"title":"Fire drill at 11:00","text":"Leave the building by the nearest exit and gather in the car park.","severity":"urgent","expires_at":"`+expires+`"}`).CombinedOutput()
	if err != nil || string(out) != "201" {
		t.Fatalf("curl: %v %s", err, out)
	}
	for i, b := range screens {
		waitJS(t, b, 5*time.Second, "the urgent announcement", urgentShown)
		took := urgentAt(t, b, "on").Sub(posted)
		t.Logf("screen %d showed it %v after curl started", i, took.Round(time.Millisecond))
		if took > time.Second {
			t.Errorf("screen %d showed it after %v", i, took)
		}
	}
	// Behind it, nothing rotates.
	b := screens[0]
	at := eval[float64](t, b, `window.__signage.slideIndex()`)
	waitJS(t, b, 5*time.Second, "the rotation to be held", `window.__signage.held()`)
	time.Sleep(3500 * time.Millisecond) // longer than a slide: nothing can be awaited that does not happen
	if now := eval[float64](t, b, `window.__signage.slideIndex()`); now != at {
		t.Errorf("the slides moved on behind the urgent announcement (%v to %v)", at, now)
	}
	for _, b := range screens {
		w, h := eval[float64](t, b, `innerWidth`), eval[float64](t, b, `innerHeight`)
		b.screenshot(t, fmt.Sprintf("announcement-urgent-%.0fx%.0f.png", w, h))
	}

	// It survives a restart: the pages reconnect to the new process and still show it.
	e.stop()
	e.start(addr)
	for _, b := range screens {
		waitJS(t, b, 20*time.Second, "the reconnection", `window.__signage.connected()`)
		waitJS(t, b, 5*time.Second, "the urgent announcement after the restart", urgentShown)
	}
	b.navigate(t, e.base+"/screens/"+lobby+"?interval=3")
	waitJS(t, b, 5*time.Second, "the urgent announcement in a page opened after the restart", urgentShown)

	_, list := e.get("/admin/announcements")
	id := between(list, `"id":"`, `"`, 0)
	for _, b := range screens {
		watchUrgent(t, b)
	}
	req, _ := http.NewRequest(http.MethodDelete, e.base+"/admin/announcements/"+id, nil)
	ended := time.Now()
	if resp, err := http.DefaultTransport.RoundTrip(req); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %v %v", resp, err)
	}
	for i, b := range screens {
		waitJS(t, b, 5*time.Second, "the news again", `!document.querySelector('.urgent-layer') && !window.__signage.held()`)
		took := urgentAt(t, b, "off").Sub(ended)
		t.Logf("screen %d let go %v after the DELETE", i, took.Round(time.Millisecond))
		if took > time.Second {
			t.Errorf("screen %d let go after %v", i, took)
		}
	}

	// An informative one: a banner below the slides on the screen, and on the embed.
	resp, body := e.post(`{"title":"Canteen","text":"Closed on Friday afternoon for the staff party.","severity":"info","expires_at":"` + expires + `"}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST: %d %s", resp.StatusCode, body)
	}
	waitJS(t, b, 5*time.Second, "the banner", `!!document.querySelector('.info-banner')`)
	if overlap := eval[bool](t, b, `(() => {
		const banner = document.querySelector('.info-banner').getBoundingClientRect();
		return Array.from(document.querySelectorAll('.slide.is-active .text *')).some(el => {
			const r = el.getBoundingClientRect();
			return r.height > 0 && r.bottom > banner.top + 1;
		});
	})()`); overlap {
		t.Errorf("the banner covers the slide's text")
	}
	screens[0].screenshot(t, "announcement-info-1280x720.png")
	embed := newBrowser(t, 400, 600)
	embed.navigate(t, e.base+"/embed/"+lobby)
	waitJS(t, embed, 5*time.Second, "the banner in the embed", `(() => {
		const a = document.querySelector('[data-testid=embed-announcement]');
		return !!a && a.textContent.includes('Closed on Friday afternoon') && a.getBoundingClientRect().height > 0;
	})()`)
	for _, b := range append(screens, embed) {
		for _, msg := range b.errorsBesidesTheOutage() { // the restart refused them for a moment
			t.Errorf("browser error: %s", msg)
		}
	}
}

// TestBrowserQuietHours: in its quiet hours a screen is black, nothing moves, and it keeps
// its connection; an urgent announcement still shows; at the end it wakes with the news of
// the moment. The test drives the server's clock.
func TestBrowserQuietHours(t *testing.T) {
	clk := &clock{now: time.Date(2026, 12, 1, 18, 59, 58, 0, time.UTC)}
	e := newEnv(t, time.Minute, func(c *server.Config) {
		c.Screens.QuietHours = []string{"Mon-Fri 19:00-07:00"}
		c.Screens.TimeZone = "UTC"
	})
	e.stop()
	e.opts.Now = clk.Now
	e.start()
	b := newBrowser(t, 1280, 720)
	b.navigate(t, e.base+"/screens/"+lobby+"?interval=3")
	waitJS(t, b, 10*time.Second, "the WebSocket", `window.__signage && window.__signage.connected()`)

	black := `(() => {
		const top = document.elementFromPoint(innerWidth / 2, innerHeight / 2);
		return window.__signage.quiet() && !!top && top.classList.contains('quiet-layer') &&
			getComputedStyle(top).backgroundColor === 'rgb(0, 0, 0)' &&
			Array.from(document.querySelectorAll('.deck, .chrome')).every(x => getComputedStyle(x).visibility === 'hidden');
	})()`
	clk.set(time.Date(2026, 12, 1, 19, 0, 1, 0, time.UTC))
	waitJS(t, b, 5*time.Second, "a black screen", black)
	if !eval[bool](t, b, `window.__signage.connected()`) {
		t.Errorf("the screen let go of its connection in the quiet hours")
	}

	// News that changes in the night is there when the screen wakes.
	e.fake.SetPublications(lobby, []map[string]any{{"id": "m", "title": "Good morning: the canteen opens at 8"}})
	e.srv.News().Get(lobby).FetchNow()
	waitFor(t, 10*time.Second, "the night's news", func() bool {
		c := e.srv.News().Get(lobby).Content()
		return c != nil && len(c.Items) == 1
	})
	expires := clk.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	resp, body := e.post(`{"text":"Water leak on floor 2: keep clear.","severity":"urgent","expires_at":"` + expires + `"}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST: %d %s", resp.StatusCode, body)
	}
	waitJS(t, b, 5*time.Second, "the urgent announcement over the quiet screen", urgentShown)
	_, list := e.get("/admin/announcements")
	req, _ := http.NewRequest(http.MethodDelete, e.base+"/admin/announcements/"+between(list, `"id":"`, `"`, 0), nil)
	if resp, err := http.DefaultTransport.RoundTrip(req); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %v %v", resp, err)
	}
	waitJS(t, b, 5*time.Second, "black again", black)

	clk.set(time.Date(2026, 12, 2, 7, 0, 1, 0, time.UTC))
	waitJS(t, b, 5*time.Second, "the screen to wake with the news of the moment", `!window.__signage.quiet() &&
		getComputedStyle(document.querySelector('.deck')).visibility === 'visible' &&
		document.querySelector('.deck .is-active [data-testid=slide-title]')?.textContent.includes('Good morning')`)
	for _, msg := range b.consoleErrors() {
		t.Errorf("browser error: %s", msg)
	}
}

// TestBrowserLongUrgentFits: the longest urgent announcement allowed fits a small 1024×600
// panel whole, its text no smaller than 2.5 % of the shorter side.
func TestBrowserLongUrgentFits(t *testing.T) {
	e := newEnv(t, time.Minute)
	b := newBrowser(t, 1024, 600)
	b.navigate(t, e.base+"/screens/"+lobby)
	waitJS(t, b, 10*time.Second, "the WebSocket", `window.__signage && window.__signage.connected()`)
	text := strings.TrimSpace(strings.Repeat("The north entrance is closed for repairs; use the south door. ", 17))[:1000]
	resp, body := e.post(`{"title":"Entrance closed","text":"` + text + `","severity":"urgent","expires_at":"` + time.Now().Add(time.Hour).UTC().Format(time.RFC3339) + `"}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST: %d %s", resp.StatusCode, body)
	}
	waitJS(t, b, 5*time.Second, "the urgent announcement", urgentShown)
	problems := eval[string](t, b, `(() => {
		const out = [];
		const min = Math.min(innerWidth, innerHeight) * 0.025 - 0.01;
		for (const el of document.querySelectorAll('.urgent-layer p, .urgent-layer h1')) {
			const r = el.getBoundingClientRect(), fs = parseFloat(getComputedStyle(el).fontSize);
			if (r.top < 0 || r.left < 0 || r.bottom > innerHeight + 0.5 || r.right > innerWidth + 0.5) out.push(el.className + ' outside');
			if (fs < min) out.push(el.className + ' ' + fs + 'px');
		}
		return out.join(', ');
	})()`)
	if problems != "" {
		t.Errorf("the long announcement: %s", problems)
	}
}
