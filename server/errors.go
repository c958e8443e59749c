package server

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/spencer-signage/signage/views"
)

// httpError is an error with the status and the plain message a user sees.
type httpError struct {
	status  int
	message string
	// retryAfter, in seconds, tells clients when to try again; pages then reload by
	// themselves (a kiosk showing the error page has nobody to press reload).
	retryAfter int
	// realm is the protection space a 401 asks credentials for.
	realm string
}

func (e *httpError) Error() string { return e.message }

func errorf(status int, message string) error { return &httpError{status: status, message: message} }

// unauthorized is a 401 that asks for a bearer token of realm.
func unauthorized(realm, message string) error {
	return &httpError{status: http.StatusUnauthorized, message: message, realm: realm}
}

// wantsJSON reports whether an error is answered as JSON: to the API, to scripts and
// WebSockets, and to whoever sent JSON or asks for it rather than a page (the
// announcements API, the status page's own script).
func wantsJSON(r *http.Request) bool {
	path := r.URL.Path
	if strings.HasPrefix(path, "/api/") || strings.HasPrefix(path, "/admin/announcements") || path == "/admin/status.json" ||
		r.Header.Get("Upgrade") != "" || strings.HasPrefix(path, "/admin/screens") && !isForm(r) {
		return true
	}
	if ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); strings.TrimSpace(ct) == "application/json" {
		return true
	}
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "application/json") && !strings.Contains(accept, "text/html")
}

// handleError turns any handler error into a status and a plain message: JSON
// `{"error": …}` under /api/, an HTML page elsewhere. 5xx are logged; their details are not
// shown.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, message := http.StatusInternalServerError, "Something went wrong on the server."
	var he *httpError
	var ee *echo.HTTPError
	switch {
	case errors.As(err, &he):
		status, message = he.status, he.message
	case errors.As(err, &ee):
		status = ee.Code
		message = http.StatusText(status)
		if status == http.StatusNotFound {
			message = "There is no page at this address."
		}
	}
	if status == http.StatusUnauthorized {
		// A 401 names the scheme and realm it wants (RFC 9110, 15.5.2; RFC 6750, 3).
		realm := accessRealm
		if he != nil && he.realm != "" {
			realm = he.realm
		}
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`"`)
	}
	if he != nil && he.retryAfter > 0 {
		v := strconv.Itoa(he.retryAfter)
		c.Response().Header().Set("Retry-After", v)
		c.Response().Header().Set("Refresh", v)
	}
	if status >= 500 && he == nil {
		s.log.Error("request failed", slog.String("method", c.Request().Method),
			slog.String("path", c.Request().URL.Path), slog.Any("error", err))
	}
	if wantsJSON(c.Request()) {
		c.JSON(status, map[string]string{"error": message}) //nolint:errcheck // nothing more to do
		return
	}
	var buf bytes.Buffer
	page := views.ErrorPage{Status: status, Title: http.StatusText(status), Message: message, Assets: s.assets}
	if rerr := views.Error(page).Render(c.Request().Context(), &buf); rerr != nil {
		c.String(status, message) //nolint:errcheck
		return
	}
	c.HTMLBlob(status, buf.Bytes()) //nolint:errcheck
}
