package server_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/spencer-signage/signage/server"
)

func parseHTML(t *testing.T, html string) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(html))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestScreenLanguage: ?lang= sets the screen's language, matched to one we speak; the
// page, the embed, the polling fallback and the WebSocket deck all speak it, dates
// included, before any script runs.
func TestScreenLanguage(t *testing.T) {
	e := newEnv(t, time.Minute)
	e.fake.SetPublications(canteen, []map[string]any{
		{"id": "c1", "title": "Menu of the week", "summary": "Soup, pasta, curry.", "publishedAt": "2026-11-21T09:00:00Z",
			"isPinned": true, "url": "https://intranet.example.com/menu", "translations": []map[string]string{
				{"locale": "nl-BE", "title": "Menu van de week", "summary": "Soep, pasta, curry."},
			}},
	})
	e.srv.News().Get(canteen).FetchNow()
	waitFor(t, 10*time.Second, "the canteen's new content", func() bool {
		c := e.srv.News().Get(canteen).Content()
		return c != nil && len(c.Items) == 1 && c.Items[0].ID == "c1" && c.Items[0].Pinned && c.Items[0].Translations["nl-BE"].Title != ""
	})
	for _, tc := range []struct {
		lang, htmlLang, locale, pinned, caption, date, short, title string
	}{
		{"", "en-US", "en", "Pinned", "Scan to read more", "November 21, 2026", "Nov 21, 2026", "Menu of the week"},
		{"nl-BE", "nl-BE", "nl-BE", "Vastgepind", "Scan om verder te lezen", "21 november 2026", "21 nov. 2026", "Menu van de week"},
		{"nl_be", "nl-BE", "nl-BE", "Vastgepind", "Scan om verder te lezen", "21 november 2026", "21 nov. 2026", "Menu van de week"},
		{"nl-NL", "nl-NL", "nl", "Vastgepind", "Scan om verder te lezen", "21 november 2026", "21 nov. 2026", "Menu of the week"},
		{"fr-CA", "fr-CA", "fr-CA", "Épinglé", "Scannez pour lire la suite", "21 novembre 2026", "21 nov. 2026", "Menu of the week"},
		{"fr-BE", "fr-BE", "fr-BE", "Épinglé", "Scannez pour lire la suite", "21 novembre 2026", "21 nov. 2026", "Menu of the week"},
		{"de", "de", "de", "Angeheftet", "Zum Weiterlesen scannen", "21. November 2026", "21.11.2026", "Menu of the week"},
		{"en-GB", "en-GB", "en-GB", "Pinned", "Scan to read more", "21 November 2026", "21 Nov 2026", "Menu of the week"},
		{"xx", "en", "en", "Pinned", "Scan to read more", "November 21, 2026", "Nov 21, 2026", "Menu of the week"},
		{"<script>", "en-US", "en", "Pinned", "Scan to read more", "November 21, 2026", "Nov 21, 2026", "Menu of the week"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			q := ""
			if tc.lang != "" {
				q = "?lang=" + url.QueryEscape(tc.lang)
			}
			// The screen writes dates in full, the embed in the locale's medium form.
			check := func(what string, doc *goquery.Document, slide, pinned string) {
				t.Helper()
				if got := doc.Find(pinned).First().Text(); got != tc.pinned {
					t.Errorf("%s: pinned badge %q, want %q", what, got, tc.pinned)
				}
				date := tc.date
				if slide == "[data-testid=headline]" {
					date = tc.short
				}
				if got := doc.Find(slide + " time").First().Text(); got != date {
					t.Errorf("%s: date %q, want %q", what, got, date)
				}
				if !strings.Contains(doc.Text(), tc.title) {
					t.Errorf("%s: title %q missing", what, tc.title)
				}
			}
			_, html := e.get("/screens/" + canteen + q)
			doc := parseHTML(t, html)
			if got := doc.Find("html").AttrOr("lang", ""); got != tc.htmlLang {
				t.Errorf("<html lang=%q>, want %q", got, tc.htmlLang)
			}
			if got := doc.Find("body").AttrOr("data-locale", ""); got != tc.locale {
				t.Errorf("data-locale %q, want %q", got, tc.locale)
			}
			if got := doc.Find(".qr-caption").Text(); got != tc.caption {
				t.Errorf("QR caption %q, want %q", got, tc.caption)
			}
			check("screen", doc, "[data-testid=slide]", "[data-testid=slide-pinned]")

			_, html = e.get("/embed/" + canteen + q)
			doc = parseHTML(t, html)
			if got := doc.Find("html").AttrOr("lang", ""); got != tc.htmlLang {
				t.Errorf("embed: <html lang=%q>, want %q", got, tc.htmlLang)
			}
			check("embed", doc, "[data-testid=headline]", "[data-testid=headline-pinned]")

			var f struct{ HTML string }
			_, body := e.get("/screens/" + canteen + "/deck" + q)
			if err := json.Unmarshal([]byte(body), &f); err != nil {
				t.Fatal(err)
			}
			check("deck polling", parseHTML(t, f.HTML), "[data-testid=slide]", "[data-testid=slide-pinned]")
			_, body = e.get("/embed/" + canteen + "/fragment" + q)
			if err := json.Unmarshal([]byte(body), &f); err != nil {
				t.Fatal(err)
			}
			check("embed polling", parseHTML(t, f.HTML), "[data-testid=headline]", "[data-testid=headline-pinned]")

			conn := e.dial(canteen, strings.TrimPrefix(q, "?"))
			defer conn.Close()
			m := readMessage(t, conn, 10*time.Second)
			if m.Type != "deck" {
				t.Fatalf("first message %q, want a deck", m.Type)
			}
			check("WebSocket deck", parseHTML(t, m.HTML), "[data-testid=slide]", "[data-testid=slide-pinned]")
		})
	}
}

// TestScreenStatesInTheLanguage: the states a screen shows instead of news speak its
// language too, as the server renders them.
func TestScreenStatesInTheLanguage(t *testing.T) {
	const empty = "7a7a7a7a-1111-4222-8333-944444444444"
	const unknown = "00000000-0000-4000-8000-000000000000"
	e := newEnv(t, time.Minute)
	e.fake.SetPublications(empty, []map[string]any{})
	for _, tc := range []struct{ id, lang, want string }{
		{empty, "nl-BE", "Momenteel geen nieuws"},
		{unknown, "nl-BE", "Spencer kent de gebruikerslijst van dit scherm niet"},
		{empty, "fr-BE", "Aucune actualité pour le moment"},
		{unknown, "fr-BE", "Spencer ne connaît pas la liste d’utilisateurs de cet écran"},
		{empty, "de-DE", "Zurzeit keine Neuigkeiten"},
		{unknown, "de-DE", "Spencer kennt die Benutzerliste dieses Bildschirms nicht"},
	} {
		_, html := e.get("/screens/" + tc.id + "?lang=" + tc.lang)
		if got := parseHTML(t, html).Find(".state h1").Text(); got != tc.want {
			t.Errorf("%s in %s: %q, want %q", tc.id, tc.lang, got, tc.want)
		}
	}
}

// TestConfiguredLocale: without ?lang=, a screen speaks spencer.locale; ?lang= still wins.
func TestConfiguredLocale(t *testing.T) {
	e := newEnv(t, time.Minute, func(c *server.Config) { c.Spencer.Locale = "nl-BE" })
	for _, tc := range []struct{ q, htmlLang, date, short string }{
		{"", "nl-BE", "20 november 2026", "20 nov. 2026"},
		{"?lang=en-GB", "en-GB", "20 November 2026", "20 Nov 2026"},
	} {
		for page, date := range map[string]string{"/screens/": tc.date, "/embed/": tc.short} {
			_, html := e.get(page + lobby + tc.q)
			doc := parseHTML(t, html)
			if got := doc.Find("html").AttrOr("lang", ""); got != tc.htmlLang {
				t.Errorf("%s%s: <html lang=%q>, want %q", page, tc.q, got, tc.htmlLang)
			}
			if got := doc.Find("time").First().Text(); got != date {
				t.Errorf("%s%s: date %q, want %q", page, tc.q, got, date)
			}
		}
	}
	conn := e.dial(lobby, "")
	defer conn.Close()
	if m := readMessage(t, conn, 10*time.Second); !strings.Contains(m.HTML, "Scan om verder te lezen") {
		t.Errorf("a screen without ?lang= gets a deck not in the configured language: %s", m.HTML)
	}
}
