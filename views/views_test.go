package views

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

func render(t *testing.T, c templ.Component) (*goquery.Document, string) {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(buf.String()))
	if err != nil {
		t.Fatal(err)
	}
	return doc, buf.String()
}

func sampleDeck() Deck {
	return Deck{
		UserListID: "3f0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3f", Name: "Lobby", Version: "v1", State: DeckItems, Locale: LocaleFor("en-US"),
		Slides: []Slide{
			{ID: "a", Title: "With image and link", Summary: "Sum", ImageURL: "https://img.example/a.png", Link: "https://intra.example/a", QR: QRCode("https://intra.example/a"), Published: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC), Author: "Comms", Pinned: true},
			{ID: "b", Title: `<script>alert("x")</script> & friends`, Summary: "Plain"},
		},
	}
}

func TestScreenPage(t *testing.T) {
	doc, html := render(t, Screen(ScreenPage{Deck: sampleDeck(), Options: Options{Theme: "light", Interval: 12, QR: false, Clock: true, QuietHour: 4}, Assets: Assets{CSS: "/static/screen.1.css", ScreenJS: "/static/screen.1.js"}, Build: "b1"}))
	if got := doc.Find("[data-testid=slide-title]").First().Text(); got != "With image and link" {
		t.Errorf("first title %q", got)
	}
	if n := doc.Find("[data-testid=slide]").Length(); n != 2 {
		t.Errorf("%d slides", n)
	}
	if doc.Find(".slide.is-active").Length() != 1 || !doc.Find(".slide").First().HasClass("is-active") {
		t.Errorf("the first slide must show before any script runs")
	}
	if n := doc.Find("[data-testid=slide-qr] svg path").Length(); n != 1 {
		t.Errorf("%d QR codes, want 1 (only the item with a link)", n)
	}
	if !doc.Find("html").HasClass("theme-light") || !doc.Find("body").HasClass("qr-off") || !doc.Find("body").HasClass("clock-on") {
		t.Errorf("options not applied: html %q body %q", doc.Find("html").AttrOr("class", ""), doc.Find("body").AttrOr("class", ""))
	}
	if strings.Contains(html, "<script>alert") {
		t.Errorf("a title was not escaped")
	}
	// The CSP forbids inline script and style: the page has neither.
	doc.Find("script").Each(func(_ int, s *goquery.Selection) {
		if _, ok := s.Attr("src"); !ok || strings.TrimSpace(s.Text()) != "" {
			t.Errorf("inline script: %s", s.Text())
		}
	})
	if doc.Find("[style]").Length() > 0 || doc.Find("style").Length() > 0 {
		t.Errorf("inline style on the screen page")
	}
	if doc.Find("body").AttrOr("data-interval", "") != "12" || doc.Find("body").AttrOr("data-build", "") != "b1" {
		t.Errorf("data attributes missing")
	}
}

func TestScreenUsesPrerenderedDeck(t *testing.T) {
	doc, _ := render(t, Screen(ScreenPage{Deck: sampleDeck(), DeckHTML: `<article class="slide is-active" data-testid="slide"><h1 data-testid="slide-title">Prerendered</h1></article>`}))
	if got := doc.Find("[data-testid=slide-title]").Text(); got != "Prerendered" {
		t.Errorf("title %q: the page must use the deck rendered once per change", got)
	}
}

func TestDeckStates(t *testing.T) {
	for _, tc := range []struct {
		state  DeckState
		slides []Slide
		testid string
		text   string
	}{
		{DeckItems, nil, "state-empty", "No news right now"},
		{DeckEmpty, nil, "state-empty", "No news right now"},
		{DeckUnknown, nil, "state-unknown", "3f0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3f"},
		{DeckLoading, nil, "state-loading", "Waiting for news"},
	} {
		d := sampleDeck()
		d.State, d.Slides = tc.state, tc.slides
		doc, _ := render(t, DeckSlides(d))
		sel := doc.Find("[data-testid=" + tc.testid + "]")
		if sel.Length() != 1 || !strings.Contains(sel.Text(), tc.text) {
			t.Errorf("%s: %q", tc.state, sel.Text())
		}
	}
}

func TestEmbedList(t *testing.T) {
	doc, _ := render(t, EmbedList(sampleDeck(), 1))
	if n := doc.Find("[data-testid=headline]").Length(); n != 1 {
		t.Errorf("limit 1: %d headlines", n)
	}
	if href := doc.Find("a.headline-title").AttrOr("href", ""); href != "https://intra.example/a" {
		t.Errorf("link %q", href)
	}
	if rel := doc.Find("a.headline-title").AttrOr("rel", ""); !strings.Contains(rel, "noopener") {
		t.Errorf("rel %q", rel)
	}
}

func TestIndexPage(t *testing.T) {
	doc, _ := render(t, Index(IndexPage{BaseURL: "http://signage.example:8080", Demo: true, Userlists: []UserlistLink{{ID: "3f0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3f", Name: "Lobby", Configured: true, Items: 3}}}))
	if doc.Find("[data-testid=demo-banner]").Length() != 1 {
		t.Errorf("no demo banner")
	}
	if href := doc.Find("[data-testid=screen-link]").AttrOr("href", ""); href != "/screens/3f0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3f" {
		t.Errorf("screen link %q", href)
	}
	snippet := doc.Find("[data-testid=embed-snippet]").Text()
	if !strings.Contains(snippet, `<iframe src="http://signage.example:8080/embed/3f0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3f"`) || !strings.Contains(snippet, "signage-embed-height") {
		t.Errorf("snippet %q", snippet)
	}
}

func TestQRCode(t *testing.T) {
	if QRCode("") != nil {
		t.Errorf("a QR code for no link")
	}
	q := QRCode("https://intranet.example.com/news/town-hall-q4")
	if q == nil || q.Size < 21 || !strings.HasPrefix(q.Path, "M") || !strings.HasSuffix(q.Path, "z") {
		t.Fatalf("QR = %+v", q)
	}
	if QRCode(strings.Repeat("x", 5000)) != nil {
		t.Errorf("a QR code for a link too long to encode")
	}
}

func TestEmbedPage(t *testing.T) {
	doc, _ := render(t, Embed(EmbedPage{Deck: sampleDeck(), Options: Options{Theme: "dark"}, Demo: true}))
	// A frame whose color-scheme differs from its host page's is painted opaque: the
	// widget declares none, so it can blend into any intranet page.
	if doc.Find(`meta[name=color-scheme]`).Length() != 0 {
		t.Errorf("the embed declares a color-scheme")
	}
	if !doc.Find("html").HasClass("embed-root") {
		t.Errorf("html lacks the class that makes it transparent")
	}
	if doc.Find("[data-testid=demo-badge]").Length() != 1 {
		t.Errorf("no demo badge in demo mode")
	}
	if doc.Find(".headline").First().Find("[data-testid=headline-pinned]").Length() != 1 {
		t.Errorf("the pinned item is not marked")
	}
	doc, _ = render(t, Embed(EmbedPage{Deck: sampleDeck()}))
	if doc.Find("[data-testid=demo-badge]").Length() != 0 {
		t.Errorf("a demo badge outside demo mode")
	}
}

func TestEmbedUnknownSpeaksToReaders(t *testing.T) {
	d := sampleDeck()
	d.State = DeckUnknown
	doc, _ := render(t, EmbedList(d, 0))
	txt := doc.Find("[data-testid=state-unknown]").Text()
	if !strings.Contains(txt, "not available") || strings.Contains(txt, d.UserListID) {
		t.Errorf("unknown state %q: intranet readers get a sentence, not the id", txt)
	}
}

func TestSlideLayouts(t *testing.T) {
	d := sampleDeck()
	d.Slides[0].Summary = strings.Repeat("A summary long enough to need a column of its own. ", 3)
	d.Slides = append(d.Slides, Slide{ID: "c", Title: "Photo", Summary: "Short caption.", ImageURL: "https://img.example/c.png"})
	doc, _ := render(t, DeckSlides(d))
	for id, want := range map[string][]string{
		"a": {"has-image"},              // an image and a summary
		"b": {"no-image"},               // type-led
		"c": {"has-image", "photo-led"}, // little text: full-bleed
	} {
		s := doc.Find(`.slide[data-id="` + id + `"]`)
		for _, c := range want {
			if !s.HasClass(c) {
				t.Errorf("slide %s: class %q missing in %q", id, c, s.AttrOr("class", ""))
			}
		}
	}
	if doc.Find(`.slide[data-id="a"]`).HasClass("photo-led") {
		t.Errorf("a slide with a long summary is not photo-led")
	}
	if doc.Find(".initial").Length() != 0 {
		t.Errorf("a slide without an image shows the big initial")
	}
}

func TestScreenDemoBadge(t *testing.T) {
	doc, _ := render(t, Screen(ScreenPage{Deck: sampleDeck(), Demo: true}))
	if doc.Find(".chrome [data-testid=demo-badge]").Length() != 1 {
		t.Errorf("no demo badge on a screen in demo mode")
	}
	doc, _ = render(t, Screen(ScreenPage{Deck: sampleDeck()}))
	if doc.Find("[data-testid=demo-badge]").Length() != 0 {
		t.Errorf("a demo badge outside demo mode")
	}
}

func TestIndexUnknownUserlistHasNoScreenButton(t *testing.T) {
	doc, _ := render(t, Index(IndexPage{Userlists: []UserlistLink{
		{ID: "3f0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3f", Name: "Lobby", Configured: true},
		{ID: "00000000-0000-4000-8000-000000000000", Unknown: true},
	}}))
	cards := doc.Find("[data-testid=userlist]")
	if cards.Eq(0).Find("[data-testid=screen-link]").Length() != 1 {
		t.Errorf("a known userlist lost its screen link")
	}
	if cards.Eq(1).Find("[data-testid=screen-link]").Length() != 0 || cards.Eq(1).Find("[data-testid=unknown-hint]").Length() != 1 {
		t.Errorf("a userlist unknown to Spencer offers a screen to open")
	}
}
