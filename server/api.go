package server

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/spencer-signage/signage/server/feed"
	"github.com/spencer-signage/signage/server/news"
)

// feedCacheControl lets intranet proxies and readers reuse a feed briefly, serve it stale
// while they revalidate, and keep serving it if we fail (RFC 5861). A feed that needed an
// access key is stored by no cache (keyedCacheControl); its reader keeps the ETag.
const feedCacheControl = "public, max-age=30, stale-while-revalidate=60, stale-if-error=86400"

var (
	cacheControlHeader = []string{feedCacheControl}
	varyEncoding       = []string{"Accept-Encoding"}
	gzipHeader         = []string{"gzip"}
)

// handleFeed serves the bytes encoded once per change: gzip when the reader accepts it,
// each encoding with its own strong ETag, and 304 when the reader has it, by ETag
// (If-None-Match) or, for readers that only keep the date, by Last-Modified.
func (s *Server) handleFeed(kind feed.Kind) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		raw := queryValue(r.URL.RawQuery, "userlist")
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
		ct := s.content(r.Context(), ul)
		if ct == nil {
			c.Response().Header().Set("Retry-After", "10")
			return errorf(http.StatusServiceUnavailable, "No answer from Spencer yet for this userlist; try again shortly.")
		}
		if ct.State == news.StateUnknown {
			return errorf(http.StatusNotFound, "Spencer does not know this userlist.")
		}
		key := feedKey{kind: kind}
		if s.cfg.Server.PublicURL == "" {
			key.https, key.host = s.scheme(c) == "https", r.Host
		}
		annVersion := s.announcements.version.Load()
		f, err := ct.Feed(key, func() feedAnnouncements {
			return feedAnnouncements{list: s.announcements.forUserlist(ct.Userlist), version: annVersion}
		}, annVersion, func() string { return s.baseURL(c) })
		if err != nil {
			return err
		}
		// Headers are assigned from slices prepared with the bytes: no allocation here.
		body, etag, length := f.body, f.etagHeader, f.lengthHeader
		h := c.Response().Header()
		gz := acceptsGzip(r)
		if gz {
			body, etag, length = f.gz, f.gzETagHeader, f.gzLengthHeader
		}
		h["Etag"] = etag
		if len(s.cfg.Server.AccessKeys) == 0 {
			h["Cache-Control"] = cacheControlHeader
		}
		if _, ok := h["Vary"]; !ok {
			h["Vary"] = varyEncoding
		}
		modified, lastModified := ct.Modified, ct.lastModified()
		if at := s.announcements.changedAt(); kind == feed.JSON && at.After(modified) {
			// The JSON feed carries the announcements: it changed when they did.
			modified, lastModified = at, []string{at.UTC().Format(http.TimeFormat)}
		}
		h["Last-Modified"] = lastModified
		if notModified(r, etag[0], modified) {
			return c.NoContent(http.StatusNotModified)
		}
		if gz {
			h["Content-Encoding"] = gzipHeader
		}
		h["Content-Type"] = f.contentTypeHeader
		h["Content-Length"] = length
		c.Response().WriteHeader(http.StatusOK)
		_, err = c.Response().Write(body)
		return err
	}
}

// queryValue is url.Values.Get of the query string raw, without parsing all of it into a
// map first as echo's QueryParam does: the first value of key, "" when there is none.
// Pairs are skipped as url.ParseQuery skips them (a semicolon, a bad escape).
func queryValue(raw, key string) string {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" || strings.Contains(pair, ";") {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, err := url.QueryUnescape(k) // allocates only when there is something to unescape
		if err != nil || k != key {
			continue
		}
		if v, err = url.QueryUnescape(v); err == nil {
			return v
		}
	}
	return ""
}

// notModified applies the preconditions of a GET (RFC 9110, 13.2.2): If-None-Match when
// the reader sent one, else If-Modified-Since against the content's last change.
func notModified(r *http.Request, etag string, modified time.Time) bool {
	if inm := firstValue(r.Header, "If-None-Match"); inm != "" {
		return etagMatches(inm, etag)
	}
	ims := firstValue(r.Header, "If-Modified-Since")
	if ims == "" || modified.IsZero() {
		return false
	}
	t, err := http.ParseTime(ims)
	return err == nil && !modified.Truncate(time.Second).After(t)
}

// baseURL is the absolute base for links: public_url, else the scheme the client used
// (as a trusted proxy reports it) and the request's host.
func (s *Server) baseURL(c echo.Context) string {
	if s.cfg.Server.PublicURL != "" {
		return s.cfg.Server.PublicURL
	}
	return s.scheme(c) + "://" + c.Request().Host
}

// acceptsGzip reports whether Accept-Encoding allows gzip (and does not refuse it with q=0).
func acceptsGzip(r *http.Request) bool {
	for part := range strings.SplitSeq(firstValue(r.Header, "Accept-Encoding"), ",") {
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
