package server_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/spencer-signage/signage/server"
	"github.com/spencer-signage/signage/spencerclient/spencertest"
	"github.com/spencer-signage/signage/views"
)

// visibleTextsJS lists the texts a viewer sees on the page now: every text node whose
// element shows (not display:none, not hidden, not visibility:hidden), and the labels
// screen readers read.
const visibleTextsJS = `JSON.stringify((() => {
  const out = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n; (n = walk.nextNode());) {
    const t = n.nodeValue.trim(), el = n.parentElement;
    if (!t || !el || el.closest('script, style, template')) continue;
    if (el.checkVisibility({ visibilityProperty: true })) out.push(t);
  }
  for (const el of document.querySelectorAll('[aria-label]')) if (el.checkVisibility({ visibilityProperty: true })) out.push(el.getAttribute('aria-label'));
  return out;
})())`

// ourEnglish are the English texts of ours that a page in lang must not show: those its
// catalogue says otherwise ("Demo" is Dutch too), split at their placeholders.
func ourEnglish(lang string) []string {
	en, other := reflect.ValueOf(*views.LocaleFor("en").Texts()), reflect.ValueOf(*views.LocaleFor(lang).Texts())
	var out []string
	for i := range en.NumField() {
		if en.Field(i).String() == other.Field(i).String() {
			continue
		}
		for _, part := range regexp.MustCompile(`\{[a-z]+\}`).Split(en.Field(i).String(), -1) {
			if part = strings.TrimSpace(part); len(part) >= 4 {
				out = append(out, part)
			}
		}
	}
	return out
}

var dutchDate = regexp.MustCompile(`^\d{1,2} (januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december) \d{4}$`)

// TestBrowserScreenSpeaksDutch walks a Dutch screen as a passer-by reads it: every slide
// of the demo's two userlists, the stale marker, the clock and the demo badge, and the
// empty, unknown and waiting states, each from the real server. No English text of ours
// shows anywhere; the dates are Dutch from the server on, and the page keeps them, in
// the server's time zone whatever the browser's.
func TestBrowserScreenSpeaksDutch(t *testing.T) {
	const empty = "7a7a7a7a-1111-4222-8333-944444444444"
	const unknown = "00000000-0000-4000-8000-000000000000"
	const waiting = "0b0b0b0b-2222-4333-8444-955555555555"
	e := newLayoutEnv(t, func(c *server.Config) { c.Screens.TimeZone = "Pacific/Honolulu" })
	e.fake.SetPublications(empty, []map[string]any{})
	b := newBrowser(t, 1280, 720)
	// The browser is in a third zone, where days differ from both UTC's and Honolulu's.
	if _, err := chromedp.Call(b.ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Tokyo"}); err != nil {
		t.Fatal(err)
	}
	var seen []string
	look := func(what string) {
		t.Helper()
		var texts []string
		if err := json.Unmarshal([]byte(eval[string](t, b, visibleTextsJS)), &texts); err != nil {
			t.Fatal(err)
		}
		if len(texts) == 0 {
			t.Errorf("%s: no text shows", what)
		}
		for _, txt := range texts {
			for _, en := range ourEnglish("nl-BE") {
				if strings.Contains(txt, en) {
					t.Errorf("%s shows English of ours: %q in %q", what, en, txt)
				}
			}
		}
		seen = append(seen, texts...)
	}
	open := func(id, query string) {
		t.Helper()
		b.navigate(t, e.base+"/screens/"+id+"?lang=nl-BE&clock=1&interval=600"+query)
		waitJS(t, b, 15*time.Second, "the page", `!!window.__signage && document.getElementById('clock').textContent !== ''`)
		if got := eval[string](t, b, `document.documentElement.lang`); got != "nl-BE" {
			t.Errorf("%s: <html lang=%q>", id, got)
		}
	}

	for _, id := range []string{lobby, canteen} {
		_, html := e.get("/screens/" + id + "?lang=nl-BE")
		served := map[string]string{}
		parseHTML(t, html).Find("[data-testid=slide] time").Each(func(_ int, s *goquery.Selection) {
			served[s.AttrOr("datetime", "")] = s.Text()
		})
		open(id, "")
		n := eval[int](t, b, `window.__signage.slideCount()`)
		if n < 3 {
			t.Fatalf("%s: %d slides", id, n)
		}
		for i := range n {
			eval[bool](t, b, fmt.Sprintf(`(window.__signage.show(%d), true)`, i))
			waitJS(t, b, 10*time.Second, "the slide", fmt.Sprintf(`window.__signage.slideIndex() === %d && getComputedStyle(document.querySelectorAll('#deck > .slide')[%d]).visibility === 'visible'`, i, i))
			look(fmt.Sprintf("%s slide %d", id, i))
		}
		var written map[string]string
		if err := json.Unmarshal([]byte(eval[string](t, b, `JSON.stringify(Object.fromEntries(Array.from(document.querySelectorAll('#deck time'), (t) => [t.getAttribute('datetime'), t.textContent])))`)), &written); err != nil {
			t.Fatal(err)
		}
		if len(served) < n {
			t.Errorf("%s: %d dates served for %d slides", id, len(served), n)
		}
		for dt, s := range served {
			if !dutchDate.MatchString(s) {
				t.Errorf("%s: the server wrote %s as %q, not a Dutch date", id, dt, s)
			}
			if written[dt] != s {
				t.Errorf("%s: the server wrote %s as %q, the script as %q", id, dt, s, written[dt])
			}
		}
	}

	// The chrome at its fullest: the stale marker too, in the server's zone (07:00 UTC is
	// 21:00 in Honolulu). The clock is a 24-hour one.
	eval[bool](t, b, `(window.__signage.status(true, '2026-11-28T07:00:00Z'), true)`)
	waitJS(t, b, 5*time.Second, "the stale marker", `!document.getElementById('stale-marker').hidden`)
	look("the chrome")
	if got := eval[string](t, b, `document.getElementById('stale-marker').textContent`); got != "Laatst bijgewerkt om 21:00" {
		t.Errorf("stale marker %q", got)
	}
	if clock := eval[string](t, b, `document.getElementById('clock').textContent`); !regexp.MustCompile(`^[0-2]\d:[0-5]\d$`).MatchString(clock) {
		t.Errorf("clock %q is not a 24-hour time", clock)
	}

	for _, id := range []string{empty, unknown} {
		open(id, "")
		look("state of " + id)
	}
	// A userlist Spencer has not answered for yet: the page waits for it briefly, then
	// shows that it is waiting.
	e.fake.SetFault(spencertest.Fault{Delay: time.Minute})
	open(waiting, "")
	if !eval[bool](t, b, `!!document.querySelector('[data-testid=state-loading]')`) {
		t.Fatalf("the waiting state does not show")
	}
	look("the waiting state")
	e.fake.SetFault(spencertest.Fault{})

	// A publication is dated by the server's time zone (screens.time_zone), in Dutch
	// still, whatever the browser's: 09:00 UTC on 28 November is the 27th in Honolulu,
	// and the 28th in Tokyo, where this browser is.
	open(layoutList, "")
	if got := eval[string](t, b, `document.querySelector('.slide[data-id=split] time').textContent`); got != "27 november 2026" {
		t.Errorf("with the server in Honolulu, a publication of 28 November 09:00 UTC is dated %q", got)
	}
	b.navigate(t, e.base+"/embed/"+layoutList+"?lang=nl-BE")
	waitJS(t, b, 10*time.Second, "the widget", `!!window.__signageEmbed`)
	if got := eval[string](t, b, `document.querySelector('.headline[data-id=split] time').textContent`); !strings.HasPrefix(got, "27 nov") {
		t.Errorf("with the server in Honolulu, the embed dates a publication of 28 November 09:00 UTC %q", got)
	}

	t.Logf("%d texts seen, %d English texts of ours looked for", len(seen), len(ourEnglish("nl-BE")))
	all := strings.Join(seen, "\n")
	for _, w := range []string{"Vastgepind", "Scan om verder te lezen", "QR-code naar het artikel", "Demo", "Laatst bijgewerkt om",
		"Menu van de week", "Momenteel geen nieuws", "Nieuwe berichten voor Nieuws verschijnen hier vanzelf.",
		"Spencer kent de gebruikerslijst van dit scherm niet", unknown, "Wachten op nieuws…", "Nieuws verschijnt hier zodra Spencer antwoordt."} {
		if !strings.Contains(all, w) {
			t.Errorf("%q never showed: the walk missed part of the page", w)
		}
	}
	for _, msg := range b.consoleErrors() {
		t.Errorf("browser error: %s", msg)
	}
}

// TestBrowserOfflinePageSpeaksTheLanguage: a screen opened while the server is down, at
// an address its service worker never kept, says it is waiting in the language its
// ?lang= asks for.
func TestBrowserOfflinePageSpeaksTheLanguage(t *testing.T) {
	b := newBrowser(t, 1280, 720)
	e := newEnv(t, time.Minute)
	b.navigate(t, e.base+"/screens/"+lobby+"?lang=nl-BE")
	waitJS(t, b, 15*time.Second, "the service worker", `!!(navigator.serviceWorker && navigator.serviceWorker.controller)`)
	e.stop()
	for _, tc := range []struct{ lang, want string }{
		{"nl-BE", "Wachten op de signage-server… deze pagina probeert het vanzelf opnieuw."},
		{"fr-CA", "En attente du serveur d’affichage… cette page réessaie d’elle-même."},
		{"xx", "Waiting for the signage server… this page retries by itself."},
	} {
		b.navigate(t, e.base+"/screens/"+canteen+"?lang="+tc.lang)
		waitJS(t, b, 10*time.Second, "the offline page", `!document.getElementById('deck') && !!document.querySelector('p')`)
		if got := eval[string](t, b, `document.body.innerText.trim()`); got != tc.want {
			t.Errorf("?lang=%s: the offline page says %q, want %q", tc.lang, got, tc.want)
		}
	}
	for _, msg := range b.errorsBesidesTheOutage() {
		t.Errorf("browser error: %s", msg)
	}
}
