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
			{ID: "s1", Userlist: "3f0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3f", UserlistName: "Lobby", Address: "10.0.0.5", Version: "v1", UpToDate: true, ConnectedAt: now, LastSeen: now, Online: true,
				UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"},
			{ID: "s2", Userlist: "9b2d7c41-5e8a-4f3b-a6c1-0d2e4f6a8b9c", Address: "10.0.0.6", Version: "v0", ConnectedAt: now, Left: now},
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
	// Read by eye: a name, not a UUID; a browser, not a user agent; up to date or behind,
	// not a hash; online in a colour of its own.
	for i, want := range []struct{ userlist, browser, content, state string }{
		{"Lobby", "Chrome 131 · Linux", "up to date", "badge-ok"},
		{"9b2d7c41…", "–", "behind", "badge-warn"},
	} {
		row := rows.Eq(i)
		if got := strings.TrimSpace(row.Find("[data-testid=screen-userlist]").Text()); got != want.userlist {
			t.Errorf("screen %d userlist %q, want %q", i, got, want.userlist)
		}
		if got := strings.TrimSpace(row.Find("[data-testid=screen-browser]").Text()); got != want.browser {
			t.Errorf("screen %d browser %q, want %q", i, got, want.browser)
		}
		if got := strings.TrimSpace(row.Find("[data-testid=screen-content]").Text()); got != want.content {
			t.Errorf("screen %d content %q, want %q", i, got, want.content)
		}
		if !row.Find("[data-testid=screen-state]").HasClass(want.state) {
			t.Errorf("screen %d state badge %q, want %s", i, row.Find("[data-testid=screen-state]").AttrOr("class", ""), want.state)
		}
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
