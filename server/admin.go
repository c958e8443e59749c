package server

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/spencer-signage/signage/views"
)

// adminCookie holds the admin token after a login with ?token=.
const adminCookie = "signage_admin"

// requireAdmin guards /admin and /metrics: with server.admin_token set, a bearer token
// or the login cookie; without it, only clients on this machine (the TCP peer, never a
// forwarded header).
func (s *Server) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	token := s.cfg.Server.AdminToken
	return func(c echo.Context) error {
		r := c.Request()
		if token == "" {
			if !isLoopback(r) {
				return errorf(http.StatusForbidden, "The status page answers only this machine: set server.admin_token to open it to others.")
			}
			return next(c)
		}
		if t := r.URL.Query().Get("token"); t != "" && equal(t, token) && r.Method == http.MethodGet {
			// Log in once: keep the token in a cookie and drop it from the address.
			c.SetCookie(&http.Cookie{Name: adminCookie, Value: t, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
			u := *r.URL
			q := u.Query()
			q.Del("token")
			u.RawQuery = q.Encode()
			return c.Redirect(http.StatusSeeOther, u.RequestURI())
		}
		got := ""
		if scheme, tok, ok := cutBearer(r.Header.Get("Authorization")); ok && scheme {
			got = tok
		} else if ck, err := r.Cookie(adminCookie); err == nil {
			got = ck.Value
		}
		if got == "" || !equal(got, token) {
			return errorf(http.StatusUnauthorized, "The status page needs the admin token: open /admin?token=… once, or send Authorization: Bearer ….")
		}
		return next(c)
	}
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

func cutBearer(h string) (bool, string, bool) {
	if len(h) > 7 && (h[:7] == "Bearer " || h[:7] == "bearer ") {
		return true, h[7:], true
	}
	return false, "", false
}

// newCSRFToken is the per-process token every admin action must carry.
func newCSRFToken() string {
	b := make([]byte, 16)
	rand.Read(b) //nolint:errcheck // never fails
	return hex.EncodeToString(b)
}

// adminStatus is /admin/status.json, and what /admin shows.
type adminStatus struct {
	Now       time.Time          `json:"now"`
	Version   string             `json:"version"`
	Upstream  string             `json:"upstream"`
	Token     *views.AdminToken  `json:"token,omitempty"`
	Userlists []adminUserlistDTO `json:"userlists"`
	Screens   []adminScreenDTO   `json:"screens"`
}

type adminUserlistDTO struct {
	ID         string     `json:"id"`
	Name       string     `json:"name,omitempty"`
	Configured bool       `json:"configured"`
	Items      int        `json:"items"`
	Version    string     `json:"version"`
	LastFetch  *time.Time `json:"last_fetch"`
	NextFetch  *time.Time `json:"next_fetch"`
	LastError  string     `json:"last_error,omitempty"`
	Stale      bool       `json:"stale"`
	StaleSince *time.Time `json:"stale_since,omitempty"`
	Unknown    bool       `json:"unknown"`
	Screens    int        `json:"screens"`
}

type adminScreenDTO struct {
	ScreenInfo
	Online bool `json:"online"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func orZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// status gathers what the operator wants to know.
func (s *Server) status() adminStatus {
	st := adminStatus{Now: time.Now(), Version: s.opts.Version, Upstream: "answering"}
	if ok, reason := s.poller.Answered(); !ok && !s.opts.Demo {
		st.Upstream = reason
	}
	if s.opts.TokenStatus != nil {
		ts := s.opts.TokenStatus()
		st.Token = &views.AdminToken{ExpiresAt: ts.ExpiresAt, Renewals: ts.Renewals, Failures: ts.Failures, LastError: ts.LastError}
	}
	for _, ul := range s.poller.Userlists() {
		us := ul.Status()
		d := adminUserlistDTO{
			ID: ul.ID, Name: ul.Name, Configured: ul.Configured,
			LastFetch: timePtr(us.LastFetch), NextFetch: timePtr(us.NextFetch), LastError: us.LastError,
			StaleSince: timePtr(us.StaleSince), Stale: !us.StaleSince.IsZero(), Unknown: us.Unknown,
			Screens: s.hub.Screens(ul.ID),
		}
		if ct := ul.Content(); ct != nil {
			d.Items, d.Version = len(ct.Items), ct.Version
		}
		st.Userlists = append(st.Userlists, d)
	}
	sort.Slice(st.Userlists, func(i, j int) bool {
		a, b := st.Userlists[i], st.Userlists[j]
		if a.Configured != b.Configured {
			return a.Configured
		}
		return a.ID < b.ID
	})
	offlineAfter := 2*s.heartbeat + s.heartbeat/4 // two missed heartbeats
	for _, info := range s.hub.List() {
		last := info.LastHeartbeat
		if last.IsZero() {
			last = info.ConnectedAt
		}
		st.Screens = append(st.Screens, adminScreenDTO{ScreenInfo: info, Online: time.Since(last) <= offlineAfter})
	}
	sort.Slice(st.Screens, func(i, j int) bool { return st.Screens[i].ConnectedAt.Before(st.Screens[j].ConnectedAt) })
	if st.Userlists == nil {
		st.Userlists = []adminUserlistDTO{}
	}
	if st.Screens == nil {
		st.Screens = []adminScreenDTO{}
	}
	return st
}

func (s *Server) handleAdmin(c echo.Context) error {
	st := s.status()
	page := views.AdminPage{Assets: s.assets, CSRF: s.csrf, Version: st.Version, Now: st.Now, Upstream: st.Upstream, Token: st.Token, BaseURL: s.baseURL(c)}
	for _, u := range st.Userlists {
		page.Userlists = append(page.Userlists, views.AdminUserlist{
			ID: u.ID, Name: u.Name, Configured: u.Configured, Items: u.Items, Version: u.Version,
			LastFetch: orZero(u.LastFetch), NextFetch: orZero(u.NextFetch), LastError: u.LastError,
			StaleSince: orZero(u.StaleSince), Unknown: u.Unknown, Screens: u.Screens,
		})
	}
	for _, sc := range st.Screens {
		page.Screens = append(page.Screens, views.AdminScreen{
			ID: sc.ID, Userlist: sc.UserlistID, Address: sc.Addr, UserAgent: sc.UserAgent, Viewport: sc.Viewport,
			Version: sc.Version, ConnectedAt: sc.ConnectedAt, LastSeen: sc.LastHeartbeat, Online: sc.Online,
		})
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return s.render(c, views.Admin(page))
}

func (s *Server) handleAdminStatus(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, s.status())
}

// checkCSRF accepts an action only with the page's token and, when the browser says
// where the request comes from, only from our own origin.
func (s *Server) checkCSRF(c echo.Context) error {
	r := c.Request()
	tok := r.Header.Get("X-CSRF-Token")
	if tok == "" {
		tok = r.FormValue("csrf")
	}
	if !equal(tok, s.csrf) {
		return errorf(http.StatusForbidden, "This action needs the status page's token: reload /admin and try again.")
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return errorf(http.StatusForbidden, "Actions are accepted only from the status page itself.")
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		if u, err := url.Parse(origin); err != nil || u.Host != r.Host {
			return errorf(http.StatusForbidden, "Actions are accepted only from the status page itself.")
		}
	}
	return nil
}

// handleAdminReload tells one screen, or every screen of a userlist, to reload.
func (s *Server) handleAdminReload(c echo.Context) error {
	if err := s.checkCSRF(c); err != nil {
		return err
	}
	n := 0
	switch screen, userlist := c.FormValue("screen"), c.FormValue("userlist"); {
	case screen != "":
		if s.hub.ReloadScreen(screen) {
			n = 1
		}
	case userlist != "" && IsUUID(userlist):
		n = s.hub.Reload(userlist)
	case c.FormValue("all") == "1":
		n = s.hub.Reload("")
	default:
		return errorf(http.StatusBadRequest, "Say which screen or userlist to reload.")
	}
	s.log.Info("reload requested", slog.Int("screens", n))
	return s.afterAction(c, map[string]int{"reloaded": n})
}

// handleAdminFetch fetches a userlist now instead of at its next tick.
func (s *Server) handleAdminFetch(c echo.Context) error {
	if err := s.checkCSRF(c); err != nil {
		return err
	}
	ul := s.poller.Get(c.FormValue("userlist"))
	if ul == nil {
		return errorf(http.StatusNotFound, "That userlist is not being polled.")
	}
	ul.FetchNow()
	return s.afterAction(c, map[string]int{"fetching": 1})
}

// afterAction answers a form with a redirect back to the page, and a script with JSON.
func (s *Server) afterAction(c echo.Context, result map[string]int) error {
	if c.Request().Header.Get("X-CSRF-Token") != "" {
		return c.JSON(http.StatusOK, result)
	}
	return c.Redirect(http.StatusSeeOther, "/admin")
}
