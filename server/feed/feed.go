// Package feed writes the news of one userlist in the standard feed formats: JSON Feed
// 1.1 (https://jsonfeed.org/version/1.1) with the product's _signage extension, RSS 2.0
// and Atom (RFC 4287), with ids that never change. It takes plain values and returns
// bytes: caching, validators (ETag, Last-Modified) and compression are the HTTP side's.
package feed

import (
	"fmt"
	"time"

	"github.com/spencer-signage/signage/spencerclient"
)

// Kind is one of the feed formats.
type Kind int

// The formats.
const (
	JSON Kind = iota // JSON Feed 1.1
	RSS              // RSS 2.0
	Atom             // Atom, RFC 4287
)

var mediaTypes = [...]string{
	JSON: "application/feed+json; charset=utf-8",
	RSS:  "application/rss+xml; charset=utf-8",
	Atom: "application/atom+xml; charset=utf-8",
}

// MediaType is the Content-Type of the format.
func (k Kind) MediaType() string { return mediaTypes[k] }

// Feed is what a feed says of one userlist.
type Feed struct {
	Userlist string
	Title    string // the userlist's name for people
	Locale   string
	// Home is the userlist's screen: the feed's link, and an item's when it has none.
	Home string
	// Self is this feed's own absolute address; "" when it is not known, and then a JSON
	// feed names neither itself nor its home page.
	Self      string
	Items     []spencerclient.Item // in display order
	FetchedAt time.Time            // when upstream sent these items; zero when it never did
	Stale     bool                 // upstream fails, and these are the last good items
	Version   string               // of the items, as screens know it
	// Announcements are the active announcements shown with this userlist; only the JSON
	// feed carries them.
	Announcements []Announcement
	IDs           IDs // the permanent ids of Atom
}

// Announcement is an active announcement as the JSON feed carries it.
type Announcement struct {
	ID        string    `json:"id"`
	Title     string    `json:"title,omitempty"`
	Text      string    `json:"text"`
	Severity  string    `json:"severity"`
	ExpiresAt time.Time `json:"expires_at"`
}

// generator names us in RSS and Atom.
const generator = "spencer-signage"

// Encode writes f in the format k.
func Encode(k Kind, f Feed) ([]byte, error) {
	var b []byte
	var err error
	switch k {
	case JSON:
		b, err = encodeJSON(f)
	case RSS:
		b, err = encodeRSS(f)
	case Atom:
		b, err = encodeAtom(f)
	default:
		return nil, fmt.Errorf("feed kind %d", k)
	}
	if err != nil {
		return nil, fmt.Errorf("encode feed of %s: %w", f.Userlist, err)
	}
	return b, nil
}

// itemLink is where an item leads: its article, else the userlist's screen.
func itemLink(it spencerclient.Item, home string) string {
	if it.Link != "" {
		return it.Link
	}
	return home
}
