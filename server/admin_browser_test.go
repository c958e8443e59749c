package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserAdminUpdatesInPlace: the status page refreshes without closing a snippet the
// operator opened and without moving the rows, and reads by eye: the userlist's name,
// a short browser and system, "up to date", online in a colour of its own.
func TestBrowserAdminUpdatesInPlace(t *testing.T) {
	e := newEnv(t, time.Minute)
	screen := newBrowser(t, 1280, 720)
	screen.navigate(t, e.base+"/screens/"+lobby)
	waitJS(t, screen, 10*time.Second, "the WebSocket", `window.__signage && window.__signage.connected()`)

	admin := newBrowser(t, 1400, 1000)
	admin.navigate(t, e.base+"/admin")
	waitJS(t, admin, 15*time.Second, "the screen online", `document.querySelectorAll('[data-testid=admin-screen][data-online="1"]').length === 1`)
	eval[bool](t, admin, `(() => {
		const d = document.querySelector('tr[data-id="`+lobby+`"] details');
		d.open = true;
		window.__details = d;
		window.__row = document.querySelector('[data-testid=admin-screen]');
		window.__top = window.__row.getBoundingClientRect().top;
		return true;
	})()`)
	for range 2 {
		ctx, cancel := context.WithTimeout(admin.ctx, 15*time.Second)
		_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__signageAdmin.refresh().then(() => true)`, chromedp.EvalAwaitPromise))
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := eval[int](t, admin, `window.__signageAdmin.refreshes()`); n < 2 {
		t.Fatalf("%d refreshes done", n)
	}
	if !eval[bool](t, admin, `window.__details.isConnected && window.__details.open && document.querySelector('tr[data-id="`+lobby+`"] details') === window.__details`) {
		t.Errorf("the opened snippet was closed or replaced by the refresh")
	}
	if !eval[bool](t, admin, `window.__row.isConnected && Math.abs(window.__row.getBoundingClientRect().top - window.__top) < 1`) {
		t.Errorf("the screen's row was replaced or moved by the refresh")
	}
	row := `document.querySelector('[data-testid=admin-screen]')`
	if got := eval[string](t, admin, row+`.querySelector('[data-testid=screen-userlist]').textContent.trim()`); got != "Lobby" {
		t.Errorf("screen's userlist %q, want its name", got)
	}
	if got := eval[string](t, admin, row+`.querySelector('[data-testid=screen-browser]').textContent.trim()`); !strings.Contains(got, "Chrome") || !strings.Contains(got, "Linux") || len(got) > 40 {
		t.Errorf("screen's browser %q, want a short browser and system", got)
	}
	if got := eval[string](t, admin, row+`.querySelector('[data-testid=screen-content]').textContent.trim()`); got != "up to date" {
		t.Errorf("screen's content %q, want up to date", got)
	}
	online := eval[string](t, admin, `getComputedStyle(`+row+`.querySelector('[data-testid=screen-state]')).backgroundColor`)
	other := eval[string](t, admin, `getComputedStyle(document.querySelector('[data-testid=admin-userlist] .badge')).backgroundColor`)
	if online == other {
		t.Errorf("online has the colour of the other badges: %s", online)
	}
	if eval[bool](t, admin, `Array.from(document.querySelectorAll('code.id')).some(c => c.getClientRects().length > 1)`) {
		t.Errorf("an id wraps mid-string")
	}
	for _, b := range []*browser{screen, admin} {
		for _, msg := range b.consoleErrors() {
			t.Errorf("browser error: %s", msg)
		}
	}
}

// TestBrowserAdminPreviewIsolatesText: the announcement form's preview shows the title and
// the text each in a <bdi>, as the screens do, so that a right-to-left text reads in the
// preview as it will on the screens, for both severities.
func TestBrowserAdminPreviewIsolatesText(t *testing.T) {
	e := newEnv(t, time.Minute)
	admin := newBrowser(t, 1400, 1000)
	admin.navigate(t, e.base+"/admin")
	waitJS(t, admin, 15*time.Second, "the announcement form", `!!document.querySelector('[data-testid=announce-form]')`)
	const title, text = "שריפה: תרגיל", "צאו מהבניין (11:00)!"
	for _, severity := range []string{"info", "urgent"} {
		got := eval[[]string](t, admin, `(() => {
			const f = document.querySelector('[data-testid=announce-form]');
			f.elements.title.value = `+jsString(title)+`;
			f.elements.text.value = `+jsString(text)+`;
			f.querySelector('[name=severity][value=`+severity+`]').checked = true;
			f.dispatchEvent(new Event('input', { bubbles: true }));
			return Array.from(document.querySelectorAll('[data-testid=announce-preview] bdi')).map((b) => b.textContent);
		})()`)
		if len(got) != 2 || got[0] != title || got[1] != text {
			t.Errorf("%s: the preview isolates %q, want the title and the text each in a <bdi>", severity, got)
		}
		if sev := eval[string](t, admin, `document.querySelector('[data-testid=announce-preview]').dataset.severity`); sev != severity {
			t.Errorf("the preview is %q, want %q", sev, severity)
		}
	}
}
