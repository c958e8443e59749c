package server_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/spencer-signage/signage/server"
)

// faketimeLib is libfaketime (Debian's faketime package), which gives the browser a
// device clock of its own.
func faketimeLib(t *testing.T) string {
	t.Helper()
	libs, _ := filepath.Glob("/usr/lib/*/faketime/libfaketime.so.1")
	if len(libs) == 0 {
		t.Fatal("libfaketime not found: install it (apt-get install faketime) or set SIGNAGE_SKIP_BROWSER=1 to skip the browser tests on purpose")
	}
	return libs[0]
}

// deviceLag is how far behind the device's clock is in the tests: 3 h 17 min.
const deviceLag = 3*time.Hour + 17*time.Minute

// TestBrowserScreenShowsTheServersTime: a TV whose clock is 3 h 17 min behind and whose
// zone is Honolulu's (faketime and TZ on the browser's processes) shows the server's time
// in screens.time_zone (Brussels): the clock, the "last updated" marker, and the dates
// of the slides and of the embed.
func TestBrowserScreenShowsTheServersTime(t *testing.T) {
	skipBrowserOnPurpose(t) // the skip, asked for on purpose, comes first
	brussels, err := time.LoadLocation("Europe/Brussels")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, 500*time.Millisecond, func(c *server.Config) { c.Screens.TimeZone = "Europe/Brussels" })
	e.fake.SetPublications(lobby, []map[string]any{
		{"id": "late", "title": "Late news", "publishedAt": "2026-11-20T23:30:00Z"}, // the 21st in Brussels, the 20th in Honolulu
		{"id": "other", "title": "Other news", "publishedAt": "2026-11-19T09:00:00Z"},
	})
	waitFor(t, 10*time.Second, "the late news", func() bool {
		_, html := e.get("/screens/" + lobby)
		return strings.Contains(html, "Late news")
	})
	b := newBrowser(t, 1280, 720, chromedp.Env(
		"LD_PRELOAD="+faketimeLib(t),
		fmt.Sprintf("FAKETIME=-%d", int(deviceLag.Seconds())),
		"TZ=Pacific/Honolulu",
	))
	b.navigate(t, e.base+"/screens/"+lobby+"?lang=nl-BE&clock=1&interval=600")
	waitJS(t, b, 15*time.Second, "the late news", `!!window.__signage && !!document.querySelector('.slide[data-id=late]') && document.getElementById('clock').textContent !== ''`)

	// The device is as the test says: behind, and in Honolulu.
	device := time.UnixMilli(int64(eval[float64](t, b, `Date.now()`)))
	if lag := time.Since(device); lag < deviceLag-time.Minute || lag > deviceLag+time.Minute {
		t.Fatalf("the browser's clock is %v behind, want %v: faketime did not take", lag.Round(time.Second), deviceLag)
	}
	if off := eval[int](t, b, `new Date().getTimezoneOffset()`); off != 600 {
		t.Fatalf("the browser's zone is %d min behind UTC, want Honolulu's 600", off)
	}

	// The screen keeps the server's time, to the second.
	if skew := time.Since(time.UnixMilli(int64(eval[float64](t, b, `window.__signage.serverTime()`)))); skew < -2*time.Second || skew > 2*time.Second {
		t.Errorf("the screen's server time is %v off", skew)
	}
	// The clock is Brussels' time of day (read twice around a minute's change).
	before := time.Now().In(brussels).Format("15:04")
	clock := eval[string](t, b, `document.getElementById('clock').textContent`)
	after := time.Now().In(brussels).Format("15:04")
	if clock != before && clock != after {
		t.Errorf("the clock says %q; in Brussels it is %s", clock, after)
	}
	// The marker of stale news says since when, in Brussels' time.
	since := time.Now().Add(-20 * time.Minute).Truncate(time.Minute)
	eval[bool](t, b, fmt.Sprintf(`(window.__signage.status(true, %q), true)`, since.UTC().Format(time.RFC3339)))
	waitJS(t, b, 5*time.Second, "the stale marker", `!document.getElementById('stale-marker').hidden`)
	if got, want := eval[string](t, b, `document.getElementById('stale-marker').textContent`), "Laatst bijgewerkt om "+since.In(brussels).Format("15:04"); got != want {
		t.Errorf("the marker says %q, want %q", got, want)
	}
	// The dates are Brussels' days.
	if got := eval[string](t, b, `document.querySelector('.slide[data-id=late] time').textContent`); got != "21 november 2026" {
		t.Errorf("the slide of 23:30 UTC on 20 November is dated %q, want Brussels' 21 november 2026", got)
	}
	b.navigate(t, e.base+"/embed/"+lobby+"?lang=nl-BE")
	waitJS(t, b, 10*time.Second, "the widget", `!!window.__signageEmbed`)
	if got := eval[string](t, b, `document.querySelector('.headline[data-id=late] time').textContent`); !strings.HasPrefix(got, "21 nov") {
		t.Errorf("the embed dates 23:30 UTC on 20 November %q, want Brussels' 21st", got)
	}
	for _, msg := range b.consoleErrors() {
		t.Errorf("browser error: %s", msg)
	}
}

// TestBrowserScreenClockFollowsDaylightSaving: the screen's clock changes to summer time
// when its server's zone does (02:00 is 03:00 on the last Sunday of March in Brussels),
// from what the server said of the zone, without asking again.
func TestBrowserScreenClockFollowsDaylightSaving(t *testing.T) {
	change := time.Date(2027, 3, 28, 1, 0, 0, 0, time.UTC) // 02:00 CET becomes 03:00 CEST
	start := time.Now()
	serverTime := func() time.Time { return change.Add(-6 * time.Second).Add(time.Since(start)) }
	e := newEnv(t, time.Minute, func(c *server.Config) { c.Screens.TimeZone = "Europe/Brussels" })
	e.stop()
	e.opts.Now = serverTime
	e.start()
	b := newBrowser(t, 1280, 720)
	b.navigate(t, e.base+"/screens/"+lobby+"?lang=nl-BE&clock=1&interval=600")
	waitJS(t, b, 15*time.Second, "the page", `!!window.__signage && document.getElementById('clock').textContent !== ''`)
	// Unless the page took long to load: the clock, and what the page holds as the time.
	var seen struct {
		Clock string
		At    float64
	}
	seen.Clock = eval[string](t, b, `document.getElementById('clock').textContent`)
	seen.At = eval[float64](t, b, `window.__signage.serverTime()`)
	if time.UnixMilli(int64(seen.At)).Before(change.Add(-time.Second)) && seen.Clock != "01:59" {
		t.Errorf("before the change the clock says %q, want 01:59", seen.Clock)
	}
	waitJS(t, b, 10*time.Second, "summer time", `document.getElementById('clock').textContent === '03:00'`)
}
