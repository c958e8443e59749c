// Package views renders the product's pages with templ. It only renders what it is handed:
// it knows nothing of Spencer, echo or the poller.
package views

import "time"

// DeckState says what a deck holds.
type DeckState string

const (
	DeckItems   DeckState = "items"   // one or more slides
	DeckEmpty   DeckState = "empty"   // upstream answered with no (visible) items
	DeckUnknown DeckState = "unknown" // upstream does not know this userlist (404/403)
	DeckLoading DeckState = "loading" // no answer from upstream yet, nothing on disk
)

// Deck is the content of one userlist as shown on a screen or in an embed.
type Deck struct {
	UserListID string
	Name       string // the configured name, or "" for an on-demand userlist
	Version    string // content hash; changes only when the content does
	State      DeckState
	Slides     []Slide
	FetchedAt  time.Time // when upstream last answered; zero when never
	Locale     Locale    // how the texts we add and the dates speak
}

// Slide is one item as a slide. Title, Summary and Author are plain text; BodyHTML is
// sanitized HTML; Link is an absolute http(s) URL or empty. ImageURL is the image's URL,
// or empty: its own host's when the server does not keep the images, else our own
// (/media/…), with ImageSrcset listing every width kept and ImageWidth × ImageHeight
// the picture's size.
type Slide struct {
	ID       string
	Lang     string // the publication's own locale, when known: a slide may be untranslated
	Title    string
	Summary  string
	BodyHTML string
	ImageURL string
	// ImageSrcset is the srcset of the kept widths ("/media/…-640.jpg 640w, …"), "" when
	// the image is its host's; ImageWidth and ImageHeight are then 0.
	ImageSrcset string
	ImageWidth  int
	ImageHeight int
	Link        string
	QR          *QR // nil when the item has no link
	Published   time.Time
	Author      string
	Pinned      bool
}

// QR is a QR code drawn as one SVG path, in module units, quiet zone included.
type QR struct {
	Size int    // modules per side, quiet zone included (the SVG viewBox is 0 0 Size Size)
	Path string // SVG path data, one "M x y h1 v1 h-1 z" square (or run) per dark module
}

// Options are the query parameters of the screen and embed pages.
type Options struct {
	Theme     string // "dark" or "light"
	Interval  int    // seconds per slide
	Lang      string // the screen's locale: ?lang=, else the configured one
	QR        bool
	Clock     bool
	Limit     int    // embed only: at most this many headlines, 0 for all
	Key       string // access key to carry on to the WebSocket and fetches, "" when none
	QuietHour int    // hour (0-23) of the nightly reload in screens.time_zone, -1 for none
}

// Assets are the content-hashed URLs of the static files a page links.
type Assets struct {
	CSS      string
	ScreenJS string
	EmbedJS  string
	IndexJS  string
	AdminJS  string
	PairCSS  string
	PairJS   string
}

// PairPage is the pairing view of a kiosk the server does not know yet.
type PairPage struct {
	Card   PairView
	Assets Assets
	Build  string // the page reloads when the server has something else to show it
	Device string // the kiosk's id, for the page to keep
	Lang   string // ?lang=, carried on to the page's requests
}

// PairView is what the pairing view shows.
type PairView struct {
	Code    string // K7M3Q9
	Host    string // the server's name: public_url's host, or the request's
	QR      *QR    // to /admin's pairing form with the code filled in
	RenewIn int    // milliseconds until the page asks for the code that replaces this one
	Locale  Locale
}

// ScreenPage is the full-screen kiosk page.
type ScreenPage struct {
	Deck       Deck
	DeckHTML   string // DeckSlides(Deck) rendered once per change by the server; used instead of Deck.Slides when set
	Options    Options
	Assets     Assets
	Build      string    // server build id; a screen reloads when it changes
	Stale      bool      // upstream is failing; the deck is the last good one
	StaleSince time.Time // when upstream started failing
	// StaleMarkerAfter is how long data must be stale before the screen shows its discreet
	// "last updated" marker, in seconds.
	StaleMarkerAfter int
	Demo             bool // the server shows its built-in demo content: the screen says so
	// AnnouncementsHTML is Announcements(...) for this screen's userlist and language,
	// rendered by the server; Quiet says that the screen is in its quiet hours now.
	AnnouncementsHTML    string
	AnnouncementsVersion string // names them; "" for none
	Quiet                bool
	// Now is the server's time as it renders the page, in screens.time_zone.
	Now time.Time
	// Base is where the page's WebSocket and polls go ("" for /screens/{id}), and Device
	// the kiosk's id for the page to keep: set for a screen managed from /admin.
	Base, Device string
}

// EmbedPage is the compact widget for iframes.
type EmbedPage struct {
	Deck     Deck
	ListHTML string // EmbedList(Deck, 0) rendered once per change by the server; used when set (limit applied by embed.js)
	Options  Options
	Assets   Assets
	Build    string
	Demo     bool // the server shows its built-in demo content: the widget says so
	// AnnouncementsHTML is EmbedAnnouncements(...) for this userlist and language.
	AnnouncementsHTML string
}

// UserlistLink is one userlist on the start page.
type UserlistLink struct {
	ID         string
	Name       string
	Configured bool // listed in config.toml, as opposed to seen on demand
	Items      int
	Stale      bool
	Unknown    bool
}

// IndexPage is the start page.
type IndexPage struct {
	BaseURL   string // absolute base for snippets, e.g. "http://host:8080"
	Userlists []UserlistLink
	Default   string // default userlist id, or ""
	Demo      bool
	Assets    Assets
	KeyHint   bool // access keys are on: snippets show a ?key= placeholder
}

// ErrorPage is a plain page for a 4xx or 5xx on a browser route.
type ErrorPage struct {
	Status  int
	Title   string
	Message string
	Assets  Assets
}

// Announcement is one of the operator's announcements as screens and embeds show it.
// Title and Text are plain text.
type Announcement struct {
	ID, Title, Text string
	Urgent          bool
}
