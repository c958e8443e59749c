package server

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/spencer-signage/signage/views"
)

// feedCacheControl lets intranet proxies and readers reuse a feed briefly, serve it stale
// while they revalidate, and keep serving it if we fail (RFC 5861).
const feedCacheControl = "public, max-age=30, stale-while-revalidate=60, stale-if-error=86400"

var (
	cacheControlHeader = []string{feedCacheControl}
	varyEncoding       = []string{"Accept-Encoding"}
	gzipHeader         = []string{"gzip"}
)

// handleFeed serves the bytes encoded once per change: gzip when the reader accepts it,
// each encoding with its own strong ETag, 304 when the reader has it.
func (s *Server) handleFeed(kind feedKind) echo.HandlerFunc {
	return func(c echo.Context) error {
		raw := c.QueryParam("userlist")
		if raw == "" {
			raw = s.cfg.Screens.DefaultUserlist
		}
		if raw == "" {
			return errorf(http.StatusBadRequest, "No userlist: add ?userlist=<userListId>, or set screens.default_userlist.")
		}
		if !IsUUID(strings.ToLower(raw)) {
			return errorf(http.StatusBadRequest, "userlist must be a UUID.")
		}
		ul, err := s.userlist(raw)
		if err != nil {
			return err
		}
		ct := content(c.Request().Context(), ul)
		if ct == nil {
			c.Response().Header().Set("Retry-After", "10")
			return errorf(http.StatusServiceUnavailable, "No answer from Spencer yet for this userlist; try again shortly.")
		}
		if ct.State == views.DeckUnknown {
			return errorf(http.StatusNotFound, "Spencer does not know this userlist.")
		}
		key := feedKey{kind: kind}
		if s.cfg.Server.PublicURL == "" {
			key.https, key.host = c.IsTLS() || c.Scheme() == "https", c.Request().Host
		}
		f, err := ct.Feed(key, func() string { return s.baseURL(c) })
		if err != nil {
			return err
		}
		// Headers are assigned from slices prepared with the bytes: no allocation here.
		body, etag := f.body, f.etagHeader
		h := c.Response().Header()
		gz := acceptsGzip(c.Request())
		if gz {
			body, etag = f.gz, f.gzETagHeader
		}
		h["Etag"] = etag
		h["Cache-Control"] = cacheControlHeader
		if _, ok := h["Vary"]; !ok {
			h["Vary"] = varyEncoding
		}
		if etagMatches(c.Request().Header.Get("If-None-Match"), etag[0]) {
			return c.NoContent(http.StatusNotModified)
		}
		if gz {
			h["Content-Encoding"] = gzipHeader
		}
		h["Content-Type"] = f.contentTypeHeader
		c.Response().WriteHeader(http.StatusOK)
		_, err = c.Response().Write(body)
		return err
	}
}

// baseURL is the absolute base for links: public_url, else the request's scheme and host.
func (s *Server) baseURL(c echo.Context) string {
	if s.cfg.Server.PublicURL != "" {
		return s.cfg.Server.PublicURL
	}
	return c.Scheme() + "://" + c.Request().Host
}

// acceptsGzip reports whether Accept-Encoding allows gzip (and does not refuse it with q=0).
func acceptsGzip(r *http.Request) bool {
	for part := range strings.SplitSeq(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			q := strings.ReplaceAll(params, " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

// etagMatches implements If-None-Match's weak comparison against a strong ETag.
func etagMatches(header, etag string) bool {
	if header == "" {
		return false
	}
	for cand := range strings.SplitSeq(header, ",") {
		cand = strings.TrimPrefix(strings.TrimSpace(cand), "W/")
		if cand == etag || cand == "*" {
			return true
		}
	}
	return false
}
