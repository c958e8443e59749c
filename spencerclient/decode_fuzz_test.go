package spencerclient_test

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/spencer-signage/signage/spencerclient"
)

func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`[]`,
		`{"data": []}`,
		`[{"id": "1", "title": "Hello", "body": "<p>World</p>", "publishedAt": "2026-11-20T09:00:00Z"}]`,
		`{"items": [{"uuid": "u", "headline": "H", "content": "plain\n\ntext", "publishDate": 1790000000}]}`,
		`{"publications": [{"publicationId": 12345678901234567890, "name": "N", "html": "<b>x</b>", "createdAt": "1790000000000"}]}`,
		`{"content": [{"title": {"en-US": "Hello", "nl-BE": "Hallo"}, "body": {"nl-BE": "<p>Tekst</p>"}, "summary": {"fr": "Bref"}}]}`,
		`{"results": [{"title": "T", "translations": [{"locale": "nl-BE", "title": "Hallo", "body": "<p>x</p>"}, {"language": "fr", "summary": "s"}, {"lang": "de", "text": "t"}]}]}`,
		`[{"title": "T", "translations": {"nl-BE": {"title": "Hallo"}, "fr-BE": {"headline": "Bonjour"}}}]`,
		`[{"title": "T", "image": "https://x.test/a.png", "imageUrl": "javascript:alert(1)", "cover": {"src": "https://x.test/c.png"}, "media": [null, {"original": "https://x.test/o.png"}]}]`,
		`[{"title": "T", "coverImage": {"url": "data:image/png;base64,AA"}, "thumbnail": {"href": "//x.test/t.png"}}]`,
		`[{"title": "T", "url": "javascript:alert(1)", "link": "https://x.test", "deepLink": "app://x", "webUrl": "http://x.test"}]`,
		`[{"title": "T", "author": {"firstName": "Ann", "lastName": "Smith"}, "createdBy": "Bob"}, {"title": "U", "author": {"displayName": "D"}}]`,
		`[{"title": "T", "pinned": "true"}, {"title": "U", "isPinned": 1, "publishedAt": 1}, {"title": "V", "sticky": false}]`,
		`[{"title": "T", "expiresAt": "2026-01-01T00:00:00+02:00", "unpublishAt": 1790000000, "endDate": "1790000000000"}]`,
		`[{"PUBLISHED_AT": "2026-01-01", "Title": "x", "IS_PINNED": "1", "image_url": "https://x.test/i.png"}]`,
		`[{"title": "<script>alert(1)</script>", "body": "<img src=x onerror=alert(1)><svg onload=alert(1)><a href=\"javascript:alert(1)\">x</a><iframe src=https://evil.test></iframe><p style=\"color:red\" onclick=\"x()\">p</p>"}]`,
		`[{"title": "t", "body": "<a href=\"jav&#x09;ascript:alert(1)\">x</a><a href=\"https://x.test\" rel=\"opener\" target=\"_self\">y</a><math><mi xlink:href=\"javascript:x\">z</mi></math>"}]`,
		`[{"title": "t", "body": "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>"}]`,
		`[{"title": "t", "body": "<svg><style><img src=x onerror=alert(1)></style></svg>"}]`,
		`[{"title": "t", "body": "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>"}]`,
		`[null, 1, "x", [], {}, {"title": "", "body": ""}, {"summary": "only"}]`,
		`[{"id": null, "title": null, "body": null, "translations": null, "image": null, "publishedAt": null, "author": null, "pinned": null}]`,
		`[{"id": 1e999, "title": "t", "publishedAt": 1e999, "pinned": -0}]`,
		"[{\"title\": \"\xff\xfe\", \"body\": \"\xed\xa0\x80\"}]",
		`{"data": {"items": [{"title": "nested"}]}}`,
		`{"id": 1, "title": "not wrapped"}`,
		`not json`,
		`null`,
		"\ufeff[]",
	} {
		f.Add([]byte(seed), "en-US")
		f.Add([]byte(seed), "nl-BE")
	}
	f.Fuzz(func(t *testing.T, body []byte, locale string) {
		items, skipped, err := spencerclient.Decode(body, locale)
		if err != nil {
			var de *spencerclient.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v (%T), want *DecodeError", err, err)
			}
			if items != nil || skipped != nil {
				t.Fatal("items or skipped with an error")
			}
			return
		}
		for i, it := range items {
			checkItem(t, it)
			if i > 0 {
				prev := items[i-1]
				switch {
				case prev.Pinned != it.Pinned:
					if !prev.Pinned {
						t.Fatalf("item %d pinned after an unpinned one", i)
					}
				case prev.Published.IsZero() && !it.Published.IsZero():
					t.Fatalf("item %d dated after an undated one", i)
				case !it.Published.IsZero() && prev.Published.Before(it.Published):
					t.Fatalf("item %d newer than the one before", i)
				}
			}
		}
	})
}

// checkItem asserts what every decoded item promises, whatever upstream sent.
func checkItem(t *testing.T, it spencerclient.Item) {
	t.Helper()
	if it.ID == "" {
		t.Fatal("empty ID")
	}
	if it.Title == "" && it.BodyHTML == "" {
		t.Fatal("neither title nor body")
	}
	if !json.Valid(it.Raw) {
		t.Fatalf("Raw is not valid JSON: %q", it.Raw)
	}
	checkURL(t, "ImageURL", it.ImageURL)
	checkURL(t, "Link", it.Link)
	checkPlain(t, "Title", it.Title)
	checkPlain(t, "Summary", it.Summary)
	checkPlain(t, "Author", it.Author)
	checkHTML(t, it.BodyHTML)
	for locale, tr := range it.Translations {
		if locale == "" {
			t.Fatal("translation without a locale")
		}
		checkPlain(t, "translated Title", tr.Title)
		checkPlain(t, "translated Summary", tr.Summary)
		checkHTML(t, tr.BodyHTML)
	}
	for _, limit := range []int{0, 1, 10, 80} {
		if e := it.Excerpt(limit); utf8.RuneCountInString(e) > limit || !utf8.ValidString(e) {
			t.Fatalf("Excerpt(%d) = %q", limit, e)
		}
	}
}

func checkURL(t *testing.T, what, s string) {
	t.Helper()
	if s == "" {
		return
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		!(strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")) {
		t.Fatalf("%s = %q, want an absolute http(s) URL", what, s)
	}
}

func checkPlain(t *testing.T, what, s string) {
	t.Helper()
	if !utf8.ValidString(s) || s != strings.TrimSpace(s) || strings.Contains(s, "\n") {
		t.Fatalf("%s = %q, want one trimmed line of text", what, s)
	}
}

// checkHTML asserts that s is free of active content. It looks at tags and attributes,
// as a browser would: "javascript:" or "onerror=" in the text of a paragraph is harmless
// text about them, while a raw "<script" can only be a tag, since text has "<" escaped.
func checkHTML(t *testing.T, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Fatalf("BodyHTML is not UTF-8: %q", s)
	}
	if strings.Contains(strings.ToLower(s), "<script") {
		t.Fatalf("BodyHTML holds a script: %q", s)
	}
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		switch tok.Data {
		case "script", "style", "iframe", "frame", "object", "embed", "svg", "math", "form",
			"input", "button", "base", "meta", "link", "noscript", "template":
			t.Fatalf("BodyHTML holds <%s>: %q", tok.Data, s)
		}
		for _, a := range tok.Attr {
			key := strings.ToLower(a.Key)
			val := strings.ToLower(strings.TrimSpace(a.Val))
			switch {
			case strings.HasPrefix(key, "on"):
				t.Fatalf("BodyHTML holds the handler %s: %q", a.Key, s)
			case key == "style" || key == "id" || key == "srcdoc" || key == "formaction":
				t.Fatalf("BodyHTML holds the attribute %s: %q", a.Key, s)
			case strings.Contains(val, "javascript:") || strings.Contains(val, "vbscript:") || strings.HasPrefix(val, "data:"):
				t.Fatalf("BodyHTML holds the URL %s=%q: %q", a.Key, a.Val, s)
			case key == "href" && !strings.HasPrefix(val, "http://") && !strings.HasPrefix(val, "https://") && !strings.HasPrefix(val, "mailto:"):
				t.Fatalf("BodyHTML holds the link %q: %q", a.Val, s)
			case key == "src" && !strings.HasPrefix(val, "http://") && !strings.HasPrefix(val, "https://"):
				t.Fatalf("BodyHTML holds the source %q: %q", a.Val, s)
			case key == "target" && val == "_blank" && !hasRel(tok, "noopener"):
				t.Fatalf("BodyHTML opens a window without noopener: %q", s)
			}
		}
		if tok.Data == "a" && attr(tok, "href") != "" && !(hasRel(tok, "nofollow") && hasRel(tok, "noreferrer")) {
			t.Fatalf("BodyHTML holds a link without rel nofollow noreferrer: %q", s)
		}
	}
}

func attr(tok html.Token, key string) string {
	for _, a := range tok.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasRel(tok html.Token, value string) bool {
	for f := range strings.FieldsSeq(attr(tok, "rel")) {
		if f == value {
			return true
		}
	}
	return false
}
