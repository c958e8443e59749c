package server

import (
	"crypto/subtle"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
)

// securityHeaders returns what sets the headers every answer carries: a strict
// Content-Security-Policy (scripts and styles only from our origin, nothing inline, and
// connections only to it: see pagePolicies), and framing allowed only for /embed/ and only
// by the origins in server.embed_origins. The values are built once and shared (headers
// are only read after this): a request allocates nothing for them.
func (s *Server) securityHeaders() func(echo.Context) {
	ancestors := "'self'"
	if len(s.cfg.Server.EmbedOrigins) > 0 {
		ancestors = "'self' " + strings.Join(s.cfg.Server.EmbedOrigins, " ")
	}
	// The pages load images from our origin alone when the server keeps them; else each
	// from its own host.
	imgSrc := "img-src 'self' https: http: data:; "
	if s.media != nil {
		imgSrc = "img-src 'self' data:; "
	}
	base := "default-src 'self'; script-src 'self'; style-src 'self'; " + imgSrc +
		"worker-src 'self'; base-uri 'none'; form-action 'self'; object-src 'none'; "
	pages := newPagePolicies(base, "frame-ancestors 'none'", s.publicHost)
	embedCSP := []string{base + "connect-src 'self'; frame-ancestors " + ancestors}
	nosniff, referrer, deny := []string{"nosniff"}, []string{"strict-origin-when-cross-origin"}, []string{"DENY"}
	return func(c echo.Context) {
		h := c.Response().Header()
		h["X-Content-Type-Options"] = nosniff
		h["Referrer-Policy"] = referrer
		if strings.HasPrefix(c.Request().URL.Path, "/embed/") {
			h["Content-Security-Policy"] = embedCSP
		} else {
			h["Content-Security-Policy"] = pages.forHost(c.Request().Host)
			h["X-Frame-Options"] = deny
		}
	}
}

var varyOrigin = []string{"Origin, Accept-Encoding"}

// cors lets the origins in server.embed_origins call /api/* from their pages.
func (s *Server) cors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		origin := firstValue(c.Request().Header, "Origin")
		h := c.Response().Header()
		h["Vary"] = varyOrigin
		if origin != "" && slices.Contains(s.cfg.Server.EmbedOrigins, origin) {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Methods", "GET, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Authorization, If-None-Match")
			h.Set("Access-Control-Expose-Headers", "ETag")
			h.Set("Access-Control-Max-Age", "600")
		}
		return next(c)
	}
}

// accessRealm and adminRealm name the two protection spaces in WWW-Authenticate (RFC
// 9110, 11.6.1): the access keys of screens, embeds and feeds, and the admin token.
const (
	accessRealm = "spencer-signage"
	adminRealm  = "spencer-signage admin"
)

// keyedCacheControl is for every answer that needed an access key: a page or fragment
// that carries the key in its links and script, or a feed read with it. No cache may keep
// it, a shared one least of all: it would hand the key, or what it opens, to the next
// reader (RFC 9111, 5.2.2.3 and 5.2.2.7).
var keyedCacheControl = []string{"private, no-store"}

// requireAccessKey asks for one of server.access_keys, as ?key= or a bearer token, when
// any is configured. Keys are compared in constant time.
func (s *Server) requireAccessKey(next echo.HandlerFunc) echo.HandlerFunc {
	keys := s.cfg.Server.AccessKeys
	if len(keys) == 0 {
		return next
	}
	return func(c echo.Context) error {
		if c.Request().Method == http.MethodOptions {
			return next(c)
		}
		if !matchesAny(requestKey(c.Request()), keys) {
			return unauthorized(accessRealm, "An access key is required: add ?key=… to the address.")
		}
		c.Response().Header()["Cache-Control"] = keyedCacheControl
		return next(c)
	}
}

// requestKey is the key a request carries: a bearer token, else ?key=.
func requestKey(r *http.Request) string {
	if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(tok)
	}
	return r.URL.Query().Get("key")
}

func matchesAny(got string, keys []string) bool {
	ok := 0
	for _, k := range keys {
		ok |= subtle.ConstantTimeCompare([]byte(got), []byte(k))
	}
	return got != "" && ok == 1
}

// firstValue is Header.Get for a key already in canonical form, without canonicalizing it
// again on every request.
func firstValue(h http.Header, canonicalKey string) string {
	if v := h[canonicalKey]; len(v) > 0 {
		return v[0]
	}
	return ""
}
