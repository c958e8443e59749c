package server

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"
	"golang.org/x/text/language"

	"github.com/spencer-signage/signage/server/news"
	"github.com/spencer-signage/signage/server/screens"
	"github.com/spencer-signage/signage/views"
)

// firstFetchWait bounds how long a page waits for the first answer about a userlist
// nobody asked for before; after it the page shows "waiting for news" and goes live.
const firstFetchWait = 5 * time.Second

// userlist validates id and returns its (now active) userlist. An id that is not a UUID,
// or one not listed while allow_any_userlist is off, is a 404 and never reaches upstream.
func (s *Server) userlist(raw string) (*news.Userlist, error) {
	id := strings.ToLower(raw)
	if !IsUUID(id) {
		return nil, errorf(http.StatusNotFound, "This address does not name a userlist: a userlist id is a UUID.")
	}
	if _, listed := s.names[id]; !listed && !s.cfg.Screens.AllowAnyUserlist {
		return nil, errorf(http.StatusNotFound, "This userlist is not configured on this server.")
	}
	ul, err := s.news.Read(id)
	if errors.Is(err, news.ErrTooManyUserlists) {
		s.log.Warn("on-demand userlist refused: screens.max_on_demand_userlists reached",
			slog.String("userlist", id), slog.Int("max", s.cfg.Screens.MaxOnDemand))
		return nil, &httpError{status: http.StatusServiceUnavailable, retryAfter: 60,
			message: "This server follows as many on-demand userlists as it may (screens.max_on_demand_userlists). This page tries again by itself; the operator can list this userlist in the configuration."}
	}
	return ul, err
}

// content waits, briefly, for a new userlist's first answer and returns the edition it
// shows (nil when there is nothing yet).
func (s *Server) content(ctx context.Context, ul *news.Userlist) *Edition {
	if c := ul.Content(); c != nil {
		return s.edition(c)
	}
	t := time.NewTimer(firstFetchWait)
	defer t.Stop()
	select {
	case <-ul.Ready():
	case <-t.C:
	case <-ctx.Done():
	}
	return s.edition(ul.Content())
}

// pageOptions reads the query parameters of the screen and embed pages. A value out of
// range falls back to the default rather than failing a kiosk's page. The screen's locale
// is ?lang=, else spencer.locale: it picks the publications' translation, and the
// language of our own words and dates (views.LocaleFor matches it to one we speak).
func (s *Server) pageOptions(c echo.Context) views.Options {
	q := c.Request().URL.Query()
	o := views.Options{
		Theme:     "dark",
		Interval:  s.cfg.Screens.SlideSeconds,
		QR:        true,
		QuietHour: s.cfg.Screens.ReloadHour,
		Key:       q.Get("key"),
	}
	if q.Get("theme") == "light" {
		o.Theme = "light"
	}
	if n, err := strconv.Atoi(q.Get("interval")); err == nil && n >= 3 && n <= 3600 {
		o.Interval = n
	}
	if o.Lang = localeOf(q.Get("lang")); o.Lang == "" {
		o.Lang = localeOf(s.cfg.Spencer.Locale)
	}
	o.QR = q.Get("qr") != "0"
	o.Clock = q.Get("clock") == "1"
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n > 0 && n <= 100 {
		o.Limit = n
	}
	if len(o.Key) > 256 {
		o.Key = ""
	}
	return o
}

func (s *Server) handleScreen(c echo.Context) error {
	ul, err := s.userlist(c.Param("id"))
	if err != nil {
		return err
	}
	return s.renderScreen(c, ul, s.pageOptions(c), screenAs{quietOff: quietOff(c)})
}

// screenAs is how a page shows a userlist: as its own address says (the zero value), or
// as a screen managed from /admin, whose settings, build and routes are its own.
type screenAs struct {
	quietOff bool
	build    string // what the page must show to stay; "": the server's build
	base     string // where the page's WebSocket and polls go; "": /screens/{id}
	device   string // a kiosk's device id, for its page to keep
	managed  string // the managed screen, and its name
	name     string
	// stale, when set, says once the page's WebSocket is registered whether the page
	// shows something else than it should by now: it then reloads.
	stale func() bool
}

func (a screenAs) buildOr(def string) string {
	if a.build != "" {
		return a.build
	}
	return def
}

// renderScreen renders the full-screen page of ul.
func (s *Server) renderScreen(c echo.Context, ul *news.Userlist, opts views.Options, as screenAs) error {
	page := views.ScreenPage{Options: opts, Assets: s.assets, Build: as.buildOr(s.build), Demo: s.opts.Demo,
		StaleMarkerAfter: int(s.cfg.Screens.StaleMarkerAfter.Seconds()),
		Quiet:            s.quietFor(as.quietOff), Base: as.base, Device: as.device}
	l := s.layer(ul.ID, opts.Lang)
	page.AnnouncementsHTML, page.AnnouncementsVersion = l.screen, l.version
	if ct := s.content(c.Request().Context(), ul); ct != nil {
		page.Deck = ct.viewHeader(opts.Lang)
		page.DeckHTML = string(ct.DeckHTML(opts.Lang))
		page.Stale, page.StaleSince = ct.Stale, ct.StaleSince
	} else {
		page.Deck = views.Deck{UserListID: ul.ID, Name: ul.Name, State: views.DeckLoading, Locale: views.LocaleFor(opts.Lang)}
	}
	page.Now = s.screenTime() // last: the page keeps the difference from the time it got it
	return s.render(c, views.Screen(page))
}

// screenTime is the server's time as screens show it: in screens.time_zone.
func (s *Server) screenTime() time.Time { return s.now().In(s.quiet.loc) }

func (s *Server) handleEmbed(c echo.Context) error {
	ul, err := s.userlist(c.Param("id"))
	if err != nil {
		return err
	}
	opts := s.pageOptions(c)
	page := views.EmbedPage{Options: opts, Assets: s.assets, Build: s.build, Demo: s.opts.Demo,
		AnnouncementsHTML: s.layer(ul.ID, opts.Lang).embed}
	if ct := s.content(c.Request().Context(), ul); ct != nil {
		page.Deck = ct.viewHeader(opts.Lang)
		page.ListHTML = string(ct.EmbedHTML(opts.Lang))
	} else {
		page.Deck = views.Deck{UserListID: ul.ID, Name: ul.Name, State: views.DeckLoading, Locale: views.LocaleFor(opts.Lang)}
	}
	return s.render(c, views.Embed(page))
}

// fragment is the answer of the polling fallback of screens and of embeds.
type fragment struct {
	Version string `json:"version"`
	HTML    string `json:"html"` // "" when the asker already shows this version
	State   string `json:"state"`
	Stale   bool   `json:"stale"`
	Since   string `json:"since,omitempty"`
	Build   string `json:"build"`
	// Announcements is the layer of announcements to show ("" for none); Quiet whether
	// the screen rests now (screens only).
	Announcements        string `json:"announcements"`
	AnnouncementsVersion string `json:"announcements_version,omitempty"`
	Quiet                bool   `json:"quiet,omitempty"`
	// Now is the server's time (milliseconds since the epoch) and Zone its zone, from which
	// a screen keeps its clock.
	Now  int64      `json:"now"`
	Zone views.Zone `json:"zone"`
}

func (s *Server) handleScreenDeck(c echo.Context) error {
	return s.serveFragment(c, (*Edition).DeckHTML, func(l *layer) string { return l.screen })
}

func (s *Server) handleEmbedFragment(c echo.Context) error {
	return s.serveFragment(c, (*Edition).EmbedHTML, func(l *layer) string { return l.embed })
}

// quietOff reports whether a screen opted out of the quiet hours (?quiet=off).
func quietOff(c echo.Context) bool { return c.QueryParam("quiet") == "off" }

func (s *Server) serveFragment(c echo.Context, html func(*Edition, string) []byte, layerHTML func(*layer) string) error {
	ul, err := s.userlist(c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.fragmentOf(c, ul, s.pageOptions(c), screenAs{quietOff: quietOff(c)}, html, layerHTML))
}

// fragmentOf is the answer to a poll of a page that shows ul.
func (s *Server) fragmentOf(c echo.Context, ul *news.Userlist, opts views.Options, as screenAs, html func(*Edition, string) []byte, layerHTML func(*layer) string) fragment {
	l := s.layer(ul.ID, opts.Lang)
	f := fragment{Build: as.buildOr(s.build), State: string(views.DeckLoading),
		Announcements: layerHTML(l), AnnouncementsVersion: l.version, Quiet: s.quietFor(as.quietOff)}
	if ct := s.content(c.Request().Context(), ul); ct != nil {
		f.Version, f.State, f.Stale = ct.Version, string(ct.State), ct.Stale
		if ct.Stale && !ct.StaleSince.IsZero() {
			f.Since = ct.StaleSince.UTC().Format(time.RFC3339)
		}
		if c.QueryParam("v") != ct.Version {
			f.HTML = string(html(ct, opts.Lang))
		}
	}
	now := s.screenTime()
	f.Now, f.Zone = now.UnixMilli(), views.ZoneAt(now)
	if h := c.Response().Header(); h.Get("Cache-Control") == "" { // a keyed one is no-store
		h.Set("Cache-Control", "no-cache")
	}
	return f
}

// handleScreenWS upgrades a screen to a WebSocket and hands it to the hub, with what it
// must be sent on connecting. The handler returns once the screen runs.
func (s *Server) handleScreenWS(c echo.Context) error {
	ul, err := s.userlist(c.Param("id"))
	if err != nil {
		return err
	}
	return s.connectScreen(c, ul, s.pageOptions(c), screenAs{quietOff: quietOff(c)})
}

// connectScreen upgrades a page that shows ul to a WebSocket and hands it to the hub, with
// what it must be sent on connecting. It returns once the screen runs.
func (s *Server) connectScreen(c echo.Context, ul *news.Userlist, opts views.Options, as screenAs) error {
	r := c.Request()
	if !websocket.IsWebSocketUpgrade(r) {
		// A HEAD or a plain GET (a link checker): answer as for any bad request, not 405.
		return errorf(http.StatusBadRequest, "This address is a screen's WebSocket: open /screens/"+ul.ID+" instead.")
	}
	addr := c.RealIP()
	if err := s.hub.Reserve(addr); err != nil {
		return errorf(http.StatusTooManyRequests, "Too many screens are connected.")
	}
	conn, err := s.upgrader.Upgrade(c.Response(), r, nil)
	if err != nil {
		s.hub.Release(addr)
		return nil // the upgrader has answered the client
	}
	c.Response().Status = http.StatusSwitchingProtocols // for the request log
	q := r.URL.Query()
	id := s.newScreenID()
	p := screens.Params{ID: id, Userlist: ul.ID, Lang: opts.Lang, Addr: addr,
		UserAgent: truncate(r.UserAgent(), 256), Version: truncate(q.Get("v"), 64),
		QuietOff: as.quietOff, Managed: as.managed, Name: as.name}
	if sid := strings.ToLower(q.Get("sid")); IsUUID(sid) {
		p.SID = sid
	}
	scr := s.hub.NewScreen(conn, p)
	// What the page may have missed while it was away: the announcements (unless it shows
	// these ones, ?a=) and the quiet hours (unless it is in that state, ?q=). Queued before
	// the screen joins the hub, so that a change broadcast from then on replaces them.
	if l := s.layer(ul.ID, opts.Lang); q.Get("a") != l.version {
		scr.QueueAnnouncements(l.msg)
	}
	if quiet := s.quietFor(scr.QuietOff); quiet != (q.Get("q") == "1") {
		scr.QueueQuiet(quietMessage(quiet))
	}
	if err := s.hub.Register(scr); err != nil {
		s.hub.Release(addr)
		conn.Close()
		return nil
	}
	s.news.Watch(ul.ID)
	build := as.buildOr(s.build)
	if q.Get("b") != "" && q.Get("b") != build || as.stale != nil && as.stale() {
		scr.QueueReload()
	} else {
		s.queueEdition(scr, ul, opts.Lang, q.Get("v"))
	}
	scr.Start()
	return nil
}

// queueEdition queues for a screen that joined the hub what ul's edition has that the
// page, showing version shown, has not. A change broadcast between reading the edition
// and queueing it would be replaced by the older deck queued after it (a newer deck
// replaces a queued one, and so does an older one), and the screen would show the old
// news until the next change: so the edition is read again once queued, and queued
// again while it moved on (a change is kept before it is broadcast).
func (s *Server) queueEdition(scr *screens.Screen, ul *news.Userlist, lang, shown string) {
	ct := s.edition(ul.Content())
	staleQueued := false
	for range 5 { // a few changes in a few microseconds is already more than a poller makes
		if ct == nil {
			return
		}
		if ct.Version != shown {
			scr.QueueDeck(ct.DeckMessage(lang), ct.Version)
			shown = ct.Version
		}
		if ct.Stale || staleQueued {
			scr.QueueStatus(statusMessageOf(ct))
			staleQueued = ct.Stale
		}
		now := s.edition(ul.Content())
		if now == ct {
			return
		}
		ct = now
	}
}

// render writes a page rendered in full into a buffer first, so an error never sends half
// a page.
func (s *Server) render(c echo.Context, page templ.Component) error {
	var buf bytes.Buffer
	if err := page.Render(c.Request().Context(), &buf); err != nil {
		return err
	}
	h := c.Response().Header()
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-cache")
	}
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	return c.HTMLBlob(http.StatusOK, buf.Bytes())
}

// localeOf is s as a locale in its canonical spelling (nl_be → nl-BE), or "" when s is
// not one.
func localeOf(s string) string {
	s = strings.ReplaceAll(s, "_", "-")
	if !langPattern.MatchString(s) {
		return ""
	}
	if t, err := language.Parse(s); err == nil {
		return t.String()
	}
	return s // well-formed, but unknown to x/text (xx): kept as asked, spoken in English
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
