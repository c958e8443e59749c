package server

import "time"

// AlertChecks counts the checks the alerter made, so that tests await them rather than
// sleep; 0 without alerts.
func (s *Server) AlertChecks() int64 {
	if s.alerts == nil {
		return 0
	}
	return s.alerts.checks.Load()
}

// ReadRoutes lists the paths of the GET routes, with their parameters as written
// (":id", "*"), so that tests can walk every route.
func (s *Server) ReadRoutes() []string {
	var out []string
	for _, r := range s.echo.Routes() {
		if r.Method == "GET" {
			out = append(out, r.Path)
		}
	}
	return out
}

// Assets are the hashed addresses of the static files.
func (s *Server) AssetCSS() string { return s.assets.CSS }

// LimitAlertTracking lowers how many screens the alerter remembers; call before Open.
func (s *Server) LimitAlertTracking(n int) { s.alerts.maxTracked = n }

// ShortenAlertRetries bounds the webhook's retries to attempts, each wait from first
// doubling up to most, for maxAge in all.
func (s *Server) ShortenAlertRetries(attempts int, first, most, maxAge time.Duration) {
	h := s.alerts.hook
	h.mu.Lock()
	defer h.mu.Unlock()
	h.attempts, h.firstRetry, h.maxRetry, h.maxAge = attempts, first, most, maxAge
}
