package server_test

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/spencer-signage/signage/server"
)

// validatorNews has what trips feed validators and readers: an id that is no URL, an item
// with an author and one without, one with only a summary and one with only a title.
var validatorNews = []map[string]any{
	{"id": "live-visitors", "title": "Visitors today", "body": "<p>Welcome to the Lyon office.</p>", "author": "Ann Peeters", "publishedAt": "2026-11-20T09:00:00Z"},
	{"id": "menu", "title": "Menu of the week", "summary": "Soup, pasta, curry.", "publishedAt": "2026-11-19T09:00:00Z"},
	{"id": "42", "title": "Only a title", "publishedAt": "2026-11-18T09:00:00Z"},
}

func newValidatorEnv(t *testing.T, mod ...func(*server.Config)) *env {
	e := newEnv(t, time.Minute, append([]func(*server.Config){func(c *server.Config) { c.Spencer.Customer = "acme" }}, mod...)...)
	e.fake.SetPublications(lobby, validatorNews)
	e.srv.News().Get(lobby).FetchNow()
	// The content that upstream now sends, not an earlier poll's (whatever its time).
	waitFor(t, 10*time.Second, "the validator's news", func() bool {
		c := e.srv.News().Get(lobby).Content()
		if c == nil || len(c.Items) != len(validatorNews) {
			return false
		}
		for i, it := range c.Items {
			if it.ID != validatorNews[i]["id"] {
				return false
			}
		}
		return true
	})
	return e
}

// TestJSONFeedItemsHaveContent: JSON Feed 1.1 gives every item content_html or
// content_text, so readers never show an empty body.
func TestJSONFeedItemsHaveContent(t *testing.T) {
	e := newValidatorEnv(t)
	_, body := e.get("/api/feed.json?userlist=" + lobby)
	var feed struct {
		Items []struct {
			ID          string `json:"id"`
			ContentHTML string `json:"content_html"`
			ContentText string `json:"content_text"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(body), &feed); err != nil {
		t.Fatal(err)
	}
	if len(feed.Items) != 3 {
		t.Fatalf("%d items", len(feed.Items))
	}
	want := map[string][2]string{
		"live-visitors": {"<p>Welcome to the Lyon office.</p>", ""},
		"menu":          {"", "Soup, pasta, curry."},
		"42":            {"", "Only a title"},
	}
	for _, it := range feed.Items {
		if got := [2]string{it.ContentHTML, it.ContentText}; got != want[it.ID] {
			t.Errorf("item %s: content_html %q content_text %q, want %q", it.ID, it.ContentHTML, it.ContentText, want[it.ID])
		}
	}
}

// TestRSSForReaders: a guid that is no URL says so, names go in dc:creator (RSS <author>
// is an e-mail address), the channel has its self link and language; gofeed reads it all.
func TestRSSForReaders(t *testing.T) {
	e := newValidatorEnv(t)
	resp, body := e.get("/api/feed.rss?userlist=" + lobby)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var doc struct {
		Channel struct {
			Language string `xml:"language"`
			Links    []struct {
				Space string `xml:"xmlns,attr"`
				Href  string `xml:"href,attr"`
				Rel   string `xml:"rel,attr"`
				Text  string `xml:",chardata"`
			} `xml:"link"`
			Items []struct {
				GUID struct {
					ID        string `xml:",chardata"`
					PermaLink string `xml:"isPermaLink,attr"`
				} `xml:"guid"`
				Author  string `xml:"author"`
				Creator string `xml:"http://purl.org/dc/elements/1.1/ creator"`
			} `xml:"item"`
		} `xml:"channel"`
	}
	if err := xml.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	ch := doc.Channel
	if ch.Language != "en-US" {
		t.Errorf("language %q", ch.Language)
	}
	self := ""
	for _, l := range ch.Links {
		if l.Rel == "self" {
			self = l.Href
		}
	}
	if self != e.base+"/api/feed.rss?userlist="+lobby {
		t.Errorf("self link %q", self)
	}
	if len(ch.Items) != 3 {
		t.Fatalf("%d items", len(ch.Items))
	}
	for _, it := range ch.Items {
		if it.GUID.PermaLink != "false" {
			t.Errorf("guid %q: isPermaLink %q", it.GUID.ID, it.GUID.PermaLink)
		}
		if it.Author != "" {
			t.Errorf("guid %q: <author>%s</author> is not an e-mail address", it.GUID.ID, it.Author)
		}
	}
	if ch.Items[0].Creator != "Ann Peeters" {
		t.Errorf("dc:creator %q", ch.Items[0].Creator)
	}
	f, err := gofeed.NewParser().ParseString(body)
	if err != nil {
		t.Fatal(err)
	}
	if f.Items[0].GUID != "live-visitors" || len(f.Items[0].Authors) != 1 || f.Items[0].Authors[0].Name != "Ann Peeters" || f.FeedLink != self {
		t.Errorf("gofeed reads guid %q authors %v feed link %q", f.Items[0].GUID, f.Items[0].Authors, f.FeedLink)
	}
}

// TestAtomIDs: Atom ids are absolute IRIs, the same whichever address the feed is read at
// and after a restart; a feed with an entry that has no author names one itself.
func TestAtomIDs(t *testing.T) {
	e := newValidatorEnv(t)
	type atom struct {
		ID      string `xml:"id"`
		Author  string `xml:"author>name"`
		Entries []struct {
			ID     string `xml:"id"`
			Author string `xml:"author>name"`
		} `xml:"entry"`
	}
	read := func(base string) atom {
		t.Helper()
		resp, err := http.Get(base + "/api/feed.atom?userlist=" + lobby)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var a atom
		if err := xml.NewDecoder(resp.Body).Decode(&a); err != nil {
			t.Fatal(err)
		}
		return a
	}
	first := read(e.base)
	if !strings.HasPrefix(first.ID, "urn:uuid:") || len(first.Entries) != 3 {
		t.Fatalf("feed id %q, %d entries", first.ID, len(first.Entries))
	}
	seen := map[string]bool{first.ID: true}
	for _, en := range first.Entries {
		if !strings.HasPrefix(en.ID, "urn:uuid:") || seen[en.ID] {
			t.Errorf("entry id %q is not a unique absolute IRI", en.ID)
		}
		seen[en.ID] = true
	}
	if first.Author == "" {
		t.Errorf("entries without an author, and the feed names none")
	}
	byName := read(strings.Replace(e.base, "127.0.0.1", "localhost", 1))
	e.stop()
	e.start()
	again := read(e.base)
	for _, other := range []atom{byName, again} {
		if other.ID != first.ID || other.Entries[0].ID != first.Entries[0].ID || other.Entries[2].ID != first.Entries[2].ID {
			t.Errorf("ids changed: %q %q, first %q %q", other.ID, other.Entries[0].ID, first.ID, first.Entries[0].ID)
		}
	}
	f, err := gofeed.NewParser().ParseString(mustGet(t, e.base+"/api/feed.atom?userlist="+lobby))
	if err != nil || len(f.Items) != 3 {
		t.Fatalf("gofeed: %v", err)
	}
}

func mustGet(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestFeedparserReadsEveryFeed: Debian's python3-feedparser, a reader nobody here wrote,
// reads the three feeds without complaint (bozo 0), with ids as sent, not resolved into
// URLs, authors, and a body wherever there is one.
func TestFeedparserReadsEveryFeed(t *testing.T) {
	python := "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import feedparser").Run(); err != nil {
		t.Fatal("Debian's python3-feedparser is not installed (apt-get install python3-feedparser)")
	}
	e := newValidatorEnv(t)
	const script = `
import feedparser, json, sys
d = feedparser.parse(sys.stdin.buffer.read())
print(json.dumps({"bozo": int(bool(d.bozo)), "exc": str(d.get("bozo_exception", "")), "version": d.version,
  "lang": d.feed.get("language", ""),
  "entries": [{"id": x.get("id", ""), "author": x.get("author", ""),
    "body": (x.get("content") or [{}])[0].get("value", "") or x.get("summary", "")} for x in d.entries]}))
`
	for _, tc := range []struct{ path, version string }{
		{"/api/feed.rss", "rss20"},
		{"/api/feed.atom", "atom10"},
		// Debian's feedparser (6.0) does not read JSON Feed; gofeed checks that one.
	} {
		cmd := exec.Command(python, "-c", script)
		cmd.Stdin = strings.NewReader(mustGet(t, e.base+tc.path+"?userlist="+lobby))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", tc.path, err, out)
		}
		var got struct {
			Bozo    int    `json:"bozo"`
			Exc     string `json:"exc"`
			Version string `json:"version"`
			Entries []struct {
				ID, Author, Body string
			} `json:"entries"`
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%s: %v\n%s", tc.path, err, out)
		}
		if got.Bozo != 0 || got.Version != tc.version || len(got.Entries) != 3 {
			t.Errorf("%s: bozo %d (%s), version %q, %d entries", tc.path, got.Bozo, got.Exc, got.Version, len(got.Entries))
			continue
		}
		if tc.version == "rss20" && got.Entries[0].ID != "live-visitors" {
			t.Errorf("%s: first id %q", tc.path, got.Entries[0].ID)
		}
		if got.Entries[0].Author != "Ann Peeters" {
			t.Errorf("%s: author %q", tc.path, got.Entries[0].Author)
		}
		for i, en := range got.Entries {
			// RSS and Atom allow an entry of a title alone.
			if strings.TrimSpace(en.Body) == "" && i < 2 {
				t.Errorf("%s: entry %s has no body", tc.path, en.ID)
			}
		}
	}
}

// TestFeedLastModified: readers that keep only the date get 304 with If-Modified-Since;
// If-None-Match, when sent, decides alone (RFC 9110).
func TestFeedLastModified(t *testing.T) {
	e := newValidatorEnv(t)
	for _, p := range []string{"/api/feed.json", "/api/feed.rss", "/api/feed.atom"} {
		p += "?userlist=" + lobby
		resp, _ := e.get(p)
		lm := resp.Header.Get("Last-Modified")
		at, err := http.ParseTime(lm)
		if err != nil || time.Since(at) > time.Minute {
			t.Fatalf("%s: Last-Modified %q", p, lm)
		}
		if r, _ := e.get(p, "If-Modified-Since", lm); r.StatusCode != http.StatusNotModified {
			t.Errorf("%s: If-Modified-Since its own date: %d", p, r.StatusCode)
		}
		if r, _ := e.get(p, "If-Modified-Since", at.Add(-time.Hour).Format(http.TimeFormat)); r.StatusCode != http.StatusOK {
			t.Errorf("%s: If-Modified-Since an hour before: %d", p, r.StatusCode)
		}
		if r, _ := e.get(p, "If-Modified-Since", lm, "If-None-Match", `"other"`); r.StatusCode != http.StatusOK {
			t.Errorf("%s: a stale ETag with a current date: %d, want 200", p, r.StatusCode)
		}
	}
}

// TestKeyedFeedsArePrivate: a feed that needed an access key is not for shared caches.
func TestKeyedFeedsArePrivate(t *testing.T) {
	e := newEnv(t, time.Minute, func(c *server.Config) { c.Server.AccessKeys = []string{testKey} })
	resp, _ := e.get("/api/feed.json?key=" + testKey)
	if cc := resp.Header.Get("Cache-Control"); !strings.HasPrefix(cc, "private") {
		t.Errorf("Cache-Control %q", cc)
	}
	open := newEnv(t, time.Minute)
	resp, _ = open.get("/api/feed.json")
	if cc := resp.Header.Get("Cache-Control"); !strings.HasPrefix(cc, "public") {
		t.Errorf("without keys: Cache-Control %q", cc)
	}
}
