package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/spencer-signage/signage/server/media"
	"github.com/spencer-signage/signage/server/news"
	"github.com/spencer-signage/signage/server/screens"
	"github.com/spencer-signage/signage/views"
)

// adminCookie holds proof of the admin token after a login with ?token=: an HMAC of the
// token, so that a stolen cookie jar or a proxy's log does not give the token itself.
const adminCookie = "signage_admin"

// requireAdmin guards /admin and /metrics. With server.admin_token set: a bearer token
// (any case of "Bearer") or the login cookie. Without it: only a browser or script on this
// machine, talking to it directly by a loopback name. A request that came through a proxy
// is never local, even when the proxy is on this machine and its TCP peer is loopback;
// and a loopback peer that asks for another Host is a page of some other site whose name
// now resolves to us (DNS rebinding), so it is refused too. With server.trusted_proxies
// set and no token nobody passes: a proxy on this machine that adds no header (nginx's
// bare proxy_pass sends Host: 127.0.0.1) cannot be told from this machine's own curl.
func (s *Server) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	token := s.cfg.Server.AdminToken
	cookie := s.adminCookieValue()
	behindProxy := len(s.cfg.Server.TrustedProxies) > 0
	return func(c echo.Context) error {
		r := c.Request()
		if token == "" && behindProxy {
			return errorf(http.StatusForbidden, "This server is behind a proxy (server.trusted_proxies is set), so the status page needs server.admin_token (or SIGNAGE_ADMIN_TOKEN): a request through a proxy on this machine cannot be told from this machine's own.")
		}
		if token == "" {
			if !s.localAdmin(r) {
				return errorf(http.StatusForbidden, "The status page answers only this machine: set server.admin_token to open it to others.")
			}
			return next(c)
		}
		// A token comes as ?token= to log in (a GET), or as a bearer token.
		tok, login := r.URL.Query().Get("token"), r.Method == http.MethodGet
		if tok == "" || !login {
			tok, _ = bearer(r.Header.Get("Authorization"))
			login = false
		}
		ck, err := r.Cookie(adminCookie)
		cookieOK := err == nil && equal(ck.Value, cookie)
		addr := c.RealIP()
		if tok != "" && !cookieOK {
			// A client that tried too many wrong tokens waits, the right one included:
			// otherwise trying on would still find it, only with 429s in between.
			if wait := s.guesses.wait(addr); wait > 0 {
				return &httpError{status: http.StatusTooManyRequests, retryAfter: int(wait.Round(time.Second).Seconds()) + 1,
					message: "Too many wrong admin tokens from this address: wait a minute and try again."}
			}
		}
		switch {
		case tok != "" && equal(tok, token):
			s.guesses.forget(addr)
			if login {
				// Log in once: keep proof of the token in a cookie and drop it from the address.
				c.SetCookie(&http.Cookie{Name: adminCookie, Value: cookie, Path: "/", HttpOnly: true,
					SameSite: http.SameSiteStrictMode, Secure: s.scheme(c) == "https"})
				u := *r.URL
				q := u.Query()
				q.Del("token")
				u.RawQuery = q.Encode()
				return c.Redirect(http.StatusSeeOther, u.RequestURI())
			}
			return next(c)
		case cookieOK:
			return next(c)
		case tok != "":
			// Only tokens are counted: a cookie holds an HMAC nobody can guess, and an
			// old one in the operator's browser must not lock the operator out.
			if s.guesses.fail(addr) {
				s.log.Warn("admin token: too many wrong tries, this client waits a minute", slog.String("remote", addr))
			}
		}
		return unauthorized(adminRealm, "The status page needs the admin token: open /admin?token=… once, or send Authorization: Bearer ….")
	}
}

// localAdmin reports whether a request without the admin token may see the status page:
// from a loopback peer, not forwarded, to a loopback Host or the host of public_url.
func (s *Server) localAdmin(r *http.Request) bool {
	peer, ok := peerAddr(r)
	if !ok || !peer.IsLoopback() || forwarded(r) {
		return false
	}
	return isLoopbackHost(r.Host) || (s.publicHost != "" && strings.EqualFold(r.Host, s.publicHost))
}

// adminCookieValue is what the login cookie holds: an HMAC of the admin token, keyed by
// the token itself so that it is the same on every instance and across restarts.
func (s *Server) adminCookieValue() string {
	if s.cfg.Server.AdminToken == "" {
		return ""
	}
	mac := hmac.New(sha256.New, []byte(s.cfg.Server.AdminToken))
	mac.Write([]byte("spencer-signage admin cookie v1"))
	return hex.EncodeToString(mac.Sum(nil))
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
	// DataDirError is why data_dir cannot be written, while it cannot (what should survive a
	// restart is not kept); DataDirFailingSince since when.
	DataDirError        string     `json:"data_dir_error,omitempty"`
	DataDirFailingSince *time.Time `json:"data_dir_failing_since,omitempty"`
	// Cluster and Instances describe the cluster this instance is part of; absent unless
	// cluster.redis_url is set (a single instance is a cluster of one, with nothing to say).
	Cluster   *adminClusterDTO   `json:"cluster,omitempty"`
	Instances []adminInstanceDTO `json:"instances,omitempty"`
}

// adminClusterDTO is this instance's place in the cluster.
type adminClusterDTO struct {
	Instance string `json:"instance"`
	Role     string `json:"role"`  // leader or follower
	Redis    string `json:"redis"` // up or unreachable
}

// adminInstanceDTO is one instance of the cluster.
type adminInstanceDTO struct {
	ID          string    `json:"id"`
	Leader      bool      `json:"leader"`
	Version     string    `json:"version"`
	Started     time.Time `json:"started"`
	LastContact time.Time `json:"last_contact"`
	Screens     int       `json:"screens"`
	Self        bool      `json:"self,omitempty"`
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
	// MediaFailures counts the images of its news the server could not fetch or keep;
	// MediaError says the latest reason.
	MediaFailures int    `json:"media_failures,omitempty"`
	MediaError    string `json:"media_error,omitempty"`
}

type adminScreenDTO struct {
	screens.ScreenInfo
	Instance string `json:"instance,omitempty"` // the instance that holds it, in a cluster
	Online   bool   `json:"online"`
	// Quiet says that the screen rests in its quiet hours: black, and maybe switched off
	// by the TV's own eco mode, which is no reason to call it offline.
	Quiet bool `json:"quiet,omitempty"`
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

// screenKey identifies a screen across reloads and reconnects: the id its page keeps (a
// UUID), else (an older page, a script) its address and browser.
func screenKey(info screens.ScreenInfo) string {
	if info.SID != "" {
		return info.SID
	}
	return info.Addr + " " + views.BrowserFamily(info.UserAgent)
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
	info screens.ScreenInfo
	at   time.Time
}

func newDepartures() *departures { return &departures{gone: map[string]departure{}} }

// add records that a screen disconnected; it is the hub's onLeave.
func (d *departures) add(info screens.ScreenInfo) {
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

// status gathers what the operator wants to know: of this instance, or of the whole
// cluster (every instance's screens, the leader's view of the userlists and the token).
func (s *Server) status() adminStatus {
	now := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st := adminStatus{Now: now, Version: s.opts.Version, Upstream: "answering"}
	if since, err := s.news.DataDirProblem(); err != nil {
		st.DataDirError, st.DataDirFailingSince = err.Error(), &since
	}
	presences := s.presences()
	if s.opts.TokenStatus != nil && s.news.Leading() {
		ts := s.opts.TokenStatus()
		st.Token = &adminTokenDTO{ExpiresAt: timePtr(ts.ExpiresAt), Renewals: ts.Renewals, Failures: ts.Failures, LastError: ts.LastError}
	}
	for _, p := range presences {
		if p.Leader && p.Token != nil && p.Instance != s.cluster.Instance() {
			st.Token = &adminTokenDTO{ExpiresAt: timePtr(p.Token.ExpiresAt), Renewals: p.Token.Renewals, Failures: p.Token.Failures, LastError: p.Token.LastError}
		}
	}

	// Screens: this instance's, then the others' as they announced them.
	st.Screens = s.localScreens(now)
	if s.clustered() {
		self := s.cluster.Instance()
		st.Cluster = &adminClusterDTO{Instance: self, Redis: "up", Role: "follower"}
		if !s.cluster.Healthy() {
			st.Cluster.Redis = "unreachable"
		}
		if s.news.Leading() {
			st.Cluster.Role = "leader"
		}
		seenSelf := false
		for _, p := range presences {
			var screens []adminScreenDTO
			json.Unmarshal(p.Screens, &screens) //nolint:errcheck // an instance that said nothing has no screens
			if p.Instance == self {
				seenSelf, screens = true, st.Screens
			} else {
				for i := range screens {
					screens[i].Online = screens[i].Left == nil && screens[i].onlineAt(now, s.heartbeat)
				}
				st.Screens = append(st.Screens, screens...)
			}
			st.Instances = append(st.Instances, adminInstanceDTO{ID: p.Instance, Leader: p.Leader, Version: p.Version,
				Started: p.Started, LastContact: p.Seen, Screens: connectedCount(screens), Self: p.Instance == self})
		}
		if !seenSelf {
			st.Instances = append(st.Instances, adminInstanceDTO{ID: self, Leader: s.news.Leading(), Version: s.opts.Version,
				Started: s.started, LastContact: now, Screens: connectedCount(st.Screens), Self: true})
		}
		sort.Slice(st.Instances, func(i, j int) bool { return st.Instances[i].ID < st.Instances[j].ID })
	}
	// A managed screen is called what the operator calls it now, whatever it was called
	// when its page connected.
	for i, sc := range st.Screens {
		if m, ok := s.managed.get(sc.Managed); ok {
			st.Screens[i].Name = m.Name
		}
	}
	watching := map[string]int{}
	for _, sc := range st.Screens {
		if sc.Left == nil {
			watching[sc.UserlistID]++
		}
	}

	statuses := s.news.Statuses(ctx)
	var mediaFailures map[string]media.UserlistFailures
	if s.media != nil {
		mediaFailures = s.media.Failures()
	}
	for _, ul := range s.news.Userlists() {
		us := statuses[ul.ID]
		d := adminUserlistDTO{
			ID: ul.ID, Name: ul.Name, Configured: ul.Configured,
			LastFetch: timePtr(us.LastFetch), NextFetch: timePtr(us.NextFetch), LastError: us.LastError,
			StaleSince: timePtr(us.StaleSince), Stale: !us.StaleSince.IsZero(), Unknown: us.Unknown,
			Screens: watching[ul.ID],
		}
		if mf := mediaFailures[ul.ID]; mf.Count > 0 {
			d.MediaFailures, d.MediaError = mf.Count, mf.Reason
			if mf.Detail != "" {
				d.MediaError += ": " + mf.Detail
			}
		}
		if ct := s.edition(ul.Content()); ct != nil {
			d.Items, d.Version = len(ct.Items), ct.Version
			if ct.Stale && d.StaleSince == nil {
				d.Stale, d.StaleSince = true, timePtr(ct.StaleSince)
			}
		}
		if d.StaleSince != nil && (st.FailingSince == nil || d.StaleSince.Before(*st.FailingSince)) {
			st.Upstream, st.Problem, st.FailingSince = "failing", d.LastError, d.StaleSince
		}
		st.Userlists = append(st.Userlists, d)
	}
	if ok, why := s.news.Answered(); !ok && !s.opts.Demo && st.FailingSince == nil {
		st.Upstream, st.Problem = "waiting", why.Error()
	}
	sort.Slice(st.Userlists, func(i, j int) bool {
		a, b := st.Userlists[i], st.Userlists[j]
		if a.Configured != b.Configured {
			return a.Configured
		}
		return a.ID < b.ID
	})
	if st.Userlists == nil {
		st.Userlists = []adminUserlistDTO{}
	}
	return st
}

// localScreens are this instance's screens: those connected, then those that left lately.
func (s *Server) localScreens(now time.Time) []adminScreenDTO {
	connected := map[string]bool{}
	out := []adminScreenDTO{}
	instance := s.cluster.Instance()
	for _, info := range s.hub.List() {
		connected[screenKey(info)] = true
		d := adminScreenDTO{ScreenInfo: info, Instance: instance, Quiet: s.quietFor(info.QuietOff)}
		d.Online = d.onlineAt(now, s.heartbeat)
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ConnectedAt.Before(out[j].ConnectedAt) })
	gone := s.gone.list(now, connected)
	sort.Slice(gone, func(i, j int) bool { return gone[i].at.After(gone[j].at) })
	for _, g := range gone {
		out = append(out, adminScreenDTO{ScreenInfo: g.info, Instance: instance, Left: timePtr(g.at), Quiet: s.quietFor(g.info.QuietOff)})
	}
	return out
}

// onlineAt reports whether a screen reported lately: a page reports every heartbeat, and
// is offline after two missed reports (a hung tab still answers pings, so they do not count).
func (d adminScreenDTO) onlineAt(now time.Time, heartbeat time.Duration) bool {
	last := d.LastHeartbeat
	if last.IsZero() {
		last = d.ConnectedAt
	}
	return now.Sub(last) <= 2*heartbeat+heartbeat/4
}

func connectedCount(screens []adminScreenDTO) int {
	n := 0
	for _, sc := range screens {
		if sc.Left == nil {
			n++
		}
	}
	return n
}

func (s *Server) handleAdmin(c echo.Context) error {
	st := s.status()
	page := views.AdminPage{
		Assets: s.assets, CSRF: s.csrf.current(), Version: st.Version, Now: st.Now, BaseURL: s.baseURL(c),
		Upstream: st.Upstream, Problem: st.Problem, KeyHint: len(s.cfg.Server.AccessKeys) > 0,
		DataDirProblem: st.DataDirError,
	}
	for _, a := range s.announcements.list() {
		page.Announcements = append(page.Announcements, views.AdminAnnouncement{ID: a.ID, Title: a.Title, Text: a.Text,
			Severity: a.Severity, By: a.CreatedBy, Userlists: a.Userlists, ExpiresAt: a.ExpiresAt})
	}
	if cl := st.Cluster; cl != nil {
		page.Cluster = &views.AdminCluster{Instance: cl.Instance, Role: cl.Role, Redis: cl.Redis}
		for _, in := range st.Instances {
			page.Instances = append(page.Instances, views.AdminInstance{ID: in.ID, Leader: in.Leader, Self: in.Self,
				Version: in.Version, Started: in.Started, LastContact: in.LastContact, Screens: in.Screens})
		}
	}
	if t := st.Token; t != nil {
		page.Token = &views.AdminToken{ExpiresAt: orZero(t.ExpiresAt), Renewals: t.Renewals, Failures: t.Failures, LastError: t.LastError}
	}
	for _, u := range st.Userlists {
		page.Userlists = append(page.Userlists, views.AdminUserlist{
			ID: u.ID, Name: u.Name, Configured: u.Configured, Items: u.Items, Version: u.Version,
			LastFetch: orZero(u.LastFetch), NextFetch: orZero(u.NextFetch), LastError: u.LastError,
			StaleSince: orZero(u.StaleSince), Unknown: u.Unknown, Screens: u.Screens,
			MediaFailures: u.MediaFailures, MediaError: u.MediaError,
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
			UserlistName: ul.Name, UpToDate: ul.Version != "" && sc.Version == ul.Version, Instance: sc.Instance, Quiet: sc.Quiet,
			Name: sc.Name,
		})
	}
	page.Pair, page.SlideSeconds = normalizeCode(c.QueryParam("pair")), s.cfg.Screens.SlideSeconds
	if waiting, err := s.waitingDTOs(c.Request().Context()); err == nil {
		for _, w := range waiting {
			page.Waiting = append(page.Waiting, views.AdminWaiting{Code: w.Code, UserAgent: w.UserAgent, Address: w.Address,
				Viewport: w.Viewport, SeenAt: w.SeenAt, ExpiresAt: w.ExpiresAt})
		}
	}
	for _, m := range s.managedDTOs(s.baseURL(c), st) {
		page.Managed = append(page.Managed, views.AdminManaged{ID: m.ID, Name: m.Name, Slug: m.Slug, URL: m.URL,
			Userlist: m.Userlist, UserlistName: m.UserlistName, Theme: m.Theme, Interval: m.Interval, Lang: m.Lang,
			QR: m.QR, Clock: m.Clock, Quiet: m.Quiet, Paired: m.Paired, Online: m.Online, Pages: m.Pages,
			LastHeartbeat: orZero(m.LastHeartbeat), Address: m.Address, UserAgent: m.UserAgent, Viewport: m.Viewport, Instance: m.Instance})
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return s.render(c, views.Admin(page))
}

func (s *Server) handleAdminStatus(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, s.status())
}

// checkCSRF accepts an action only with the page's token and only from our own origin:
// net/http's CrossOriginProtection reads Sec-Fetch-Site, else compares Origin with the
// Host, and also accepts the origin of public_url (a proxy that rewrites Host).
func (s *Server) checkCSRF(c echo.Context) error {
	r := c.Request()
	tok := r.Header.Get("X-CSRF-Token")
	if tok == "" {
		tok = r.FormValue("csrf")
	}
	if !s.csrf.valid(tok) {
		return errorf(http.StatusForbidden, "This action needs the status page's token: reload /admin and try again.")
	}
	if err := s.crossOrigin.Check(r); err != nil {
		return errorf(http.StatusForbidden, "Actions are accepted only from the status page itself.")
	}
	return nil
}

// handleAdminReload tells one screen, every screen of a userlist, or all screens to
// reload: this instance's at once, and the others' through the engine.
func (s *Server) handleAdminReload(c echo.Context) error {
	if err := s.checkCSRF(c); err != nil {
		return err
	}
	screen, userlist, all := c.FormValue("screen"), strings.ToLower(c.FormValue("userlist")), c.FormValue("all") == "1"
	switch {
	case screen != "" && len(screen) <= 128:
	case userlist != "" && IsUUID(userlist):
		screen = ""
	case all:
		screen, userlist = "", ""
	default:
		return errorf(http.StatusBadRequest, "Say which screen or userlist to reload.")
	}
	n := s.reloadLocal(screen, userlist, all)
	result := map[string]int{"reloaded": n}
	if !(screen != "" && n == 1) {
		if err := s.cluster.Send(c.Request().Context(), news.Command{Kind: news.CommandReload, Screen: screen, Userlist: userlist, All: all}); err != nil {
			return errorf(http.StatusServiceUnavailable, "The other instances could not be told: Redis does not answer. This instance's screens were reloaded.")
		}
		result["sent_to_cluster"] = 1
	}
	s.log.Info("reload requested", slog.Int("screens", n))
	return s.afterAction(c, result)
}

// handleAdminFetch fetches a userlist now instead of at its next tick (on the leader,
// whichever instance it is).
func (s *Server) handleAdminFetch(c echo.Context) error {
	if err := s.checkCSRF(c); err != nil {
		return err
	}
	id := strings.ToLower(c.FormValue("userlist"))
	if !IsUUID(id) || s.news.Get(id) == nil {
		return errorf(http.StatusNotFound, "That userlist is not being polled.")
	}
	if err := s.news.FetchNow(c.Request().Context(), id); err != nil {
		return errorf(http.StatusServiceUnavailable, "The leader could not be asked: Redis does not answer.")
	}
	return s.afterAction(c, map[string]int{"fetching": 1})
}

// afterAction answers a form with a redirect back to the page, and a script with JSON.
func (s *Server) afterAction(c echo.Context, result map[string]int) error {
	if c.Request().Header.Get("X-CSRF-Token") != "" {
		return c.JSON(http.StatusOK, result)
	}
	return c.Redirect(http.StatusSeeOther, "/admin")
}
