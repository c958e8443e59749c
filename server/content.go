package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/spencer-signage/signage/spencerclient"
	"github.com/spencer-signage/signage/views"
)

// Content is what one userlist shows at one moment: its items, their version (a hash of
// what a screen shows) and everything rendered from them. It is built once per change on
// the poller's side and then only read: requests and broadcasts serve its bytes.
type Content struct {
	UserlistID string
	Name       string
	Locale     string
	Version    string
	State      views.DeckState
	Items      []spencerclient.Item // visible items, in display order
	All        []spencerclient.Item // as fetched, expired ones included, for re-filtering
	FetchedAt  time.Time            // when upstream sent this version
	Stale      bool
	StaleSince time.Time
	// Modified is when what readers get last changed: the fetch of this version, or the
	// moment the stale flag or the visible items changed. Feeds send it as Last-Modified.
	Modified time.Time

	deck           *renderedDeck // shared by every Content of the same version
	feeds          *feedCache    // per stale flag: the feeds carry it
	modifiedHeader []string      // Modified as a Last-Modified value, formatted once
}

// renderedDeck holds the screen and embed fragments of one version, in the default locale
// and, lazily, in the others asked for.
type renderedDeck struct {
	def *langDeck // the default locale

	mu    sync.Mutex
	langs map[string]*langDeck
}

type langDeck struct {
	deckHTML  []byte
	embedHTML []byte
	deckMsg   *websocket.PreparedMessage
}

// maxLangs bounds the locales rendered per version; others get the default locale.
const maxLangs = 8

var langPattern = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}$`)

// buildContent renders the content of a userlist from the items upstream sent.
func buildContent(id, name, locale string, all []spencerclient.Item, state views.DeckState, fetchedAt, now time.Time) (*Content, error) {
	c := &Content{UserlistID: id, Name: name, Locale: locale, State: state, All: all, FetchedAt: fetchedAt}
	c.setModified(fetchedAt)
	for _, it := range all {
		if !it.Expired(now) {
			c.Items = append(c.Items, it)
		}
	}
	if c.State == views.DeckItems && len(c.Items) == 0 {
		c.State = views.DeckEmpty
	}
	c.Version = contentVersion(c.State, c.Items)
	deck, err := renderDeck(c)
	if err != nil {
		return nil, err
	}
	c.deck = deck
	c.feeds = newFeedCache()
	return c, nil
}

// withStale returns a copy of c with the stale flag changed at now; the rendered deck is
// shared.
func (c *Content) withStale(stale bool, since, now time.Time) *Content {
	cp := *c
	cp.Stale, cp.StaleSince = stale, since
	cp.setModified(now)
	cp.feeds = newFeedCache()
	return &cp
}

// refiltered drops the items that expired since c was built; it returns c itself when
// nothing a screen shows changed.
func (c *Content) refiltered(now time.Time) (*Content, error) {
	n, err := buildContent(c.UserlistID, c.Name, c.Locale, c.All, c.State, c.FetchedAt, now)
	if err != nil {
		return nil, err
	}
	if n.Version == c.Version {
		return c, nil
	}
	return n.withStale(c.Stale, c.StaleSince, now), nil
}

// lastModified is Modified as a Last-Modified header value.
func (c *Content) lastModified() []string { return c.modifiedHeader }

func (c *Content) setModified(t time.Time) {
	c.Modified, c.modifiedHeader = t, nil
	if !t.IsZero() {
		c.modifiedHeader = []string{t.UTC().Format(http.TimeFormat)}
	}
}

// Title names the userlist for people: its configured name, else its id.
func (c *Content) Title() string {
	if c.Name != "" {
		return c.Name
	}
	return "Userlist " + c.UserlistID
}

// contentVersion hashes what a screen shows, so that a poll with no real change keeps the
// version and no screen hears of it.
func contentVersion(state views.DeckState, items []spencerclient.Item) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n", state)
	enc := json.NewEncoder(h)
	for _, it := range items {
		it.Raw = nil
		enc.Encode(it) //nolint:errcheck // hashing cannot fail
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// viewHeader is the view model of c without its slides.
func (c *Content) viewHeader(lang string) views.Deck {
	d := views.Deck{
		UserListID: c.UserlistID,
		Name:       c.Name,
		Version:    c.Version,
		State:      c.State,
		FetchedAt:  c.FetchedAt,
		Lang:       c.Locale,
	}
	if lang != "" {
		d.Lang = lang
	}
	return d
}

// viewDeck is the view model of c in locale lang ("" for the default).
func (c *Content) viewDeck(lang string) views.Deck {
	d := c.viewHeader(lang)
	for _, it := range c.Items {
		if lang != "" {
			it = it.In(lang)
		}
		s := views.Slide{
			ID:        it.ID,
			Title:     it.Title,
			Summary:   it.Excerpt(320),
			BodyHTML:  it.BodyHTML,
			ImageURL:  it.ImageURL,
			Link:      it.Link,
			Published: it.Published,
			Author:    it.Author,
			Pinned:    it.Pinned,
		}
		if it.Link != "" {
			s.QR = views.QRCode(it.Link)
		}
		d.Slides = append(d.Slides, s)
	}
	return d
}

func renderDeck(c *Content) (*renderedDeck, error) {
	ld, err := renderLang(c, "")
	if err != nil {
		return nil, err
	}
	return &renderedDeck{def: ld, langs: map[string]*langDeck{}}, nil
}

func renderLang(c *Content, lang string) (*langDeck, error) {
	d := c.viewDeck(lang)
	var deck, embed bytes.Buffer
	if err := views.DeckSlides(d).Render(context.Background(), &deck); err != nil {
		return nil, fmt.Errorf("render deck of %s: %w", c.UserlistID, err)
	}
	if err := views.EmbedList(d, 0).Render(context.Background(), &embed); err != nil {
		return nil, fmt.Errorf("render embed of %s: %w", c.UserlistID, err)
	}
	msg, err := json.Marshal(deckMessage{Type: "deck", Version: c.Version, HTML: deck.String()})
	if err != nil {
		return nil, err
	}
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, msg)
	if err != nil {
		return nil, err
	}
	return &langDeck{deckHTML: deck.Bytes(), embedHTML: embed.Bytes(), deckMsg: pm}, nil
}

// forLang returns the deck in lang, rendering and keeping it on first use. An unknown or
// malformed lang, or one past the limit, gets the default locale.
func (c *Content) forLang(lang string) *langDeck {
	def := c.deck.def
	if lang == "" || lang == c.Locale || !langPattern.MatchString(lang) || !c.hasLang(lang) {
		return def
	}
	c.deck.mu.Lock()
	defer c.deck.mu.Unlock()
	if ld, ok := c.deck.langs[lang]; ok {
		return ld
	}
	if len(c.deck.langs) >= maxLangs {
		return def
	}
	ld, err := renderLang(c, lang)
	if err != nil {
		return def
	}
	c.deck.langs[lang] = ld
	return ld
}

func (c *Content) hasLang(lang string) bool {
	for _, it := range c.Items {
		if _, ok := it.Translations[lang]; ok {
			return true
		}
	}
	return false
}

// DeckHTML is the screen fragment in lang.
func (c *Content) DeckHTML(lang string) []byte { return c.forLang(lang).deckHTML }

// EmbedHTML is the embed fragment in lang.
func (c *Content) EmbedHTML(lang string) []byte { return c.forLang(lang).embedHTML }

// DeckMessage is the WebSocket deck message in lang, prepared once for all screens.
func (c *Content) DeckMessage(lang string) *websocket.PreparedMessage {
	return c.forLang(lang).deckMsg
}

// deckMessage is the `deck` message of SPEC 6.1.
type deckMessage struct {
	Type    string `json:"type"`
	Version string `json:"version"`
	HTML    string `json:"html"`
}

// statusMessage is the `status` message of SPEC 6.1.
type statusMessage struct {
	Type  string `json:"type"`
	Stale bool   `json:"stale"`
	Since string `json:"since,omitempty"`
}
