package spencerclient

import (
	"encoding/json"
	"time"
)

// Item is one news publication, normalized from whatever shape upstream sent (SPEC 3).
//
// Text fields are in the locale the client was configured with (else en-US, else the first
// one present); Translations keeps every locale the publication carried so that a screen
// asking for another language can be served without a new request upstream.
// BodyHTML is already sanitized by an allow-list policy; Title, Summary and Author are plain
// text; ImageURL and Link are absolute http(s) URLs or empty.
type Item struct {
	ID           string
	Title        string
	BodyHTML     string
	Summary      string
	Locale       string
	Translations map[string]Text
	ImageURL     string
	Link         string
	Author       string
	Published    time.Time // zero when upstream gave none
	Expires      time.Time // zero when the publication does not expire
	Pinned       bool
	Raw          json.RawMessage // the publication exactly as upstream sent it
}

// Text is the translatable part of a publication in one locale.
type Text struct {
	Title    string
	BodyHTML string
	Summary  string
}

// In returns the item with its text in locale when the publication carries a translation
// there as complete as the item's own text (a title when it has one, a body or summary when
// it has one), taken as a whole: one publication, one language. A summary the translation
// lacks is left empty, so that Excerpt derives it from the translated body. Otherwise the
// item is unchanged.
func (it Item) In(locale string) Item {
	t, ok := it.Translations[locale]
	if !ok || locale == it.Locale || !showable(t) || !complete(t, Text{Title: it.Title, BodyHTML: it.BodyHTML, Summary: it.Summary}) {
		return it
	}
	it.Title, it.BodyHTML, it.Summary = t.Title, t.BodyHTML, t.Summary
	it.Locale = locale
	return it
}

// Expired reports whether the item is past its expiry at now.
func (it Item) Expired(now time.Time) bool {
	return !it.Expires.IsZero() && !now.Before(it.Expires)
}
