package spencerclient_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spencer-signage/signage/spencerclient"
)

// decodeOne decodes a body holding the one publication pub and returns its item.
func decodeOne(t *testing.T, pub, locale string) spencerclient.Item {
	t.Helper()
	items, skipped, err := spencerclient.Decode([]byte("["+pub+"]"), locale)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if len(items) != 1 || len(skipped) != 0 {
		t.Fatalf("Decode(%s) = %d items, skipped %+v; want one item", pub, len(items), skipped)
	}
	return items[0]
}

func TestDecodeID(t *testing.T) {
	for _, tc := range []struct {
		name, pub, want string
	}{
		{"id string", `{"id": "abc", "title": "t"}`, "abc"},
		{"id string trimmed", `{"id": "  abc ", "title": "t"}`, "abc"},
		{"id number", `{"id": 42, "title": "t"}`, "42"},
		{"id number beyond float64", `{"id": 12345678901234567890, "title": "t"}`, "12345678901234567890"},
		{"id number beyond uint64", `{"id": 123456789012345678901234567890, "title": "t"}`, "123456789012345678901234567890"},
		{"uuid", `{"uuid": "3f0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3f", "title": "t"}`, "3f0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3f"},
		{"publicationId", `{"publicationId": "p-7", "title": "t"}`, "p-7"},
		{"publication_id", `{"publication_id": 7, "title": "t"}`, "7"},
		{"id before uuid", `{"uuid": "u", "id": "i", "title": "t"}`, "i"},
		{"empty id falls through", `{"id": "", "uuid": "u", "title": "t"}`, "u"},
		{"null id falls through", `{"id": null, "publicationId": 9, "title": "t"}`, "9"},
		{"object id falls through", `{"id": {"x": 1}, "uuid": "u", "title": "t"}`, "u"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := decodeOne(t, tc.pub, "en-US").ID; got != tc.want {
				t.Errorf("ID = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDecodeDerivedIDIsStable(t *testing.T) {
	a := decodeOne(t, `{"title": "No id", "body": "x"}`, "en-US")
	b := decodeOne(t, "{\n  \"title\" : \"No id\",\n  \"body\" : \"x\"\n}", "nl-BE")
	c := decodeOne(t, `{"title": "Other", "body": "x"}`, "en-US")
	if !strings.HasPrefix(a.ID, "h-") || len(a.ID) != 2+16 {
		t.Fatalf("derived ID = %q, want h- and 16 hex digits", a.ID)
	}
	if a.ID != b.ID {
		t.Errorf("derived IDs differ with white space: %q, %q", a.ID, b.ID)
	}
	if a.ID == c.ID {
		t.Errorf("different publications share derived ID %q", a.ID)
	}
}

func TestDecodeTexts(t *testing.T) {
	for _, tc := range []struct {
		name, pub                string
		title, bodyHTML, summary string
	}{
		{"title", `{"title": "T"}`, "T", "", ""},
		{"headline", `{"headline": "H"}`, "H", "", ""},
		{"name", `{"name": "N"}`, "N", "", ""},
		{"title before headline before name", `{"name": "N", "headline": "H", "title": "T"}`, "T", "", ""},
		{"blank title falls through", `{"title": "  ", "headline": "H"}`, "H", "", ""},
		{"title white space collapsed", `{"title": "  Big\n\tnews  "}`, "Big news", "", ""},
		{"title entities decoded", `{"title": "Q&amp;A &eacute;t&eacute;"}`, "Q&A été", "", ""},
		{"title tags stripped", `{"title": "<b>Big</b> news<br>today"}`, "Big news today", "", ""},
		{"body", `{"body": "<p>B</p>"}`, "", "<p>B</p>", ""},
		{"content", `{"content": "<p>C</p>"}`, "", "<p>C</p>", ""},
		{"html", `{"html": "<p>H</p>"}`, "", "<p>H</p>", ""},
		{"text", `{"text": "<p>X</p>"}`, "", "<p>X</p>", ""},
		{"body before content before html before text", `{"text": "x", "html": "h", "content": "c", "body": "b"}`, "", "<p>b</p>", ""},
		{"empty body falls through", `{"body": "", "content": "<p>C</p>"}`, "", "<p>C</p>", ""},
		{"body of empty markup falls through", `{"body": "<p> </p>", "text": "T"}`, "", "<p>T</p>", ""},
		{"body keeps an image alone", `{"title": "t", "body": "<img src=\"https://x.test/a.png\">"}`, "t", `<img src="https://x.test/a.png">`, ""},
		{"plain body paragraphs", `{"body": "one\ntwo\n\n\nthree"}`, "", "<p>one<br>two</p>\n<p>three</p>", ""},
		{"plain body CRLF", `{"body": "one\r\ntwo\r\n\r\nthree"}`, "", "<p>one<br>two</p>\n<p>three</p>", ""},
		{"plain body escaped", `{"body": "5 < 6 & \"q\""}`, "", "<p>5 &lt; 6 &amp; &#34;q&#34;</p>", ""},
		{"plain body entities", `{"body": "Q&amp;A"}`, "", "<p>Q&amp;A</p>", ""},
		{"summary", `{"title": "t", "summary": "S"}`, "t", "", "S"},
		{"intro", `{"title": "t", "intro": "I"}`, "t", "", "I"},
		{"excerpt", `{"title": "t", "excerpt": "E"}`, "t", "", "E"},
		{"lead", `{"title": "t", "lead": "L"}`, "t", "", "L"},
		{"description", `{"title": "t", "description": "D"}`, "t", "", "D"},
		{"summary before intro before description", `{"title": "t", "description": "D", "intro": "I", "summary": "S"}`, "t", "", "S"},
		{"summary as HTML becomes text", `{"title": "t", "summary": "<p>One &amp; <b>two</b></p><p>three</p>"}`, "t", "", "One & two three"},
		{"summary locale object", `{"title": "t", "summary": {"en-US": "<i>S</i>"}}`, "t", "", "S"},
		{"body locale object", `{"body": {"nl-BE": "nl", "en-US": "<p>en</p>"}}`, "", "<p>en</p>", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			it := decodeOne(t, tc.pub, "en-US")
			if it.Title != tc.title || it.BodyHTML != tc.bodyHTML || it.Summary != tc.summary {
				t.Errorf("got title %q body %q summary %q\nwant title %q body %q summary %q",
					it.Title, it.BodyHTML, it.Summary, tc.title, tc.bodyHTML, tc.summary)
			}
		})
	}
}

func TestDecodeLocale(t *testing.T) {
	const localized = `{"title": {"nl-BE": "Hallo", "en-US": "Hello", "fr-BE": "Bonjour"},
		"body": {"nl-BE": "<p>Tekst</p>", "en-US": "<p>Text</p>", "fr-BE": "<p>Texte</p>"}}`
	for _, tc := range []struct {
		name, pub, locale string
		title, body       string
		itemLocale        string
	}{
		{"requested", localized, "nl-BE", "Hallo", "<p>Tekst</p>", "nl-BE"},
		{"requested, spelled otherwise", localized, "nl_be", "Hallo", "<p>Tekst</p>", "nl-BE"},
		{"requested key spelled otherwise", `{"title": {"fr_be": "Bonjour", "EN-us": "Hello"}}`, "fr-BE", "Bonjour", "", "fr-BE"},
		{"en-US when requested missing", localized, "de-DE", "Hello", "<p>Text</p>", "en-US"},
		{"en-US when none requested", localized, "", "Hello", "<p>Text</p>", "en-US"},
		{"first present without en-US", `{"title": {"fr-BE": "Bonjour", "nl-BE": "Hallo"}}`, "de-DE", "Bonjour", "", "fr-BE"},
		{"first present is document order", `{"title": {"nl-BE": "Hallo", "fr-BE": "Bonjour"}}`, "de-DE", "Hallo", "", "nl-BE"},
		{"a translation missing a part falls back as a whole", `{"title": {"nl-BE": "Hallo", "en-US": "Hello"}, "body": {"en-US": "<p>Text</p>"}}`, "nl-BE", "Hello", "<p>Text</p>", "en-US"},
		{"body locale when no title", `{"body": {"nl-BE": "<p>Tekst</p>", "en-US": "<p>Text</p>"}}`, "nl-BE", "", "<p>Tekst</p>", "nl-BE"},
		{"non-locale keys ignored", `{"title": {"html": "x", "value": "y", "en-US": "Hello"}}`, "fr-FR", "Hello", "", "en-US"},
		{"plain strings have no locale", `{"title": "Hello"}`, "nl-BE", "Hello", "", ""},
		{"script and region", `{"title": {"en-US": "Hello", "zh_hant_tw": "Ni hao"}}`, "zh-Hant-TW", "Ni hao", "", "zh-Hant-TW"},
		{"numeric region", `{"title": {"en-US": "Hello", "ES-419": "Hola"}}`, "es-419", "Hola", "", "es-419"},
		{"no part from a third language", `{"title": {"en-US": "Hello", "nl-BE": "Hallo"}, "body": {"fr-BE": "<p>Texte</p>"}}`, "nl-BE", "Hallo", "", "nl-BE"},
		{"another language beats skipping", `{"title": {"fr-BE": "Bonjour"}, "summary": {"nl-BE": "Kort"}}`, "nl-BE", "Bonjour", "", "fr-BE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			it := decodeOne(t, tc.pub, tc.locale)
			if it.Title != tc.title || it.BodyHTML != tc.body || it.Locale != tc.itemLocale {
				t.Errorf("got %q %q in %q, want %q %q in %q", it.Title, it.BodyHTML, it.Locale, tc.title, tc.body, tc.itemLocale)
			}
		})
	}
}

func TestDecodeTranslations(t *testing.T) {
	for _, tc := range []struct {
		name, pub, locale string
		title, body       string
		itemLocale        string
		translations      map[string]spencerclient.Text
	}{
		{
			name:   "array with locale, translation wins over plain strings",
			pub:    `{"title": "Hello", "body": "Text", "translations": [{"locale": "nl-BE", "title": "Hallo", "body": "<p>Tekst</p>", "summary": "Kort"}]}`,
			locale: "nl-BE", title: "Hallo", body: "<p>Tekst</p>", itemLocale: "nl-BE",
			translations: map[string]spencerclient.Text{"nl-BE": {Title: "Hallo", BodyHTML: "<p>Tekst</p>", Summary: "Kort"}},
		},
		{
			name:   "array with language and other field keys",
			pub:    `{"title": "Hello", "translations": [{"language": "nl_BE", "headline": "Hallo", "content": "Tekst", "intro": "<b>Kort</b>"}]}`,
			locale: "nl-BE", title: "Hallo", body: "<p>Tekst</p>", itemLocale: "nl-BE",
			translations: map[string]spencerclient.Text{"nl-BE": {Title: "Hallo", BodyHTML: "<p>Tekst</p>", Summary: "Kort"}},
		},
		{
			name:   "array with lang",
			pub:    `{"title": "Hello", "translations": [{"lang": "fr", "name": "Bonjour"}, {"lang": "nl", "title": "Hallo"}]}`,
			locale: "nl", title: "Hallo", itemLocale: "nl",
			translations: map[string]spencerclient.Text{"fr": {Title: "Bonjour"}, "nl": {Title: "Hallo"}},
		},
		{
			name:   "object keyed by locale",
			pub:    `{"title": "Hello", "body": "Text", "translations": {"nl-BE": {"title": "Hallo", "body": "Tekst"}, "fr-BE": {"title": "Bonjour"}}}`,
			locale: "nl-BE", title: "Hallo", body: "<p>Tekst</p>", itemLocale: "nl-BE",
			translations: map[string]spencerclient.Text{"nl-BE": {Title: "Hallo", BodyHTML: "<p>Tekst</p>"}, "fr-BE": {Title: "Bonjour"}},
		},
		{
			name:   "a translation of the title alone falls back as a whole",
			pub:    `{"title": "Hello", "body": "Text", "translations": {"nl-BE": {"title": "Hallo", "body": "Tekst"}, "fr-BE": {"title": "Bonjour"}}}`,
			locale: "fr-BE", title: "Hello", body: "<p>Text</p>", itemLocale: "",
			translations: map[string]spencerclient.Text{"nl-BE": {Title: "Hallo", BodyHTML: "<p>Tekst</p>"}, "fr-BE": {Title: "Bonjour"}},
		},
		{
			name:   "plain strings when translations lack the locale and en-US",
			pub:    `{"title": "Hello", "translations": [{"locale": "nl-BE", "title": "Hallo"}]}`,
			locale: "de-DE", title: "Hello", itemLocale: "",
			translations: map[string]spencerclient.Text{"nl-BE": {Title: "Hallo"}},
		},
		{
			name:   "en-US translation when the locale is missing",
			pub:    `{"title": "Hi", "translations": [{"locale": "nl-BE", "title": "Hallo"}, {"locale": "en-US", "title": "Hello"}]}`,
			locale: "de-DE", title: "Hello", itemLocale: "en-US",
			translations: map[string]spencerclient.Text{"nl-BE": {Title: "Hallo"}, "en-US": {Title: "Hello"}},
		},
		{
			name:   "first translation without any plain text",
			pub:    `{"translations": {"fr-BE": {"title": "Bonjour"}, "nl-BE": {"title": "Hallo"}}}`,
			locale: "de-DE", title: "Bonjour", itemLocale: "fr-BE",
			translations: map[string]spencerclient.Text{"fr-BE": {Title: "Bonjour"}, "nl-BE": {Title: "Hallo"}},
		},
		{
			name:   "locale objects and translations merge, main fields win",
			pub:    `{"title": {"en-US": "Hello", "nl-BE": "Hallo"}, "translations": [{"locale": "nl-BE", "title": "Other", "summary": "Kort"}, {"locale": "fr-BE", "title": "Bonjour"}]}`,
			locale: "nl-BE", title: "Hallo", itemLocale: "nl-BE",
			translations: map[string]spencerclient.Text{
				"en-US": {Title: "Hello"}, "nl-BE": {Title: "Hallo", Summary: "Kort"}, "fr-BE": {Title: "Bonjour"},
			},
		},
		{
			name:   "translations are sanitized",
			pub:    `{"title": "Hello", "translations": [{"locale": "nl-BE", "title": "<script>x()</script>Hallo", "body": "<p onclick=\"x()\">Tekst</p><iframe src=\"https://evil.test\"></iframe>"}]}`,
			locale: "en-US", title: "Hello", itemLocale: "",
			translations: map[string]spencerclient.Text{"nl-BE": {Title: "Hallo", BodyHTML: "<p>Tekst</p>"}},
		},
		{
			name:   "unusable entries ignored",
			pub:    `{"title": "Hello", "translations": [null, "nl", {"title": "no locale"}, {"locale": "not a locale!", "title": "x"}, {"locale": "nl", "title": ""}]}`,
			locale: "nl", title: "Hello", itemLocale: "",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			it := decodeOne(t, tc.pub, tc.locale)
			if it.Title != tc.title || it.BodyHTML != tc.body || it.Locale != tc.itemLocale {
				t.Errorf("got %q %q in %q, want %q %q in %q", it.Title, it.BodyHTML, it.Locale, tc.title, tc.body, tc.itemLocale)
			}
			if !reflect.DeepEqual(it.Translations, tc.translations) {
				t.Errorf("Translations = %+v, want %+v", it.Translations, tc.translations)
			}
		})
	}
}

func TestDecodeImage(t *testing.T) {
	for _, tc := range []struct {
		name, image, want string
	}{
		{"image string", `"image": "https://cdn.test/a.jpg"`, "https://cdn.test/a.jpg"},
		{"http allowed", `"image": "http://cdn.test/a.jpg"`, "http://cdn.test/a.jpg"},
		{"scheme case", `"image": "HTTPS://cdn.test/a.jpg"`, "https://cdn.test/a.jpg"},
		{"imageUrl", `"imageUrl": "https://cdn.test/b.jpg"`, "https://cdn.test/b.jpg"},
		{"image_url", `"image_url": "https://cdn.test/b.jpg"`, "https://cdn.test/b.jpg"},
		{"coverImage", `"coverImage": "https://cdn.test/c.jpg"`, "https://cdn.test/c.jpg"},
		{"cover", `"cover": "https://cdn.test/d.jpg"`, "https://cdn.test/d.jpg"},
		{"thumbnail", `"thumbnail": "https://cdn.test/e.jpg"`, "https://cdn.test/e.jpg"},
		{"media", `"media": "https://cdn.test/f.jpg"`, "https://cdn.test/f.jpg"},
		{"image before media", `"media": "https://cdn.test/m.jpg", "image": "https://cdn.test/i.jpg"`, "https://cdn.test/i.jpg"},
		{"unusable image falls through", `"image": "javascript:alert(1)", "thumbnail": "https://cdn.test/t.jpg"`, "https://cdn.test/t.jpg"},
		{"object url", `"image": {"url": "https://cdn.test/u.jpg"}`, "https://cdn.test/u.jpg"},
		{"object src", `"image": {"src": "https://cdn.test/s.jpg"}`, "https://cdn.test/s.jpg"},
		{"object href", `"image": {"href": "https://cdn.test/h.jpg"}`, "https://cdn.test/h.jpg"},
		{"object original", `"image": {"original": "https://cdn.test/o.jpg"}`, "https://cdn.test/o.jpg"},
		{"object url before original", `"image": {"original": "https://cdn.test/o.jpg", "url": "https://cdn.test/u.jpg"}`, "https://cdn.test/u.jpg"},
		{"object nested", `"media": {"original": {"url": "https://cdn.test/n.jpg"}}`, "https://cdn.test/n.jpg"},
		{"array first", `"media": ["https://cdn.test/1.jpg", "https://cdn.test/2.jpg"]`, "https://cdn.test/1.jpg"},
		{"array first unusable", `"media": [null, "ftp://cdn.test/x.jpg", {"url": "/relative.jpg"}, {"src": "https://cdn.test/ok.jpg"}]`, "https://cdn.test/ok.jpg"},
		{"javascript rejected", `"image": "javascript:alert(1)"`, ""},
		{"data rejected", `"image": "data:image/png;base64,AAAA"`, ""},
		{"relative rejected", `"image": "/img/a.jpg"`, ""},
		{"protocol-relative rejected", `"image": "//cdn.test/a.jpg"`, ""},
		{"no host rejected", `"image": "https:///a.jpg"`, ""},
		{"not a URL rejected", `"image": "http://a b.test/%zz"`, ""},
		{"number rejected", `"image": 42`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := decodeOne(t, `{"title": "t", `+tc.image+`}`, "en-US").ImageURL; got != tc.want {
				t.Errorf("ImageURL = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDecodeLink(t *testing.T) {
	for _, tc := range []struct {
		name, link, want string
	}{
		{"url", `"url": "https://news.test/1"`, "https://news.test/1"},
		{"link", `"link": "https://news.test/2"`, "https://news.test/2"},
		{"deepLink", `"deepLink": "https://app.test/3"`, "https://app.test/3"},
		{"deep_link", `"deep_link": "https://app.test/3"`, "https://app.test/3"},
		{"webUrl", `"webUrl": "http://news.test/4"`, "http://news.test/4"},
		{"url before webUrl", `"webUrl": "https://news.test/w", "url": "https://news.test/u"`, "https://news.test/u"},
		{"app scheme falls through", `"deepLink": "spencer://news/1", "webUrl": "https://news.test/w"`, "https://news.test/w"},
		{"javascript rejected", `"link": "javascript:alert(document.cookie)"`, ""},
		{"JavaScript rejected", `"link": "  JavaScript:alert(1)"`, ""},
		{"mailto rejected", `"link": "mailto:a@b.test"`, ""},
		{"relative rejected", `"link": "/news/1"`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := decodeOne(t, `{"title": "t", `+tc.link+`}`, "en-US").Link; got != tc.want {
				t.Errorf("Link = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDecodeAuthor(t *testing.T) {
	for _, tc := range []struct {
		name, author, want string
	}{
		{"author string", `"author": "Ann Smith"`, "Ann Smith"},
		{"createdBy string", `"createdBy": "Bob"`, "Bob"},
		{"created_by", `"created_by": "Bob"`, "Bob"},
		{"author before createdBy", `"createdBy": "Bob", "author": "Ann"`, "Ann"},
		{"object name", `"author": {"name": "Ann Smith", "displayName": "Ann"}`, "Ann Smith"},
		{"object displayName", `"author": {"displayName": "Ann S."}`, "Ann S."},
		{"object first and last", `"createdBy": {"firstName": "Ann", "lastName": "Smith"}`, "Ann Smith"},
		{"object first only", `"createdBy": {"first_name": "Ann"}`, "Ann"},
		{"object last only", `"createdBy": {"lastName": "Smith"}`, "Smith"},
		{"array first usable", `"author": [{"id": 1}, {"name": "Ann"}]`, "Ann"},
		{"markup stripped", `"author": "<a href=\"https://x.test\">Ann</a> &amp; Bob"`, "Ann & Bob"},
		{"empty falls through", `"author": {"name": ""}, "createdBy": "Bob"`, "Bob"},
		{"number ignored", `"author": 7`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := decodeOne(t, `{"title": "t", `+tc.author+`}`, "en-US").Author; got != tc.want {
				t.Errorf("Author = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDecodePinned(t *testing.T) {
	for _, tc := range []struct {
		name, pinned string
		want         bool
	}{
		{"absent", ``, false},
		{"pinned true", `, "pinned": true`, true},
		{"pinned false", `, "pinned": false`, false},
		{"isPinned", `, "isPinned": true`, true},
		{"is_pinned", `, "is_pinned": true`, true},
		{"sticky", `, "sticky": true`, true},
		{"string true", `, "pinned": "true"`, true},
		{"string TRUE", `, "pinned": " TRUE "`, true},
		{"string false", `, "pinned": "false"`, false},
		{"number 1", `, "pinned": 1`, true},
		{"number 0", `, "pinned": 0`, false},
		{"string 1", `, "pinned": "1"`, true},
		{"pinned before sticky", `, "sticky": true, "pinned": false`, false},
		{"unusable falls through", `, "pinned": "maybe", "isPinned": true`, true},
		{"null falls through", `, "pinned": null, "sticky": true`, true},
		{"other number ignored", `, "pinned": 2`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := decodeOne(t, `{"title": "t"`+tc.pinned+`}`, "en-US").Pinned; got != tc.want {
				t.Errorf("Pinned = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDecodeTimes(t *testing.T) {
	want := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	epoch := want.Unix()
	for _, tc := range []struct {
		name, value string
		want        time.Time
	}{
		{"RFC 3339 UTC", `"2026-11-20T09:30:00Z"`, want},
		{"RFC 3339 offset", `"2026-11-20T10:30:00+01:00"`, want},
		{"RFC 3339 fraction", `"2026-11-20T09:30:00.250Z"`, want.Add(250 * time.Millisecond)},
		{"no zone is UTC", `"2026-11-20T09:30:00"`, want},
		{"space separator", `"2026-11-20 09:30:00"`, want},
		{"date only", `"2026-11-20"`, time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)},
		{"epoch seconds", jsonInt(epoch), want},
		{"epoch seconds fraction", jsonInt(epoch) + ".5", want.Add(500 * time.Millisecond)},
		{"epoch milliseconds", jsonInt(epoch*1000 + 7), want.Add(7 * time.Millisecond)},
		{"epoch seconds string", `"` + jsonInt(epoch) + `"`, want},
		{"epoch milliseconds string", `"` + jsonInt(epoch*1000) + `"`, want},
		{"epoch exponent", `1.7956278e9`, time.Unix(1795627800, 0).UTC()},
		{"garbage", `"next tuesday"`, time.Time{}},
		{"zero", `0`, time.Time{}},
		{"negative", `-5`, time.Time{}},
		{"huge", `1e300`, time.Time{}},
		{"inf string", `"Infinity"`, time.Time{}},
		{"hex string", `"0x1p30"`, time.Time{}},
		{"bool", `true`, time.Time{}},
		{"null", `null`, time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			it := decodeOne(t, `{"title": "t", "publishedAt": `+tc.value+`, "expiresAt": `+tc.value+`}`, "en-US")
			if !it.Published.Equal(tc.want) || !it.Expires.Equal(tc.want) {
				t.Errorf("Published %v, Expires %v, want %v", it.Published, it.Expires, tc.want)
			}
		})
	}
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestDecodeTimeKeys(t *testing.T) {
	a := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, fields       string
		published, expires time.Time
	}{
		{"publishedAt", `"publishedAt": "2026-01-01T00:00:00Z"`, a, time.Time{}},
		{"published_at", `"published_at": "2026-01-01T00:00:00Z"`, a, time.Time{}},
		{"publicationDate", `"publicationDate": "2026-01-01T00:00:00Z"`, a, time.Time{}},
		{"publishDate", `"publishDate": "2026-01-01T00:00:00Z"`, a, time.Time{}},
		{"createdAt", `"createdAt": "2026-01-01T00:00:00Z"`, a, time.Time{}},
		{"publishedAt before createdAt", `"createdAt": "2026-02-02T00:00:00Z", "publishedAt": "2026-01-01T00:00:00Z"`, a, time.Time{}},
		{"unusable falls through", `"publishedAt": "soon", "publishDate": "2026-01-01T00:00:00Z"`, a, time.Time{}},
		{"expiresAt", `"expiresAt": "2026-02-02T00:00:00Z"`, time.Time{}, b},
		{"unpublishAt", `"unpublishAt": "2026-02-02T00:00:00Z"`, time.Time{}, b},
		{"endDate", `"end_date": "2026-02-02T00:00:00Z"`, time.Time{}, b},
		{"expiresAt before endDate", `"endDate": "2026-01-01T00:00:00Z", "expiresAt": "2026-02-02T00:00:00Z"`, time.Time{}, b},
	} {
		t.Run(tc.name, func(t *testing.T) {
			it := decodeOne(t, `{"title": "t", `+tc.fields+`}`, "en-US")
			if !it.Published.Equal(tc.published) || !it.Expires.Equal(tc.expires) {
				t.Errorf("Published %v, Expires %v; want %v, %v", it.Published, it.Expires, tc.published, tc.expires)
			}
		})
	}
}

func TestDecodeKeysIgnoreCaseAndStyle(t *testing.T) {
	for _, tc := range []struct {
		name, pub string
	}{
		{"camelCase", `{"publicationId": "1", "title": "T", "imageUrl": "https://x.test/i.jpg", "publishedAt": "2026-01-01T00:00:00Z", "deepLink": "https://x.test/l", "isPinned": true}`},
		{"snake_case", `{"publication_id": "1", "title": "T", "image_url": "https://x.test/i.jpg", "published_at": "2026-01-01T00:00:00Z", "deep_link": "https://x.test/l", "is_pinned": true}`},
		{"PascalCase", `{"PublicationId": "1", "Title": "T", "ImageUrl": "https://x.test/i.jpg", "PublishedAt": "2026-01-01T00:00:00Z", "DeepLink": "https://x.test/l", "IsPinned": true}`},
		{"UPPER_SNAKE", `{"PUBLICATION_ID": "1", "TITLE": "T", "IMAGE_URL": "https://x.test/i.jpg", "PUBLISHED_AT": "2026-01-01T00:00:00Z", "DEEP_LINK": "https://x.test/l", "IS_PINNED": true}`},
		{"kebab-case", `{"publication-id": "1", "title": "T", "image-url": "https://x.test/i.jpg", "published-at": "2026-01-01T00:00:00Z", "deep-link": "https://x.test/l", "is-pinned": true}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			it := decodeOne(t, tc.pub, "en-US")
			if it.ID != "1" || it.Title != "T" || it.ImageURL != "https://x.test/i.jpg" ||
				!it.Published.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) || it.Link != "https://x.test/l" || !it.Pinned {
				t.Errorf("got %+v", it)
			}
		})
	}
}

func TestDecodeTopLevel(t *testing.T) {
	const pub = `{"id": "1", "title": "T"}`
	for _, tc := range []struct {
		name, body string
		n          int
	}{
		{"array", `[` + pub + `]`, 1},
		{"empty array", `[]`, 0},
		{"data", `{"data": [` + pub + `]}`, 1},
		{"items", `{"items": [` + pub + `], "total": 1}`, 1},
		{"publications", `{"publications": [` + pub + `]}`, 1},
		{"content", `{"content": [` + pub + `]}`, 1},
		{"results", `{"results": [` + pub + `]}`, 1},
		{"key case", `{"Data": [` + pub + `]}`, 1},
		{"empty wrapped array", `{"data": []}`, 0},
		{"first wrapper key wins", `{"results": [` + pub + `, ` + pub + `], "data": [` + pub + `]}`, 1},
		{"non-array wrapper skipped", `{"data": null, "items": "x", "results": [` + pub + `]}`, 1},
		{"nested wrapper", `{"data": {"items": [` + pub + `], "page": 1}}`, 1},
		{"white space and BOM", "\ufeff \n [" + pub + "] \n", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			items, _, err := spencerclient.Decode([]byte(tc.body), "en-US")
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if len(items) != tc.n {
				t.Fatalf("got %d items, want %d", len(items), tc.n)
			}
		})
	}
}

func TestDecodeUndecodable(t *testing.T) {
	deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	for _, tc := range []struct {
		name, body string
	}{
		{"empty", ``},
		{"not JSON", `<html>502 Bad Gateway</html>`},
		{"truncated", `{"data": [{"id": 1, "title": "cut off`},
		{"trailing garbage", `[] x`},
		{"null", `null`},
		{"string", `"publications"`},
		{"number", `42`},
		{"bool", `true`},
		{"object without wrapper", `{"id": 1, "title": "a single publication"}`},
		{"wrapper not an array", `{"data": {"id": 1}}`},
		{"wrapper a string", `{"items": "[]"}`},
		{"too deep", deep},
	} {
		t.Run(tc.name, func(t *testing.T) {
			items, skipped, err := spencerclient.Decode([]byte(tc.body), "en-US")
			var de *spencerclient.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v (%T), want *DecodeError", err, err)
			}
			if items != nil || skipped != nil {
				t.Errorf("got items %v, skipped %v with an error", items, skipped)
			}
			if !strings.HasPrefix(err.Error(), "spencer: undecodable publications: ") {
				t.Errorf("err = %q", err)
			}
		})
	}
}

func TestDecodeOrder(t *testing.T) {
	body := `[
		{"id": "old", "title": "t", "publishedAt": "2026-01-01T00:00:00Z"},
		{"id": "undated-1", "title": "t"},
		{"id": "new", "title": "t", "publishedAt": 1790000000},
		{"id": "pinned-old", "title": "t", "pinned": true, "publishedAt": "2025-01-01T00:00:00Z"},
		{"id": "undated-2", "title": "t"},
		{"id": "pinned-undated", "title": "t", "sticky": "true"},
		{"id": "mid-1", "title": "t", "publishedAt": "2026-06-01T00:00:00Z"},
		{"id": "pinned-new", "title": "t", "isPinned": 1, "publishedAt": "2026-12-01T00:00:00Z"},
		{"id": "mid-2", "title": "t", "publishedAt": "2026-06-01T00:00:00Z"}
	]`
	items, _, err := spencerclient.Decode([]byte(body), "en-US")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range items {
		got = append(got, it.ID)
	}
	want := []string{"pinned-new", "pinned-old", "pinned-undated", "new", "mid-1", "mid-2", "old", "undated-1", "undated-2"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("order = %v\nwant    %v", got, want)
	}
}

func TestDecodeSkipped(t *testing.T) {
	body := `[
		{"id": "a", "title": "kept"},
		{"id": "b", "Image": "https://x.test/i.jpg", "summary": "only a summary"},
		null,
		"a string",
		{"id": "c", "body": "kept too"},
		{"zeta": 1, "alpha": null, "title": "   ", "body": "<script>alert(1)</script>"},
		[],
		{}
	]`
	items, skipped, err := spencerclient.Decode([]byte(body), "en-US")
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || items[0].ID != "a" || items[1].ID != "c" {
		t.Errorf("items = %+v, want a and c", items)
	}
	want := []spencerclient.Skipped{
		{Index: 1, Keys: []string{"Image", "id", "summary"}},
		{Index: 2},
		{Index: 3},
		{Index: 5, Keys: []string{"alpha", "body", "title", "zeta"}},
		{Index: 6},
		{Index: 7},
	}
	if !reflect.DeepEqual(skipped, want) {
		t.Errorf("skipped = %+v\nwant      %+v", skipped, want)
	}
}

func TestDecodeRaw(t *testing.T) {
	body := "[{\"id\": 12345678901234567890,\n \"title\": \"T\", \"x\": {\"nested\": [1, 2.50]}, \"bad\": \"\xff\"}]"
	items, _, err := spencerclient.Decode([]byte(body), "en-US")
	if err != nil {
		t.Fatal(err)
	}
	const want = "{\"id\":12345678901234567890,\"title\":\"T\",\"x\":{\"nested\":[1,2.50]},\"bad\":\"\uFFFD\"}"
	if got := string(items[0].Raw); got != want {
		t.Errorf("Raw = %s, want %s", got, want)
	}
	if !json.Valid(items[0].Raw) {
		t.Error("Raw is not valid JSON")
	}
	// Raw is a copy: the caller's buffer may be reused.
	b := []byte(body)
	items, _, _ = spencerclient.Decode(b, "en-US")
	for i := range b {
		b[i] = ' '
	}
	if got := string(items[0].Raw); got != want {
		t.Errorf("Raw changed with the body: %s", got)
	}
}

func TestDecodeBodyXSS(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       string   // exact result, when given
		absent     []string // case-insensitive substrings that must be gone
		present    []string
	}{
		{name: "script", body: `<p>Hi</p><script>alert(1)</script>`, want: `<p>Hi</p>`},
		{name: "script upper case", body: `<p>Hi</p><SCRIPT SRC=https://evil.test/x.js></SCRIPT>`, want: `<p>Hi</p>`},
		{name: "img onerror", body: `<p>Hi<img src=x onerror=alert(1)></p>`, want: `<p>Hi</p>`},
		{name: "img onerror keeps a good image", body: `<img src="https://x.test/a.png" onerror="alert(1)" alt="A">`, want: `<img src="https://x.test/a.png" alt="A">`},
		{name: "svg onload", body: `<p>Hi</p><svg onload=alert(1)><circle r=1></circle></svg>`, absent: []string{"<svg", "onload", "alert"}, present: []string{"<p>Hi</p>"}},
		{name: "javascript link", body: `<a href="javascript:alert(1)">click</a>`, want: `click`},
		{name: "javascript link obfuscated", body: `<a href="jav&#x09;ascript:alert(1)">click</a> <a href=" JAVASCRIPT:alert(1)">again</a>`, absent: []string{"javascript", "href"}},
		{name: "data link", body: `<a href="data:text/html,<script>alert(1)</script>">x</a>`, absent: []string{"data:", "<script", "href"}},
		{name: "vbscript link", body: `<a href="vbscript:msgbox(1)">x</a>`, absent: []string{"vbscript", "href"}},
		{name: "relative link", body: `<a href="/local">x</a>`, absent: []string{"href"}},
		{name: "iframe", body: `<p>a</p><iframe src="https://evil.test"></iframe>`, want: `<p>a</p>`},
		{name: "object and embed", body: `<p>a</p><object data="x.swf"></object><embed src="x.swf">`, want: `<p>a</p>`},
		{name: "style attribute", body: `<p style="position:fixed;top:0;left:0;width:100%;height:100%">a</p>`, want: `<p>a</p>`},
		{name: "style element", body: `<style>body{display:none}</style><p>a</p>`, want: `<p>a</p>`},
		{name: "event handlers", body: `<p onclick="x()" onmouseover='y()' OnFocus=z()>a</p>`, want: `<p>a</p>`},
		{name: "form", body: `<form action="https://evil.test"><input name="pw"><button>go</button></form>`, absent: []string{"<form", "<input", "<button"}},
		{name: "meta refresh", body: `<meta http-equiv="refresh" content="0;url=https://evil.test"><p>a</p>`, want: `<p>a</p>`},
		{name: "base", body: `<base href="https://evil.test/"><p>a</p>`, want: `<p>a</p>`},
		{name: "ids and names dropped", body: `<p id="deck">a</p><map name="x"></map>`, absent: []string{"id=", "name="}},
		{name: "http link gets rel", body: `<a href="https://news.test/1">read</a>`, present: []string{`href="https://news.test/1"`, "nofollow", "noreferrer", "noopener", `target="_blank"`}},
		{name: "mailto link kept", body: `<a href="mailto:hr@x.test">mail</a>`, present: []string{`href="mailto:hr@x.test"`, "nofollow", "noreferrer"}},
		{name: "formatting kept", body: `<h2>T</h2><p><strong>b</strong> <em>i</em></p><ul><li>x</li></ul>`, want: `<h2>T</h2><p><strong>b</strong> <em>i</em></p><ul><li>x</li></ul>`},
		{name: "plain text with markup-like text", body: `if a<b then "x" & y`, absent: []string{"<b>"}},
		{name: "plain text with handler-like text is escaped", body: "x\n\"><img src=x onerror=alert(1)>", absent: []string{"<img"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			it := decodeOne(t, `{"title": "t", "body": `+jsonString(tc.body)+`}`, "en-US")
			got := it.BodyHTML
			if tc.want != "" && got != tc.want {
				t.Errorf("BodyHTML = %q, want %q", got, tc.want)
			}
			for _, s := range tc.absent {
				if strings.Contains(strings.ToLower(got), strings.ToLower(s)) {
					t.Errorf("BodyHTML = %q, holds %q", got, s)
				}
			}
			for _, s := range tc.present {
				if !strings.Contains(got, s) {
					t.Errorf("BodyHTML = %q, lacks %q", got, s)
				}
			}
		})
	}
}

func TestDecodeTitleIsPlainText(t *testing.T) {
	for _, tc := range []struct {
		name, title, want string
	}{
		{"script", `<script>alert(1)</script>News`, "News"},
		{"img onerror", `<img src=x onerror=alert(1)>News`, "News"},
		{"svg onload", `<svg onload=alert(1)>News</svg>`, "News"},
		{"iframe", `News<iframe src="https://evil.test"></iframe>`, "News"},
		{"link", `<a href="javascript:alert(1)">News</a>`, "News"},
		{"style", `<span style="color:red">News</span>`, "News"},
		// Escaped markup is text that reads like markup; the renderer escapes it again.
		{"escaped markup stays text", `&lt;b&gt;News&lt;/b&gt;`, "<b>News</b>"},
		{"control characters", "News\x00\x1b[31m\u0007", "News[31m"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pub := `{"title": ` + jsonString(tc.title) + `, "summary": ` + jsonString(tc.title) + `, "author": ` + jsonString(tc.title) + `}`
			it := decodeOne(t, pub, "en-US")
			if it.Title != tc.want || it.Summary != tc.want || it.Author != tc.want {
				t.Errorf("Title %q, Summary %q, Author %q; want %q", it.Title, it.Summary, it.Author, tc.want)
			}
		})
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestDecodeHostileInput(t *testing.T) {
	for _, tc := range []struct {
		name, body string
	}{
		{"nulls everywhere", `[{"id": null, "title": null, "body": null, "summary": null, "translations": null, "image": null, "publishedAt": null, "url": null, "author": null, "pinned": null, "expiresAt": null}]`},
		{"wrong types everywhere", `[{"id": [], "title": 1, "body": true, "summary": [], "translations": 5, "image": false, "publishedAt": {}, "url": 1, "author": [[["x"]]], "pinned": [], "expiresAt": "x"}]`},
		{"huge numbers", `[{"id": 1e999999, "title": "t", "publishedAt": 1e999999, "pinned": 1e999999, "expiresAt": -1e999999}]`},
		{"invalid UTF-8", "[{\"title\": \"\xff\xfe\xc3\", \"body\": \"<p \xff=1>\xed\xa0\x80</p>\", \"\xff\": \"\xff\"}]"},
		{"deep image", `[{"title": "t", "image": ` + strings.Repeat(`{"url": `, 5000) + `"https://x.test/a.png"` + strings.Repeat(`}`, 5000) + `}]`},
		{"deep translations", `[{"title": "t", "translations": ` + strings.Repeat(`[`, 5000) + strings.Repeat(`]`, 5000) + `}]`},
		{"deep HTML", `[{"title": "t", "body": "` + strings.Repeat("<div>", 100000) + `x"}]`},
		{"unclosed HTML", `[{"title": "t", "body": "<p><a href=\"https://x.test/<script"}]`},
		{"duplicate keys", `[{"title": "a", "Title": "b", "TITLE": "c"}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			items, _, err := spencerclient.Decode([]byte(tc.body), "en-US")
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			for _, it := range items {
				checkItem(t, it)
			}
		})
	}
}

func TestItemIn(t *testing.T) {
	it := decodeOne(t, `{"title": {"en-US": "Hello", "nl-BE": "Hallo"}, "body": {"en-US": "<p>Text</p>"},
		"translations": [{"locale": "fr-BE", "title": "Bonjour", "summary": "Bref"}]}`, "en-US")
	for _, tc := range []struct {
		locale, title, body, summary, itemLocale string
	}{
		{"en-US", "Hello", "<p>Text</p>", "", "en-US"},
		{"nl-BE", "Hello", "<p>Text</p>", "", "en-US"}, // a Dutch title alone: all English
		{"fr-BE", "Bonjour", "", "Bref", "fr-BE"},      // all French, no English body
		{"nl-NL", "Hello", "<p>Text</p>", "", "en-US"},
		{"de-DE", "Hello", "<p>Text</p>", "", "en-US"},
	} {
		t.Run(tc.locale, func(t *testing.T) {
			got := it.In(tc.locale)
			if got.Title != tc.title || got.BodyHTML != tc.body || got.Summary != tc.summary || got.Locale != tc.itemLocale {
				t.Errorf("In(%s) = %q %q %q in %q", tc.locale, got.Title, got.BodyHTML, got.Summary, got.Locale)
			}
		})
	}
}

// TestOneLanguagePerPublication: a Dutch translation without a summary gets its summary
// from the Dutch body, never the English summary, in the decoder and in Item.In alike.
func TestOneLanguagePerPublication(t *testing.T) {
	pub := `{"title": "Town hall", "summary": "All staff, Friday 16:00.", "body": "<p>All staff meet in the auditorium.</p>",
		"translations": [{"locale": "nl-BE", "title": "Personeelsvergadering", "body": "<p>Iedereen komt samen in de aula.</p>"}]}`
	for name, it := range map[string]spencerclient.Item{
		"decoded in nl-BE": decodeOne(t, pub, "nl-BE"),
		"In(nl-BE)":        decodeOne(t, pub, "en-US").In("nl-BE"),
	} {
		if it.Title != "Personeelsvergadering" || it.Summary != "" || it.Excerpt(100) != "Iedereen komt samen in de aula." || it.Locale != "nl-BE" {
			t.Errorf("%s: %q / %q / excerpt %q in %q", name, it.Title, it.Summary, it.Excerpt(100), it.Locale)
		}
	}
}

func TestItemExpired(t *testing.T) {
	it := decodeOne(t, `{"title": "t", "expiresAt": "2026-01-01T00:00:00Z"}`, "en-US")
	end := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if it.Expired(end.Add(-time.Second)) || !it.Expired(end) || !it.Expired(end.Add(time.Hour)) {
		t.Error("Expired is wrong around the expiry")
	}
	if decodeOne(t, `{"title": "t"}`, "en-US").Expired(end) {
		t.Error("an item without expiry expired")
	}
}

func TestExcerpt(t *testing.T) {
	for _, tc := range []struct {
		name  string
		it    spencerclient.Item
		limit int
		want  string
	}{
		{"summary preferred", spencerclient.Item{Summary: "Short", BodyHTML: "<p>Body</p>"}, 100, "Short"},
		{"body text without summary", spencerclient.Item{BodyHTML: "<p>One &amp; two</p><p>three</p>"}, 100, "One & two three"},
		{"exact fit not cut", spencerclient.Item{Summary: "abc def"}, 7, "abc def"},
		{"cut at word", spencerclient.Item{Summary: "The canteen reopens on Monday"}, 20, "The canteen reopens…"},
		{"cut before partial word", spencerclient.Item{Summary: "The canteen reopens on Monday"}, 15, "The canteen…"},
		{"trailing punctuation dropped", spencerclient.Item{Summary: "Hello, wonderful world"}, 10, "Hello…"},
		{"long word cut inside", spencerclient.Item{Summary: "Donaudampfschifffahrt"}, 8, "Donauda…"},
		{"runes not bytes", spencerclient.Item{Summary: "été été été"}, 8, "été été…"},
		{"one rune", spencerclient.Item{Summary: "abc"}, 1, "…"},
		{"zero", spencerclient.Item{Summary: "abc"}, 0, ""},
		{"empty", spencerclient.Item{}, 10, ""},
		{"white space collapsed", spencerclient.Item{Summary: " a \n b "}, 10, "a b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.it.Excerpt(tc.limit)
			if got != tc.want {
				t.Errorf("Excerpt(%d) = %q, want %q", tc.limit, got, tc.want)
			}
			if n := len([]rune(got)); n > max(tc.limit, 0) {
				t.Errorf("Excerpt(%d) is %d runes long", tc.limit, n)
			}
		})
	}
}

func TestPlainText(t *testing.T) {
	for _, tc := range []struct {
		name, html, want string
	}{
		{"empty", "", ""},
		{"text", "just text", "just text"},
		{"paragraphs", "<p>One</p><p>Two</p>", "One\nTwo"},
		{"br", "a<br>b<br/>c", "a\nb\nc"},
		{"inline", "a<b>b</b><i> c</i>", "ab c"},
		{"entities", "Q&amp;A &lt;tag&gt; &eacute;t&eacute;&nbsp;!", "Q&A <tag> été !"},
		{"source newlines are spaces", "<p>one\ntwo\n   three</p>", "one two three"},
		{"lists", "<ul><li>a</li><li>b</li></ul>", "a\nb"},
		{"table cells", "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\nc"},
		{"script and style dropped", "<script>var x = '<p>';</script><style>p{}</style><p>shown</p>", "shown"},
		{"headings", "<h1>Title</h1>text", "Title\ntext"},
		{"broken markup", "<p>a <b>b", "a b"},
		{"blank blocks dropped", "<p> </p><div>\n</div><p>x</p>", "x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := spencerclient.PlainText(tc.html); got != tc.want {
				t.Errorf("PlainText(%q) = %q, want %q", tc.html, got, tc.want)
			}
		})
	}
}
