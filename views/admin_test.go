package views

import (
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

func TestAdminPage(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	doc, html := render(t, Admin(AdminPage{
		Assets: Assets{CSS: "/static/screen.1.css", AdminJS: "/static/admin.1.js"}, CSRF: "c5rf", Version: "v1", Now: now,
		Upstream: "failing", Problem: "spencer: status 503", BaseURL: "https://signage.example", KeyHint: true,
		Token:     &AdminToken{ExpiresAt: now.Add(time.Hour), Renewals: 3, Failures: 1, LastError: "token endpoint: status 500"},
		Userlists: []AdminUserlist{{ID: "3f0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3f", Name: "Lobby", Configured: true, Items: 2, StaleSince: now, Screens: 1}},
		Screens: []AdminScreen{
			{ID: "s1", Userlist: "3f0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3f", Address: "10.0.0.5", UserAgent: "Chromium", ConnectedAt: now, LastSeen: now, Online: true},
			{ID: "s2", Userlist: "3f0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3f", Address: "10.0.0.6", ConnectedAt: now, Left: now},
		},
	}))
	if got := doc.Find("[data-testid=upstream]").AttrOr("data-state", ""); got != "failing" {
		t.Errorf("upstream state %q", got)
	}
	rows := doc.Find("[data-testid=admin-screen]")
	if rows.Length() != 2 || rows.Eq(0).AttrOr("data-online", "") != "1" || rows.Eq(1).AttrOr("data-online", "") == "1" {
		t.Fatalf("screen rows: %d", rows.Length())
	}
	if rows.Eq(0).Find("form").Length() != 1 || rows.Eq(1).Find("form").Length() != 0 {
		t.Errorf("a reload button belongs to connected screens only")
	}
	if !strings.Contains(rows.Eq(1).Text(), "disconnected") {
		t.Errorf("the departed screen is not marked: %q", rows.Eq(1).Text())
	}
	doc.Find("form").Each(func(_ int, f *goquery.Selection) {
		if f.AttrOr("method", "") != "post" || f.Find(`input[name=csrf]`).AttrOr("value", "") != "c5rf" {
			t.Errorf("form %s without method post and the CSRF token", f.AttrOr("action", ""))
		}
	})
	snippet := doc.Find("[data-testid=admin-userlist] code.snippet").Text()
	if !strings.Contains(snippet, `<iframe src="https://signage.example/embed/3f0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3f?key=YOUR_KEY"`) ||
		!strings.Contains(snippet, `e.origin==="https://signage.example"`) {
		t.Errorf("snippet %q", snippet)
	}
	// The CSP forbids inline script and style: the page has neither, only our script file.
	doc.Find("script").Each(func(_ int, s *goquery.Selection) {
		if s.AttrOr("src", "") == "" {
			t.Errorf("inline script: %s", s.Text())
		}
	})
	if doc.Find("style, [style]").Length() != 0 {
		t.Errorf("inline style on the status page")
	}
	if !strings.Contains(html, `src="/static/admin.1.js"`) {
		t.Errorf("no admin script")
	}
}
