package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/spencer-signage/signage/server/feed"
	"github.com/spencer-signage/signage/server/news"
)

// getAndHead are the methods of every read route: uptime monitors and link checkers send
// HEAD, which must answer as GET does, without the body (RFC 9110, 9.3.2).
var getAndHead = []string{http.MethodGet, http.MethodHead}

// routes declares every route of the product in one place. Guards (access keys, the admin
// check, CORS) are attached to the routes they protect, never to a path prefix: a prefix
// group would make echo answer every unknown path through the guard, with 401 or 403
// instead of 404.
func (s *Server) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = s.clientIP
	e.Use(s.observed())

	get := func(path string, h echo.HandlerFunc, guards ...echo.MiddlewareFunc) {
		e.Match(getAndHead, path, guarded(h, guards...))
	}
	get("/", s.handleIndex)
	get("/healthz", s.handleHealthz)
	get("/readyz", s.handleReadyz)
	get("/favicon.ico", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	get("/sw.js", s.handleServiceWorker)
	get("/static/*", echo.WrapHandler(s.static))
	if s.opts.DemoImages != nil {
		get(DemoImagesPath+"/:name", echo.WrapHandler(s.opts.DemoImages))
	}
	if s.media != nil {
		// Open to all, access keys or not: a name is 128 bits of the picture's hash, known
		// only from a page or feed that needed the key, and an <img> or the service worker
		// could not carry one.
		get(MediaPath+"/:name", s.handleMedia)
	}

	keyed := s.requireAccessKey
	get("/screens/:id", s.handleScreen, keyed)
	get("/screens/:id/ws", s.handleScreenWS, keyed)
	get("/screens/:id/deck", s.handleScreenDeck, keyed)
	get("/embed/:id", s.handleEmbed, keyed)
	get("/embed/:id/fragment", s.handleEmbedFragment, keyed)

	// A kiosk's short address: the pairing view, or the screen it is set up as. The
	// pairing is what lets a kiosk at /s in; /s/{slug}, which anyone may type, needs an
	// access key as /screens/ does.
	get("/s", s.handleKiosk)
	get("/s/ws", s.handleKioskWS)
	get("/s/deck", s.handleKioskDeck)
	get("/s/:slug", s.handleKiosk, keyed)
	get("/s/:slug/ws", s.handleKioskWS, keyed)
	get("/s/:slug/deck", s.handleKioskDeck, keyed)

	preflight := func(c echo.Context) error { return c.NoContent(http.StatusNoContent) }
	for path, kind := range map[string]feed.Kind{"/api/feed.json": feed.JSON, "/api/feed.rss": feed.RSS, "/api/feed.atom": feed.Atom} {
		get(path, s.handleFeed(kind), s.cors, keyed)
		e.OPTIONS(path, guarded(preflight, s.cors))
	}

	admin := s.requireAdmin
	get("/metrics", echo.WrapHandler(s.metrics.handler()), admin)
	get("/admin", s.handleAdmin, admin)
	get("/admin/status.json", s.handleAdminStatus, admin)
	e.POST("/admin/reload", s.handleAdminReload, admin)
	e.POST("/admin/fetch", s.handleAdminFetch, admin)
	get("/admin/announcements", s.handleListAnnouncements, admin)
	e.POST("/admin/announcements", s.handlePostAnnouncement, admin)
	e.DELETE("/admin/announcements/:id", s.handleDeleteAnnouncement, admin)
	// A form cannot send DELETE: the status page's "End" button posts here.
	e.POST("/admin/announcements/:id/end", s.handleDeleteAnnouncement, admin)
	get("/admin/screens", s.handleListScreens, admin)
	e.POST("/admin/screens", s.handlePairScreen, admin)
	e.PATCH("/admin/screens/:id", s.handleEditScreen, admin)
	e.DELETE("/admin/screens/:id", s.handleUnpair, admin)
	// The status page's forms: the edit form, and the buttons of each screen.
	e.POST("/admin/screens/:id", s.handleEditScreen, admin)
	e.POST("/admin/screens/:id/unpair", s.handleUnpair, admin)
	e.POST("/admin/screens/:id/identify", s.handleScreenCommand(news.CommandIdentify), admin)
	e.POST("/admin/screens/:id/reload", s.handleScreenCommand(news.CommandReload), admin)

	s.metrics.routes = map[string]bool{}
	for _, r := range e.Routes() {
		s.metrics.routes[r.Path] = true
	}
	return e
}

// guarded wraps h in its guards, the first outermost, as echo would; but echo wraps a
// route's handler anew on every request, and this is done once.
func guarded(h echo.HandlerFunc, guards ...echo.MiddlewareFunc) echo.HandlerFunc {
	for i := len(guards) - 1; i >= 0; i-- {
		h = guards[i](h)
	}
	return h
}
