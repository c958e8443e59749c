package views

import (
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// TestPairPage: the pairing view shows the code grouped in threes, what to do with the
// server's /admin in it, the server's name and the QR code, in the language asked for,
// and carries what its script needs; nothing inline, nothing of the news.
func TestPairPage(t *testing.T) {
	for _, tc := range []struct{ lang, how string }{
		{"en-US", "Scan the QR code"}, {"nl-BE", "Scan de QR-code"}, {"fr-BE", "Scannez le code QR"}, {"de-DE", "Scannen Sie den QR-Code"},
	} {
		doc, html := render(t, Pair(PairPage{
			Card:   PairView{Code: "K7M3Q9", Host: "signage.example.com", QR: QRCode("https://signage.example.com/admin?pair=K7M3Q9#screens"), RenewIn: 840000, Locale: LocaleFor(tc.lang)},
			Assets: Assets{CSS: "/static/screen.1.css", ScreenJS: "/static/screen.1.js", PairCSS: "/static/pair.1.css", PairJS: "/static/pair.1.js"},
			Build:  "b.pair", Device: "0123456789abcdef0123456789abcdef",
		}))
		if got := doc.Find("[data-testid=pair-code]").Text(); got != "K7M 3Q9" {
			t.Errorf("%s: code %q", tc.lang, got)
		}
		how := doc.Find("[data-testid=pair-how]").Text()
		if !strings.HasPrefix(how, tc.how) || !strings.Contains(how, "signage.example.com/admin") {
			t.Errorf("%s: what to do: %q", tc.lang, how)
		}
		if !strings.Contains(doc.Find("[data-testid=pair-server]").Text(), "signage.example.com") {
			t.Errorf("%s: no server name", tc.lang)
		}
		if doc.Find("[data-testid=pair-qr] svg path").AttrOr("d", "") == "" || doc.Find("[data-testid=pair-qr] svg").AttrOr("aria-label", "") == "" {
			t.Errorf("%s: no QR code, or one without its label", tc.lang)
		}
		main := doc.Find("#pair")
		if main.AttrOr("data-code", "") != "K7M3Q9" || main.AttrOr("data-renew", "") != "840000" ||
			doc.Find("body").AttrOr("data-device", "") != "0123456789abcdef0123456789abcdef" || doc.Find("body").AttrOr("data-build", "") != "b.pair" {
			t.Errorf("%s: what the script needs is missing", tc.lang)
		}
		if doc.Find(`script[src="/static/pair.1.js"]`).Length() != 1 || doc.Find(`link[rel=prefetch][href="/static/screen.1.js"]`).Length() != 1 {
			t.Errorf("%s: the page's script or the prefetch of the screen's", tc.lang)
		}
		if strings.Contains(html, "style=") || doc.Find("script:not([src])").Length() > 0 {
			t.Errorf("%s: inline style or script", tc.lang)
		}
	}
}

// TestAdminScreensSection: the pairing form is filled in from ?pair=, the waiting kiosks
// and the managed screens are listed with what the operator acts on, and every form posts
// with the page's CSRF token.
func TestAdminScreensSection(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	doc, _ := render(t, Admin(AdminPage{
		CSRF: "c5rf", Now: now, Pair: "K7M3Q9", SlideSeconds: 12,
		Userlists: []AdminUserlist{{ID: "3f0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3f", Name: "Lobby", Configured: true}},
		Waiting:   []AdminWaiting{{Code: "ABCDEF", Address: "10.0.0.7", Viewport: "1920x1080", SeenAt: now, ExpiresAt: now.Add(15 * time.Minute)}},
		Managed: []AdminManaged{{ID: "0123456789abcdef0123456789abcdef", Name: "Lobby TV", Slug: "lobby-tv", URL: "https://s.example/s/lobby-tv",
			Userlist: "3f0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3f", UserlistName: "Lobby", Theme: "light", Interval: 20, QR: true, Quiet: true, Paired: true, Online: true, Pages: 1}},
	}))
	if got := doc.Find("[data-testid=pair-code-input]").AttrOr("value", ""); got != "K7M3Q9" {
		t.Errorf("the code of ?pair= is not filled in: %q", got)
	}
	if doc.Find("#screens #pair-form").Length() != 1 || doc.Find("#status #pair-form").Length() != 0 {
		t.Errorf("the pairing form is not #screens, or it is in the part of the page that refreshes itself")
	}
	if w := doc.Find("[data-testid=admin-waiting]"); w.Length() != 1 || !strings.Contains(w.Text(), "ABC DEF") || w.Find(`a[href="/admin?pair=ABCDEF#screens"]`).Length() != 1 {
		t.Errorf("the waiting kiosk: %q", w.Text())
	}
	row := doc.Find("[data-testid=admin-managed-screen]")
	if row.Length() != 1 || row.AttrOr("data-online", "") != "1" || !strings.Contains(row.Text(), "/s/lobby-tv") || !strings.Contains(row.Find("[data-testid=managed-settings]").Text(), "light") {
		t.Fatalf("the managed screen: %q", row.Text())
	}
	for _, action := range []string{"identify", "reload", "unpair"} {
		if row.Find(`form[action="/admin/screens/0123456789abcdef0123456789abcdef/`+action+`"] button`).Length() != 1 {
			t.Errorf("no %s button", action)
		}
	}
	edit := row.Find("[data-testid=edit-screen]")
	if edit.Find(`input[name=name]`).AttrOr("value", "") != "Lobby TV" || edit.Find(`select[name=theme] option[selected]`).AttrOr("value", "") != "light" ||
		edit.Find(`input[name=interval]`).AttrOr("value", "") != "20" {
		t.Errorf("the edit form does not hold the screen's settings")
	}
	doc.Find("form").Each(func(_ int, f *goquery.Selection) {
		if f.AttrOr("method", "") != "post" || f.Find(`input[name=csrf]`).AttrOr("value", "") != "c5rf" {
			t.Errorf("form %s without method post and the CSRF token", f.AttrOr("action", ""))
		}
	})
}
