package server

import (
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"
)

// observed returns the one middleware every request goes through: it sets the security
// headers (see securityHeaders), then logs and counts each request by the status that was
// actually sent. echo wraps the handler in its global middleware anew on every request, so
// one middleware rather than two saves a closure and a call per request.
//
// A handler's error is turned into its answer here (by the HTTPErrorHandler), before the
// status is read: otherwise a 404 from the router or a 500 from a plain error would be
// recorded as the 200 the response held before the error was written.
//
// Requests are logged without the query string (it may carry an access key), at Debug for
// the routine ones and Warn for server errors, so a busy screen wall does not flood the log.
func (s *Server) observed() echo.MiddlewareFunc {
	secure := s.securityHeaders()
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			secure(c)
			if err := next(c); err != nil {
				c.Error(err)
			}
			status := c.Response().Status
			s.metrics.count(c.Path(), status)
			level := slog.LevelDebug
			if status >= 500 {
				level = slog.LevelWarn
			}
			r := c.Request()
			if !s.log.Enabled(r.Context(), level) {
				return nil // the common case: build nothing
			}
			s.log.Log(r.Context(), level, "request",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", status),
				slog.Duration("took", time.Since(start)),
				slog.String("remote", c.RealIP()))
			return nil
		}
	}
}
