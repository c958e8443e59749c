package server

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// routes declares every route of the product (SPEC 6) in one place.
func (s *Server) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.handleError
	e.Use(s.logRequests, s.metrics.countRequests, s.securityHeaders)

	e.GET("/", s.handleIndex)
	e.GET("/healthz", s.handleHealthz)
	e.GET("/readyz", s.handleReadyz)
	e.GET("/favicon.ico", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	e.GET("/sw.js", s.handleServiceWorker)
	e.GET("/static/*", echo.WrapHandler(s.static))
	if s.opts.DemoImages != nil {
		e.GET(DemoImagesPath+"/:name", echo.WrapHandler(s.opts.DemoImages))
	}

	screens := e.Group("", s.requireAccessKey)
	screens.GET("/screens/:id", s.handleScreen)
	screens.GET("/screens/:id/ws", s.handleScreenWS)
	screens.GET("/screens/:id/deck", s.handleScreenDeck)
	screens.GET("/embed/:id", s.handleEmbed)
	screens.GET("/embed/:id/fragment", s.handleEmbedFragment)

	api := e.Group("/api", s.cors, s.requireAccessKey)
	api.GET("/feed.json", s.handleFeed(feedJSON))
	api.GET("/feed.rss", s.handleFeed(feedRSS))
	api.GET("/feed.atom", s.handleFeed(feedAtom))
	api.OPTIONS("/*", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })

	admin := e.Group("", s.requireAdmin)
	admin.GET("/metrics", echo.WrapHandler(s.metrics.handler()))
	admin.GET("/admin", s.handleAdmin)
	admin.GET("/admin/status.json", s.handleAdminStatus)
	admin.POST("/admin/reload", s.handleAdminReload)
	admin.POST("/admin/fetch", s.handleAdminFetch)

	s.metrics.routes = map[string]bool{}
	for _, r := range e.Routes() {
		s.metrics.routes[r.Path] = true
	}
	return e
}
