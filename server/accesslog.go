package server

import (
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"
)

// logRequests logs each request without its query string (it may carry an access key),
// at Debug for the routine ones and Warn for server errors, so a busy screen wall does
// not flood the log.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		status := c.Response().Status
		if err != nil {
			if he, ok := err.(*httpError); ok {
				status = he.status
			}
		}
		level := slog.LevelDebug
		if status >= 500 {
			level = slog.LevelWarn
		}
		if !s.log.Enabled(c.Request().Context(), level) {
			return err // the common case: build nothing
		}
		s.log.Log(c.Request().Context(), level, "request",
			slog.String("method", c.Request().Method),
			slog.String("path", c.Request().URL.Path),
			slog.Int("status", status),
			slog.Duration("took", time.Since(start)),
			slog.String("remote", remoteHost(c.Request())))
		return err
	}
}
