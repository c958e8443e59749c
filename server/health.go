package server

import (
	"net/http"

	"github.com/spencer-signage/signage/server/news"

	"github.com/labstack/echo/v4"
)

func (s *Server) handleHealthz(c echo.Context) error {
	return c.String(http.StatusOK, "ok\n")
}

// handleReadyz is 200 once this instance has news to answer with: upstream answered at
// least once (always in demo mode, whose upstream is in-process), or, in a cluster, it
// loaded what the leader shared. Before, 503. Anyone may ask, so the answer is a short
// reason code (no_answer_yet, redis_unreachable, token_error, unauthorized, timeout, ...);
// the details are on /admin and in the log. In a cluster it adds the instance's role and
// whether Redis answers.
func (s *Server) handleReadyz(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	ok, why := s.news.Answered()
	extra := ""
	if s.clustered() {
		role, redis := "follower", "up"
		if s.news.Leading() {
			role = "leader"
		}
		if !s.cluster.Healthy() {
			redis = "unreachable"
		}
		extra = "role: " + role + "\nredis: " + redis + "\n"
	}
	if _, err := s.news.DataDirProblem(); err != nil {
		// What should survive a restart is not kept: the details are on /admin.
		return c.String(http.StatusServiceUnavailable, "not ready: data_dir_unwritable\n"+extra)
	}
	if ok || s.opts.Demo {
		return c.String(http.StatusOK, "ready\n"+extra)
	}
	var code string
	switch why {
	case news.ErrNoAnswerYet:
		code = "no_answer_yet"
	case news.ErrNotSynced:
		code = "redis_unreachable"
	default:
		code = outcome(why)
	}
	return c.String(http.StatusServiceUnavailable, "not ready: "+code+"\n"+extra)
}

// handleServiceWorker serves the screen's service worker from the root, so that its scope
// covers /screens/ and /embed/; it is never cached, so a new build replaces it.
func (s *Server) handleServiceWorker(c echo.Context) error {
	h := c.Response().Header()
	h.Set("Cache-Control", "no-cache")
	h.Set("Service-Worker-Allowed", "/")
	return c.Blob(http.StatusOK, "text/javascript; charset=utf-8", s.static.ServiceWorker())
}
