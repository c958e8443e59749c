package news

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spencer-signage/signage/spencerclient"
)

// State says what a userlist's content holds.
type State string

const (
	StateItems   State = "items"   // one or more items
	StateEmpty   State = "empty"   // Spencer answered with no (visible) items
	StateUnknown State = "unknown" // Spencer does not know this userlist (404/403)
)

// Content is what one userlist shows at one moment: its items and their version (a hash of
// what a screen shows). It is made once per change and then only read; a change of the
// stale flag makes a copy.
type Content struct {
	Userlist   string               `json:"userlist"`
	Name       string               `json:"name,omitempty"`
	Locale     string               `json:"locale"`
	Version    string               `json:"version"`
	State      State                `json:"state"`
	All        []spencerclient.Item `json:"items"`      // as fetched, expired ones included, for re-filtering
	FetchedAt  time.Time            `json:"fetched_at"` // when upstream sent this version
	Stale      bool                 `json:"stale"`
	StaleSince time.Time            `json:"stale_since"`
	// Modified is when what readers get last changed: the fetch of this version, or the
	// moment the stale flag or the visible items changed.
	Modified time.Time `json:"modified"`
	// From is the instance whose poller made this content: news from another one means
	// that this instance has something to say before Spencer answered it.
	From string `json:"from,omitempty"`

	Items []spencerclient.Item `json:"-"` // visible items, in display order
}

// NewContent makes the content of a userlist from the items upstream sent at fetchedAt;
// items past their expiry at now are left out.
func NewContent(id, name, locale string, all []spencerclient.Item, state State, fetchedAt, now time.Time) *Content {
	c := &Content{Userlist: id, Name: name, Locale: locale, State: state, All: all, FetchedAt: fetchedAt, Modified: fetchedAt}
	c.derive(now)
	return c
}

// derive fills what follows from All: the visible items, the state and the version.
func (c *Content) derive(now time.Time) {
	c.Items = nil
	for _, it := range c.All {
		if !it.Expired(now) {
			c.Items = append(c.Items, it)
		}
	}
	if c.State != StateUnknown {
		c.State = StateItems
		if len(c.Items) == 0 {
			c.State = StateEmpty
		}
	}
	c.Version = Version(c.State, c.Items)
}

// WithStale returns a copy of c with the stale flag changed at now.
func (c *Content) WithStale(stale bool, since, now time.Time) *Content {
	cp := *c
	cp.Stale, cp.StaleSince, cp.Modified = stale, since, now
	return &cp
}

// Refiltered drops the items that expired since c was made; it returns c itself when
// nothing a screen shows changed.
func (c *Content) Refiltered(now time.Time) *Content {
	n := NewContent(c.Userlist, c.Name, c.Locale, c.All, c.State, c.FetchedAt, now)
	if n.Version == c.Version {
		return c
	}
	n.From = c.From
	return n.WithStale(c.Stale, c.StaleSince, now)
}

// Title names the userlist for people: its configured name, else its id.
func (c *Content) Title() string {
	if c.Name != "" {
		return c.Name
	}
	return "Userlist " + c.Userlist
}

// Same reports whether c and o say the same to readers: same version, same stale flag.
func (c *Content) Same(o *Content) bool {
	return c != nil && o != nil && c.Version == o.Version && c.Stale == o.Stale && c.StaleSince.Equal(o.StaleSince)
}

// Version hashes what a screen shows, so that a poll with no real change keeps the version
// and no screen hears of it.
func Version(state State, items []spencerclient.Item) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n", state)
	enc := json.NewEncoder(h)
	for _, it := range items {
		it.Raw = nil
		enc.Encode(it) //nolint:errcheck // hashing cannot fail
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
