package feed_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spencer-signage/signage/server/feed"
	"github.com/spencer-signage/signage/spencerclient"
)

var update = flag.Bool("update", false, "write the golden files from what the encoders make now")

// fixtures are a userlist with what trips encoders (markup and "]]>" in a body, "&" in a
// URL, a publication that is not JSON, an item with only a title, one with only a body,
// dates in other zones, announcements) and a bare one (no name, no items, never fetched,
// no known address).
func fixtures() map[string]feed.Feed {
	const base, lobby, canteen = "https://signage.example.com", "3f0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3f", "9b2d7c41-5e8a-4f3b-a6c1-0d2e4f6a8b9c"
	ids := feed.NewIDs("customer:acme")
	return map[string]feed.Feed{
		"full": {
			Userlist: lobby, Title: "Lobby", Locale: "en-US", Home: base + "/screens/" + lobby, Self: base + "/api/feed.FORMAT?userlist=" + lobby,
			FetchedAt: time.Date(2026, 11, 20, 9, 30, 0, 0, time.FixedZone("CET", 3600)), Stale: true, Version: "720151f180d5c147", IDs: ids,
			Items: []spencerclient.Item{
				{ID: "live-visitors", Title: "Visitors & guests <today>", BodyHTML: `<p>Welcome to the <b>Lyon</b> office. ]]> "quoted" &amp; more</p>`,
					Summary: "Welcome to Lyon.", Locale: "en-US", ImageURL: "https://cdn.example.com/img/visitors.png?sig=a&b=c",
					Link: "https://intranet.example.com/news/1", Author: "Ann Peeters", Published: time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC),
					Raw: json.RawMessage(`{"id":"live-visitors","title":"Visitors & guests <today>","extra":[1,2]}`)},
				{ID: "menu", Title: "Menu of the week", Summary: "Soup, pasta, curry.", Locale: "nl-BE", ImageURL: "https://cdn.example.com/menu",
					Published: time.Date(2026, 11, 19, 9, 0, 0, 0, time.FixedZone("X", -5*3600)), Raw: json.RawMessage(`not json`)},
				{ID: "42", Title: "Only a title"},
				{ID: "body-only", BodyHTML: "<ul><li>one</li><li>two</li></ul>", Author: "Comms", ImageURL: "https://cdn.example.com/a.jpeg"},
			},
			Announcements: []feed.Announcement{
				{ID: "a1", Title: "Fire drill", Text: "Leave by the nearest exit.", Severity: "urgent", ExpiresAt: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)},
				{ID: "a2", Text: "Canteen opens at 12:00", Severity: "info", ExpiresAt: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)},
			},
		},
		"bare": {Userlist: canteen, Title: "Userlist " + canteen, Locale: "fr-BE", Home: "/screens/" + canteen, Version: "45fd2f9df187bc41", IDs: ids},
	}
}

// TestGolden: each format is written byte for byte as the golden file says. The files
// were written by the encoders before they moved into this package, so a change of the
// feeds that integrators and readers poll shows up here (go test -update rewrites them,
// for a change made on purpose).
func TestGolden(t *testing.T) {
	exts := map[feed.Kind]string{feed.JSON: "json", feed.RSS: "rss", feed.Atom: "atom"}
	for name, f := range fixtures() {
		for kind, ext := range exts {
			f := f // each format changes its own copy; the map's order of formats is random
			t.Run(name+"."+ext, func(t *testing.T) {
				if f.Self != "" {
					f.Self = f.Home[:len(f.Home)-len("/screens/"+f.Userlist)] + "/api/feed." + ext + "?userlist=" + f.Userlist
				}
				if kind != feed.JSON {
					f.Announcements = nil // only the JSON feed carries them; the others must not care
				}
				got, err := feed.Encode(kind, f)
				if err != nil {
					t.Fatal(err)
				}
				path := filepath.Join("testdata", name+"."+ext)
				if *update {
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s differs from the golden file:\n got %s\nwant %s", path, got, want)
				}
			})
		}
	}
}

// TestMediaTypes: each format is served as what it is.
func TestMediaTypes(t *testing.T) {
	for kind, want := range map[feed.Kind]string{
		feed.JSON: "application/feed+json; charset=utf-8",
		feed.RSS:  "application/rss+xml; charset=utf-8",
		feed.Atom: "application/atom+xml; charset=utf-8",
	} {
		if got := kind.MediaType(); got != want {
			t.Errorf("kind %d: %q, want %q", kind, got, want)
		}
	}
}

// TestIDsAreStable: the same upstream, userlist and publication always give the same id,
// and another upstream another one.
func TestIDsAreStable(t *testing.T) {
	a, b := feed.NewIDs("customer:acme"), feed.NewIDs("customer:acme")
	if a.Item("u", "p") != b.Item("u", "p") || a.Feed("u") != b.Feed("u") {
		t.Errorf("the same names gave other ids")
	}
	if a.Item("u", "p") == feed.NewIDs("customer:other").Item("u", "p") || a.Item("u", "p") == a.Item("u", "q") || a.Feed("u") == a.Item("u", "") {
		t.Errorf("other names gave the same id")
	}
}
