package server

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
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
		if tok, ok := bearer(r.Header.Get("Authorization")); ok {
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

// bearer is the token of an Authorization header with the Bearer scheme (any case).
func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

// newCSRFToken is the per-process token every admin action must carry.
func newCSRFToken() string {
	b := make([]byte, 16)
	rand.Read(b) //nolint:errcheck // never fails
	return hex.EncodeToString(b)
}

// adminStatus is /admin/status.json, and what /admin shows.
type adminStatus struct {
	Now      time.Time `json:"now"`
	Version  string    `json:"version"`
	Upstream string    `json:"upstream"` // answering, failing, or waiting (no answer yet)
	// Problem is why upstream is failing or has not answered; FailingSince when the
	// oldest userlist outage began.
	Problem      string             `json:"upstream_error,omitempty"`
	FailingSince *time.Time         `json:"upstream_failing_since,omitempty"`
	Token        *adminTokenDTO     `json:"token,omitempty"`
	Userlists    []adminUserlistDTO `json:"userlists"`
	Screens      []adminScreenDTO   `json:"screens"`
}

// adminTokenDTO describes the access token, never holding it.
type adminTokenDTO struct {
	ExpiresAt *time.Time `json:"expires_at"`
	Renewals  int64      `json:"renewals"`
	Failures  int64      `json:"failures"`
	LastError string     `json:"last_error,omitempty"`
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
	// Left is when a screen that is no longer connected went away.
	Left *time.Time `json:"disconnected_at,omitempty"`
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

// screenKey identifies a screen across reloads and reconnects: the id its page keeps,
// else (an older page, a script) its address and user agent.
func screenKey(info ScreenInfo) string {
	if info.SID != "" {
		return info.SID
	}
	return info.Addr + " " + info.UserAgent
}

// departedKeep is how long a screen that disconnected stays listed, offline, unless it
// comes back; maxDeparted bounds that memory.
const (
	departedKeep = time.Hour
	maxDeparted  = 1000
)

// departures remembers the screens that went away. Without it a screen that loses power
// would simply vanish from the status page (the server drops its socket after 60 s of
// silence, before two missed heartbeats), when it is the one the operator looks for.
type departures struct {
	mu   sync.Mutex
	gone map[string]departure // by screenKey
}

type departure struct {
	info ScreenInfo
	at   time.Time
}

func newDepartures() *departures { return &departures{gone: map[string]departure{}} }

// add records that a screen disconnected; it is the hub's onLeave.
func (d *departures) add(info ScreenInfo) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.gone) >= maxDeparted {
		d.pruneLocked(time.Now())
		if len(d.gone) >= maxDeparted {
			return // a flood of one-off visitors: keep those already known
		}
	}
	d.gone[screenKey(info)] = departure{info: info, at: time.Now()}
}

func (d *departures) pruneLocked(now time.Time) {
	for k, g := range d.gone {
		if now.Sub(g.at) > departedKeep {
			delete(d.gone, k)
		}
	}
}

// list returns the screens that left within departedKeep and are not connected again.
func (d *departures) list(now time.Time, connected map[string]bool) []departure {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pruneLocked(now)
	var out []departure
	for k, g := range d.gone {
		if !connected[k] {
			out = append(out, g)
		}
	}
	return out
}

// status gathers what the operator wants to know.
func (s *Server) status() adminStatus {
	now := time.Now()
	st := adminStatus{Now: now, Version: s.opts.Version, Upstream: "answering"}
	if s.opts.TokenStatus != nil {
		ts := s.opts.TokenStatus()
		st.Token = &adminTokenDTO{ExpiresAt: timePtr(ts.ExpiresAt), Renewals: ts.Renewals, Failures: ts.Failures, LastError: ts.LastError}
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
		if d.StaleSince != nil && (st.FailingSince == nil || d.StaleSince.Before(*st.FailingSince)) {
			st.Upstream, st.Problem, st.FailingSince = "failing", d.LastError, d.StaleSince
		}
		st.Userlists = append(st.Userlists, d)
	}
	if ok, reason := s.poller.Answered(); !ok && !s.opts.Demo && st.FailingSince == nil {
		st.Upstream, st.Problem = "waiting", reason
	}
	sort.Slice(st.Userlists, func(i, j int) bool {
		a, b := st.Userlists[i], st.Userlists[j]
		if a.Configured != b.Configured {
			return a.Configured
		}
		return a.ID < b.ID
	})

	offlineAfter := 2*s.heartbeat + s.heartbeat/4 // two missed heartbeats
	connected := map[string]bool{}
	st.Screens = []adminScreenDTO{}
	for _, info := range s.hub.List() {
		last := info.LastHeartbeat
		if last.IsZero() {
			last = info.ConnectedAt
		}
		connected[screenKey(info)] = true
		st.Screens = append(st.Screens, adminScreenDTO{ScreenInfo: info, Online: now.Sub(last) <= offlineAfter})
	}
	sort.Slice(st.Screens, func(i, j int) bool { return st.Screens[i].ConnectedAt.Before(st.Screens[j].ConnectedAt) })
	gone := s.gone.list(now, connected)
	sort.Slice(gone, func(i, j int) bool { return gone[i].at.After(gone[j].at) })
	for _, g := range gone {
		st.Screens = append(st.Screens, adminScreenDTO{ScreenInfo: g.info, Left: timePtr(g.at)})
	}
	if st.Userlists == nil {
		st.Userlists = []adminUserlistDTO{}
	}
	return st
}

func (s *Server) handleAdmin(c echo.Context) error {
	st := s.status()
	page := views.AdminPage{
		Assets: s.assets, CSRF: s.csrf, Version: st.Version, Now: st.Now, BaseURL: s.baseURL(c),
		Upstream: st.Upstream, Problem: st.Problem, KeyHint: len(s.cfg.Server.AccessKeys) > 0,
	}
	if t := st.Token; t != nil {
		page.Token = &views.AdminToken{ExpiresAt: orZero(t.ExpiresAt), Renewals: t.Renewals, Failures: t.Failures, LastError: t.LastError}
	}
	for _, u := range st.Userlists {
		page.Userlists = append(page.Userlists, views.AdminUserlist{
			ID: u.ID, Name: u.Name, Configured: u.Configured, Items: u.Items, Version: u.Version,
			LastFetch: orZero(u.LastFetch), NextFetch: orZero(u.NextFetch), LastError: u.LastError,
			StaleSince: orZero(u.StaleSince), Unknown: u.Unknown, Screens: u.Screens,
		})
	}
	userlists := make(map[string]adminUserlistDTO, len(st.Userlists))
	for _, u := range st.Userlists {
		userlists[u.ID] = u
	}
	for _, sc := range st.Screens {
		ul := userlists[sc.UserlistID]
		page.Screens = append(page.Screens, views.AdminScreen{
			ID: sc.ID, Userlist: sc.UserlistID, Address: sc.Addr, UserAgent: sc.UserAgent, Viewport: sc.Viewport,
			Version: sc.Version, ConnectedAt: sc.ConnectedAt, LastSeen: sc.LastHeartbeat, Left: orZero(sc.Left), Online: sc.Online,
			UserlistName: ul.Name, UpToDate: ul.Version != "" && sc.Version == ul.Version,
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
	site := r.Header.Get("Sec-Fetch-Site")
	if (site != "" && site != "same-origin" && site != "none") || !s.checkOrigin(r) {
		return errorf(http.StatusForbidden, "Actions are accepted only from the status page itself.")
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
