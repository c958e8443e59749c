package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spencer-signage/signage/server/feed"
	"github.com/spencer-signage/signage/server/media"
	"github.com/spencer-signage/signage/server/news"
	"github.com/spencer-signage/signage/server/screens"
	"github.com/spencer-signage/signage/views"
)

// Edition is one content of a userlist as this server serves it: the news and what is
// rendered from it, once, whoever asks: the screen and embed fragments, the WebSocket deck
// message, the feeds. An edition whose content differs from the previous one only by its
// stale flag shares that one's rendered deck.
type Edition struct {
	*news.Content
	// Version names what the screens are shown: the content's version, or with the
	// media library, that version with each item's picture in place of its image URL (a
	// new edition of the same content follows a picture's arrival).
	Version string

	media    *media.Library  // nil with media.proxy = false
	pictures []media.Picture // of each visible item, from the media library; nil without
	mediaKey string          // names pictures
	mediaGen atomic.Uint64   // the library's generation when pictures were asked

	deck           *renderedDeck  // shared by every edition of the same version
	feeds          *feedCache     // per edition: the JSON feed carries the stale flag
	feedIDs        feed.IDs       // the permanent ids of its Atom feed
	modifiedHeader []string       // Content.Modified as a Last-Modified value
	loc            *time.Location // screens.time_zone: the slides' dates are its days
}

// renderedDeck holds the screen and embed fragments of one version: in the configured
// locale and, rendered on first use, in each other language screens ask for, every
// rendering shared by all the screens that speak it.
type renderedDeck struct {
	def *langDeck // the configured locale

	mu       sync.Mutex
	rendered map[deckLang]*langDeck
	// byLocale remembers which rendering a screen's locale gets, so that a broadcast to
	// many screens matches each locale once.
	byLocale map[string]*langDeck
}

// deckLang is what makes two renderings of one version differ: the locale the words we
// add and the dates are written in, and the translation the publications are shown in (""
// for the configured locale's text). Many locales share one: nl-BE and nl-NL differ only
// when a publication is translated into one of them.
type deckLang struct {
	format  string
	content string
}

type langDeck struct {
	deckHTML  []byte
	embedHTML []byte
	deckMsg   *screens.Message
}

// maxLangs bounds the renderings per version, and maxLocales the locales remembered;
// past them a screen gets the configured locale. Locales that render alike share one
// rendering, so only screens asking for many translations of one userlist come near.
const (
	maxLangs   = 8
	maxLocales = 64
)

var langPattern = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}$`)

// editions keeps the current edition of each userlist, so that a version is rendered once
// however many requests and broadcasts need it.
type editions struct {
	log     *slog.Logger
	feedIDs feed.IDs       // of the feeds of every edition
	media   *media.Library // nil with media.proxy = false
	loc     *time.Location // screens.time_zone

	current   sync.Map   // userlist id -> *Edition; read without a lock on every request
	announced sync.Map   // userlist id -> *Edition the screens were last told of
	mu        sync.Mutex // held while rendering
	n         int        // entries in current
}

// announce records e as what the screens of its userlist are told now, and returns what
// they were told before (nil: nothing yet).
func (es *editions) announce(e *Edition) *Edition {
	prev, _ := es.announced.Swap(e.Userlist, e)
	p, _ := prev.(*Edition)
	return p
}

// maxEditions bounds the editions kept; beyond it, those of userlists no longer polled
// are dropped (an on-demand userlist read once, months ago).
const maxEditions = 256

// of returns the edition of c, rendering it on first use. A render that fails (it should
// not: the components only render what they are given) keeps the previous edition.
func (es *editions) of(c *news.Content, active func(string) bool) *Edition {
	if c == nil {
		return nil
	}
	if e, ok := es.current.Load(c.Userlist); ok && es.fresh(e.(*Edition), c) {
		return e.(*Edition)
	}
	es.mu.Lock()
	defer es.mu.Unlock()
	var prev *Edition
	if e, ok := es.current.Load(c.Userlist); ok {
		prev = e.(*Edition)
		if es.fresh(prev, c) {
			return prev
		}
	}
	e := &Edition{Content: c, Version: c.Version, media: es.media, feeds: newFeedCache(), feedIDs: es.feedIDs, loc: es.loc}
	if e.loc == nil {
		e.loc = time.Local
	}
	if es.media != nil {
		// The generation first: a picture that arrives while they are asked makes the next
		// request ask again.
		gen := es.media.Generation()
		if prev == nil || prev.Content != c {
			es.media.Want(c.Userlist, refsOf(c))
		}
		e.pictures, e.mediaKey = picturesOf(es.media, c)
		if prev != nil && prev.Content == c && prev.mediaKey == e.mediaKey {
			prev.mediaGen.Store(gen) // nothing this content shows changed
			return prev
		}
		e.mediaGen.Store(gen)
		e.Version = renderedVersion(c, e.pictures)
	}
	if !c.Modified.IsZero() {
		e.modifiedHeader = []string{c.Modified.UTC().Format(http.TimeFormat)}
	}
	if prev != nil && prev.Version == e.Version {
		e.deck = prev.deck
	} else {
		deck, err := renderDeck(e)
		if err != nil {
			es.log.Error("render failed", slog.String("userlist", c.Userlist), slog.Any("error", err))
			return prev
		}
		e.deck = deck
	}
	if prev == nil {
		es.n++
		if es.n > maxEditions {
			es.prune(active)
		}
	}
	es.current.Store(c.Userlist, e)
	return e
}

// fresh reports whether e is the edition of c as it stands: made of c, and of the
// pictures the media library shows now.
func (es *editions) fresh(e *Edition, c *news.Content) bool {
	return e.Content == c && (es.media == nil || e.mediaGen.Load() == es.media.Generation())
}

func (es *editions) prune(active func(string) bool) {
	es.current.Range(func(k, _ any) bool {
		if !active(k.(string)) {
			es.current.Delete(k)
			es.announced.Delete(k)
			es.n--
		}
		return true
	})
}

// lastModified is Modified as a Last-Modified header value.
func (e *Edition) lastModified() []string { return e.modifiedHeader }

// deckState is the content's state for the views.
func (e *Edition) deckState() views.DeckState { return views.DeckState(e.State) }

// viewHeader is the view model of e without its slides, for a screen in locale lang (""
// for the configured one).
func (e *Edition) viewHeader(lang string) views.Deck {
	if lang == "" {
		lang = e.Locale
	}
	return views.Deck{
		UserListID: e.Userlist,
		Name:       e.Name,
		Version:    e.Version,
		State:      e.deckState(),
		FetchedAt:  e.FetchedAt,
		Locale:     views.LocaleFor(lang),
	}
}

// viewDeck is the view model of e for a screen in locale lang ("" for the configured one):
// our words in its language, each publication in its translation when it has one.
func (e *Edition) viewDeck(lang string) views.Deck {
	d := e.viewHeader(lang)
	for i, it := range e.Items {
		if lang != "" {
			it = it.In(lang)
		}
		s := views.Slide{
			ID:        it.ID,
			Lang:      it.Locale,
			Title:     it.Title,
			Summary:   it.Excerpt(320),
			BodyHTML:  it.BodyHTML,
			ImageURL:  it.ImageURL,
			Link:      it.Link,
			Published: it.Published.In(e.loc),
			Author:    it.Author,
			Pinned:    it.Pinned,
		}
		if e.pictures != nil {
			withPictures(&s, e.pictures[i])
		}
		if it.Link != "" {
			s.QR = views.QRCode(it.Link)
		}
		d.Slides = append(d.Slides, s)
	}
	return d
}

func renderDeck(e *Edition) (*renderedDeck, error) {
	ld, err := renderLang(e, "")
	if err != nil {
		return nil, err
	}
	return &renderedDeck{
		def:      ld,
		rendered: map[deckLang]*langDeck{e.deckLang(e.Locale): ld},
		byLocale: map[string]*langDeck{e.Locale: ld},
	}, nil
}

func renderLang(e *Edition, lang string) (*langDeck, error) {
	d := e.viewDeck(lang)
	var deck, embed bytes.Buffer
	if err := views.DeckSlides(d).Render(context.Background(), &deck); err != nil {
		return nil, fmt.Errorf("render deck of %s: %w", e.Userlist, err)
	}
	if err := views.EmbedList(d, 0).Render(context.Background(), &embed); err != nil {
		return nil, fmt.Errorf("render embed of %s: %w", e.Userlist, err)
	}
	msg, err := json.Marshal(deckMessage{Type: "deck", Version: e.Version, HTML: deck.String()})
	if err != nil {
		return nil, err
	}
	return &langDeck{deckHTML: deck.Bytes(), embedHTML: embed.Bytes(), deckMsg: screens.NewMessage(msg)}, nil
}

// forLang returns the deck for a screen in locale lang, rendering and keeping it on first
// use. A malformed lang, or one past the limits, gets the configured locale.
func (e *Edition) forLang(lang string) *langDeck {
	def := e.deck.def
	if lang == "" || lang == e.Locale || !langPattern.MatchString(lang) {
		return def
	}
	e.deck.mu.Lock()
	defer e.deck.mu.Unlock()
	if ld, ok := e.deck.byLocale[lang]; ok {
		return ld
	}
	key := e.deckLang(lang)
	ld, ok := e.deck.rendered[key]
	if !ok {
		if len(e.deck.rendered) >= maxLangs {
			return def
		}
		var err error
		if ld, err = renderLang(e, lang); err != nil {
			return def
		}
		e.deck.rendered[key] = ld
	}
	if len(e.deck.byLocale) < maxLocales {
		e.deck.byLocale[lang] = ld
	}
	return ld
}

// deckLang is what the deck for a screen in locale lang is rendered in.
func (e *Edition) deckLang(lang string) deckLang {
	k := deckLang{format: views.LocaleFor(lang).Format}
	if lang != e.Locale && localeOf(lang) != localeOf(e.Locale) && e.hasLang(lang) {
		k.content = lang
	}
	return k
}

func (e *Edition) hasLang(lang string) bool {
	for _, it := range e.Items {
		if _, ok := it.Translations[lang]; ok {
			return true
		}
	}
	return false
}

// DeckHTML is the screen fragment in lang.
func (e *Edition) DeckHTML(lang string) []byte { return e.forLang(lang).deckHTML }

// EmbedHTML is the embed fragment in lang.
func (e *Edition) EmbedHTML(lang string) []byte { return e.forLang(lang).embedHTML }

// DeckMessage is the WebSocket deck message in lang, prepared once for all screens.
func (e *Edition) DeckMessage(lang string) *screens.Message {
	return e.forLang(lang).deckMsg
}

// deckMessage is the `deck` message of a screen's WebSocket.
type deckMessage struct {
	Type    string `json:"type"`
	Version string `json:"version"`
	HTML    string `json:"html"`
}

// statusMessage is the `status` message of a screen's WebSocket.
type statusMessage struct {
	Type  string `json:"type"`
	Stale bool   `json:"stale"`
	Since string `json:"since,omitempty"`
}
