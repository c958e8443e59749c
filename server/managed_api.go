package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"golang.org/x/text/unicode/norm"

	"github.com/spencer-signage/signage/server/news"
	"github.com/spencer-signage/signage/views"
)

// The operator's side of the managed screens: POST /admin/screens pairs a waiting kiosk by
// its code, PATCH changes a screen's settings, DELETE unpairs it, and the status page's
// forms do the same with its CSRF token. Every change goes to the shared map, whose change
// reaches every instance: the one holding the kiosk reloads it.

const (
	maxScreenBody = 16 << 10
	maxScreenName = 80
	maxSlug       = 64
)

// slugPattern is what a screen's address may say after /s/: lower-case letters, digits and
// inner dashes.
var slugPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$`)

// reservedSlugs are the kiosk's own routes under /s/.
var reservedSlugs = map[string]bool{"ws": true, "deck": true}

var viewportPattern = regexp.MustCompile(`^[0-9]{2,5}x[0-9]{2,5}$`)

// screenRequest is the body of POST /admin/screens (code, name and userlist required) and
// of PATCH /admin/screens/{id} (any of the settings). A field left out keeps its value.
type screenRequest struct {
	Code     *string `json:"code"`
	Name     *string `json:"name"`
	Userlist *string `json:"userlist"`
	Slug     *string `json:"slug"`
	Theme    *string `json:"theme"`
	Interval *int    `json:"interval"`
	Lang     *string `json:"lang"`
	QR       *bool   `json:"qr"`
	Clock    *bool   `json:"clock"`
	Quiet    *bool   `json:"quiet"`
}

const screenFields = "code, name, userlist, slug, theme, interval, lang, qr, clock, quiet"

// isForm reports whether a request is a form of the status page, not a script's JSON.
func isForm(r *http.Request) bool {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return ct == "application/x-www-form-urlencoded" || ct == "multipart/form-data"
}

// checkAdminWrite refuses a change that a browser sends from another site. A form of the
// status page also needs the page's CSRF token; a script that sends JSON (curl) has no
// page, and a browser cannot send JSON across sites without CrossOriginProtection seeing it.
func (s *Server) checkAdminWrite(c echo.Context) error {
	if isForm(c.Request()) {
		return s.checkCSRF(c)
	}
	if err := s.crossOrigin.Check(c.Request()); err != nil {
		return errorf(http.StatusForbidden, "Screens are managed from this server's own pages and from scripts, not from other sites.")
	}
	return nil
}

// readScreenRequest reads a JSON body, or the status page's form.
func readScreenRequest(c echo.Context) (screenRequest, error) {
	var req screenRequest
	r := c.Request()
	r.Body = http.MaxBytesReader(c.Response(), r.Body, maxScreenBody)
	if isForm(r) {
		if err := r.ParseForm(); err != nil {
			return req, fmt.Errorf("the form could not be read (at most %d KiB)", maxScreenBody>>10)
		}
		return formScreenRequest(r.PostForm)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return req, fmt.Errorf("the body is over %d KiB", maxScreenBody>>10)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, errors.New("the body is not a screen: " + jsonProblem(err, screenFields))
	}
	return req, nil
}

// formScreenRequest reads the status page's form. Its check boxes come with a hidden field
// of the same name before them ("0"), so that an unticked one is said too: the last value
// wins.
func formScreenRequest(form map[string][]string) (screenRequest, error) {
	var req screenRequest
	last := func(name string) (string, bool) {
		v := form[name]
		if len(v) == 0 {
			return "", false
		}
		return v[len(v)-1], true
	}
	for name, dst := range map[string]**string{"code": &req.Code, "name": &req.Name, "userlist": &req.Userlist,
		"slug": &req.Slug, "theme": &req.Theme, "lang": &req.Lang} {
		if v, ok := last(name); ok {
			*dst = &v
		}
	}
	if v, ok := last("interval"); ok && strings.TrimSpace(v) != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return req, fmt.Errorf("interval: %q is not a number of seconds", v)
		}
		req.Interval = &n
	}
	for name, dst := range map[string]**bool{"qr": &req.QR, "clock": &req.Clock, "quiet": &req.Quiet} {
		if v, ok := last(name); ok {
			b := v == "1" || v == "on" || v == "true"
			*dst = &b
		}
	}
	return req, nil
}

// apply sets the fields of r on m, or returns an error that names the field. others are
// the managed screens there are, for the slug's uniqueness; create says that m is new, and
// that its name and userlist are required.
func (s *Server) apply(m *ManagedScreen, r screenRequest, others map[string]ManagedScreen, create bool) error {
	if r.Name != nil || create {
		name := strings.TrimSpace(deref(r.Name))
		if err := checkPlainText("name", name, false); err != nil {
			return err
		}
		switch {
		case name == "":
			return errors.New("name: it is empty: say what this screen is called (e.g. Lobby TV)")
		case utf8.RuneCountInString(name) > maxScreenName:
			return fmt.Errorf("name: it is longer than %d characters", maxScreenName)
		}
		m.Name = name
	}
	if r.Userlist != nil || create {
		id := strings.ToLower(strings.TrimSpace(deref(r.Userlist)))
		_, listed := s.names[id]
		switch {
		case id == "":
			return errors.New("userlist: it is missing: say which userlist's news the screen shows (its id, a UUID)")
		case !IsUUID(id):
			return fmt.Errorf("userlist: %q is not a userlist id (a UUID)", deref(r.Userlist))
		case !listed && !s.cfg.Screens.AllowAnyUserlist:
			return fmt.Errorf("userlist: %s is not configured on this server (screens.allow_any_userlist is off)", id)
		}
		m.Userlist = id
	}
	if r.Theme != nil {
		if *r.Theme != "dark" && *r.Theme != "light" {
			return fmt.Errorf("theme: %q is not dark or light", *r.Theme)
		}
		m.Theme = *r.Theme
	}
	if r.Interval != nil {
		if n := *r.Interval; n < 3 || n > 3600 {
			return fmt.Errorf("interval: %d is not between 3 and 3600 seconds", n)
		}
		m.Interval = *r.Interval
	}
	if r.Lang != nil {
		switch l := strings.TrimSpace(*r.Lang); {
		case l == "":
			m.Lang = "" // the configured locale
		case localeOf(l) == "":
			return fmt.Errorf("lang: %q is not a locale such as nl-BE", *r.Lang)
		default:
			m.Lang = localeOf(l)
		}
	}
	if r.QR != nil {
		m.QR = *r.QR
	}
	if r.Clock != nil {
		m.Clock = *r.Clock
	}
	if r.Quiet != nil {
		m.Quiet = *r.Quiet
	}
	taken := func(slug string) (ManagedScreen, bool) {
		for _, o := range others {
			if o.Slug == slug && o.ID != m.ID {
				return o, true
			}
		}
		return ManagedScreen{}, false
	}
	switch slug := strings.ToLower(strings.TrimSpace(deref(r.Slug))); {
	case slug != "":
		if !slugPattern.MatchString(slug) || reservedSlugs[slug] {
			return fmt.Errorf("slug: %q is not a slug: lower-case letters, digits and dashes, at most %d (it ends the screen's address, /s/lobby-tv)", deref(r.Slug), maxSlug)
		}
		if o, ok := taken(slug); ok {
			return fmt.Errorf("slug: %q is the address of the screen %q already", slug, o.Name)
		}
		m.Slug = slug
	case create || r.Slug != nil: // none asked for: one from the name
		base := slugOf(m.Name)
		m.Slug = base
		for i := 2; ; i++ {
			if _, ok := taken(m.Slug); !ok && !reservedSlugs[m.Slug] {
				break
			}
			suffix := "-" + strconv.Itoa(i)
			m.Slug = strings.TrimRight(base[:min(len(base), maxSlug-len(suffix))], "-") + suffix
		}
	}
	return nil
}

// slugOf makes a slug of a name: accents dropped (Écran → ecran), every run of other
// characters a dash. A name of no Latin letters or digits gives "screen".
func slugOf(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFD.String(strings.ToLower(name)) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		default:
			dash = true
		}
		if b.Len() >= maxSlug {
			break
		}
	}
	slug := strings.Trim(b.String(), "-")
	if len(slug) > maxSlug {
		slug = strings.TrimRight(slug[:maxSlug], "-")
	}
	if slug == "" {
		return "screen"
	}
	return slug
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// managedScreenDTO is a managed screen as /admin/screens lists it: its settings, and
// whether a page shows it now (from the cluster's view of its screens).
type managedScreenDTO struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Slug         string    `json:"slug"`
	URL          string    `json:"url"` // to bookmark on a device that loses its storage
	Userlist     string    `json:"userlist"`
	UserlistName string    `json:"userlist_name,omitempty"`
	Theme        string    `json:"theme"`
	Interval     int       `json:"interval"`
	Lang         string    `json:"lang,omitempty"`
	QR           bool      `json:"qr"`
	Clock        bool      `json:"clock"`
	Quiet        bool      `json:"quiet"`
	Paired       bool      `json:"paired"` // a kiosk shows it at /s
	CreatedAt    time.Time `json:"created_at"`
	CreatedBy    string    `json:"created_by"`
	UpdatedAt    time.Time `json:"updated_at"`
	// Online says that a page of it reported lately; the rest is of the page heard of
	// last. Pages counts the pages connected (the kiosk, and any opened at /s/{slug}).
	Online        bool       `json:"online"`
	Pages         int        `json:"pages"`
	LastHeartbeat *time.Time `json:"last_heartbeat"`
	Address       string     `json:"address,omitempty"`
	UserAgent     string     `json:"user_agent,omitempty"`
	Viewport      string     `json:"viewport,omitempty"`
	Instance      string     `json:"instance,omitempty"`
}

// waitingDTO is a kiosk that waits to be paired.
type waitingDTO struct {
	Code      string    `json:"code"`
	SeenAt    time.Time `json:"seen_at"`
	Browser   string    `json:"browser"` // from a fixed vocabulary ("Chrome 131 · Linux"), never the client's text
	UserAgent string    `json:"user_agent"`
	Address   string    `json:"address"`
	Viewport  string    `json:"viewport,omitempty"`
	ExpiresAt time.Time `json:"expires_at"`
}

// managedDTOs describes the managed screens with what st (the status of the cluster) says
// of their pages.
func (s *Server) managedDTOs(base string, st adminStatus) []managedScreenDTO {
	out := []managedScreenDTO{}
	for _, m := range s.managed.list() {
		d := managedScreenDTO{ID: m.ID, Name: m.Name, Slug: m.Slug, URL: base + "/s/" + m.Slug, Userlist: m.Userlist,
			UserlistName: s.names[m.Userlist], Theme: m.Theme, Interval: m.Interval, Lang: m.Lang, QR: m.QR, Clock: m.Clock,
			Quiet: m.Quiet, Paired: m.Device != "", CreatedAt: m.CreatedAt, CreatedBy: m.CreatedBy, UpdatedAt: m.UpdatedAt}
		var last time.Time
		for _, sc := range st.Screens {
			if sc.Managed != m.ID || sc.Left != nil {
				continue
			}
			d.Pages++
			d.Online = d.Online || sc.Online
			seen := sc.LastHeartbeat
			if seen.IsZero() {
				seen = sc.ConnectedAt
			}
			if d.Address == "" || seen.After(last) {
				last, d.Address, d.UserAgent, d.Viewport = seen, sc.Addr, sc.UserAgent, sc.Viewport
				if s.clustered() {
					d.Instance = sc.Instance
				}
				d.LastHeartbeat = timePtr(sc.LastHeartbeat)
			}
		}
		out = append(out, d)
	}
	return out
}

// waitingDTOs lists the waiting kiosks, the last seen first.
func (s *Server) waitingDTOs(ctx context.Context) ([]waitingDTO, error) {
	all, err := s.waitingKiosks(ctx)
	if err != nil {
		return nil, err
	}
	out := []waitingDTO{}
	for _, w := range all {
		out = append(out, waitingDTO{Code: w.Code, SeenAt: w.SeenAt, Browser: browserOf(w.UserAgent), UserAgent: w.UserAgent,
			Address: w.Address, Viewport: w.Viewport, ExpiresAt: w.ExpiresAt})
	}
	sortWaiting(out)
	return out, nil
}

// handleListScreens is GET /admin/screens.
func (s *Server) handleListScreens(c echo.Context) error {
	waiting, err := s.waitingDTOs(c.Request().Context())
	if err != nil {
		return errorf(http.StatusServiceUnavailable, "The waiting screens cannot be read: the store does not answer.")
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]any{"screens": s.managedDTOs(s.baseURL(c), s.status()), "waiting": waiting})
}

// handlePairScreen is POST /admin/screens: the kiosk waiting with the code becomes the
// screen asked for, and shows it within a second wherever it is connected.
func (s *Server) handlePairScreen(c echo.Context) error {
	if err := s.checkAdminWrite(c); err != nil {
		return err
	}
	addr := c.RealIP()
	if wait := s.codeGuesses.wait(addr); wait > 0 {
		return &httpError{status: http.StatusTooManyRequests, retryAfter: int(wait.Round(time.Second).Seconds()) + 1,
			message: "Too many wrong pairing codes from this address: wait a minute and try again."}
	}
	req, err := readScreenRequest(c)
	if err != nil {
		return errorf(http.StatusBadRequest, err.Error())
	}
	code := normalizeCode(deref(req.Code))
	switch {
	case strings.TrimSpace(deref(req.Code)) == "":
		return errorf(http.StatusBadRequest, "code: it is missing: type the code the screen shows")
	case code == "":
		return errorf(http.StatusBadRequest, fmt.Sprintf("code: %q is not a pairing code: six letters and digits, as the screen shows them", deref(req.Code)))
	}
	ctx := c.Request().Context()
	others, err := s.readManaged(ctx)
	if err != nil {
		return errorf(http.StatusServiceUnavailable, "The screens cannot be read: the store does not answer.")
	}
	now := time.Now()
	m := ManagedScreen{ID: newRandomID(), Theme: "dark", Interval: s.cfg.Screens.SlideSeconds, QR: true, Quiet: true,
		CreatedAt: now, CreatedBy: s.who(), UpdatedAt: now}
	if err := s.apply(&m, req, others, true); err != nil {
		return errorf(http.StatusBadRequest, err.Error())
	}
	waiting, err := s.waitingKiosks(ctx)
	if err != nil {
		return errorf(http.StatusServiceUnavailable, "The waiting screens cannot be read: the store does not answer.")
	}
	w, ok := waiting[code]
	if !ok || !now.Before(w.ExpiresAt) {
		if s.codeGuesses.fail(addr) {
			s.log.Warn("pairing codes: too many wrong tries, this client waits a minute", slog.String("remote", addr))
		}
		return errorf(http.StatusNotFound, "No screen waits with this code: check it on the screen (it changes every 15 minutes).")
	}
	m.Device = w.Device
	// A kiosk is one screen: one it was paired with before lets go of it (and keeps its
	// address, /s/{slug}).
	for _, o := range others {
		if o.Device == w.Device {
			o.Device, o.UpdatedAt = "", now
			if err := s.putManaged(ctx, o, 0); err != nil {
				return fmt.Errorf("managed screen not stored: %w", err)
			}
		}
	}
	if err := s.putManaged(ctx, m, maxManaged); errors.Is(err, news.ErrMapFull) {
		return errorf(http.StatusConflict, fmt.Sprintf("There are %d managed screens already: unpair one first.", maxManaged))
	} else if err != nil {
		return fmt.Errorf("managed screen not stored: %w", err)
	}
	if _, err := s.cluster.MapDelete(ctx, pairingMap, code); err != nil {
		s.log.Warn("pairing code not removed: it ends by itself", slog.String("code", code), slog.Any("error", err))
	}
	s.codeGuesses.forget(addr)
	s.log.Info("screen paired", slog.String("managed", m.ID), slog.String("name", m.Name), slog.String("slug", m.Slug),
		slog.String("userlist", m.Userlist), slog.String("code", code), slog.String("kiosk_address", w.Address),
		slog.String("by", m.CreatedBy), slog.String("remote", addr))
	return s.screenAnswer(c, http.StatusCreated, m)
}

// screenAnswer answers a change: the screen as JSON to a script, the status page to a form.
func (s *Server) screenAnswer(c echo.Context, status int, m ManagedScreen) error {
	if isForm(c.Request()) {
		return c.Redirect(http.StatusSeeOther, "/admin#screens")
	}
	c.Response().Header().Set("Location", "/admin/screens/"+m.ID)
	var d managedScreenDTO
	for _, x := range s.managedDTOs(s.baseURL(c), adminStatus{}) {
		if x.ID == m.ID {
			d = x
		}
	}
	if d.ID == "" { // not read back yet: the change is on its way to this instance
		d = managedScreenDTO{ID: m.ID, Name: m.Name, Slug: m.Slug, URL: s.baseURL(c) + "/s/" + m.Slug, Userlist: m.Userlist,
			UserlistName: s.names[m.Userlist], Theme: m.Theme, Interval: m.Interval, Lang: m.Lang, QR: m.QR, Clock: m.Clock,
			Quiet: m.Quiet, Paired: m.Device != "", CreatedAt: m.CreatedAt, CreatedBy: m.CreatedBy, UpdatedAt: m.UpdatedAt}
	}
	return c.JSON(status, d)
}

// managedOf is the managed screen of the route's id, read from the map itself.
func (s *Server) managedOf(c echo.Context) (ManagedScreen, map[string]ManagedScreen, error) {
	id := strings.ToLower(c.Param("id"))
	if !isRandomID(id) {
		return ManagedScreen{}, nil, errorf(http.StatusNotFound, "There is no managed screen with this id.")
	}
	all, err := s.readManaged(c.Request().Context())
	if err != nil {
		return ManagedScreen{}, nil, errorf(http.StatusServiceUnavailable, "The screens cannot be read: the store does not answer.")
	}
	m, ok := all[id]
	if !ok {
		return ManagedScreen{}, nil, errorf(http.StatusNotFound, "There is no managed screen with this id.")
	}
	return m, all, nil
}

// handleEditScreen is PATCH /admin/screens/{id} (and the status page's edit form): the
// kiosk shows the new settings within a second.
func (s *Server) handleEditScreen(c echo.Context) error {
	if err := s.checkAdminWrite(c); err != nil {
		return err
	}
	m, all, err := s.managedOf(c)
	if err != nil {
		return err
	}
	req, err := readScreenRequest(c)
	if err != nil {
		return errorf(http.StatusBadRequest, err.Error())
	}
	if req.Code != nil && !isForm(c.Request()) {
		return errorf(http.StatusBadRequest, "code: a screen's code is used once, to pair it; unpair the screen and pair its kiosk again to change it")
	}
	if err := s.apply(&m, req, all, false); err != nil {
		return errorf(http.StatusBadRequest, err.Error())
	}
	m.UpdatedAt = time.Now()
	if err := s.putManaged(c.Request().Context(), m, 0); err != nil {
		return fmt.Errorf("managed screen not stored: %w", err)
	}
	s.log.Info("screen changed", slog.String("managed", m.ID), slog.String("name", m.Name), slog.String("slug", m.Slug),
		slog.String("userlist", m.Userlist), slog.String("theme", m.Theme), slog.Int("interval", m.Interval),
		slog.String("by", s.who()), slog.String("remote", c.RealIP()))
	return s.screenAnswer(c, http.StatusOK, m)
}

// handleUnpair is DELETE /admin/screens/{id}: the kiosk is back on a fresh code within a
// second.
func (s *Server) handleUnpair(c echo.Context) error {
	if err := s.checkAdminWrite(c); err != nil {
		return err
	}
	m, _, err := s.managedOf(c)
	if err != nil {
		return err
	}
	removed, err := s.cluster.MapDelete(c.Request().Context(), managedMap, m.ID)
	if err != nil {
		return fmt.Errorf("managed screen not removed: %w", err)
	}
	if !removed {
		return errorf(http.StatusNotFound, "There is no managed screen with this id.")
	}
	s.log.Info("screen unpaired", slog.String("managed", m.ID), slog.String("name", m.Name), slog.String("by", s.who()), slog.String("remote", c.RealIP()))
	if isForm(c.Request()) {
		return c.Redirect(http.StatusSeeOther, "/admin#screens")
	}
	return c.NoContent(http.StatusNoContent)
}

// handleScreenCommand is POST /admin/screens/{id}/identify and …/reload: every instance
// acts on the pages of the screen it holds.
func (s *Server) handleScreenCommand(kind string) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := s.checkAdminWrite(c); err != nil {
			return err
		}
		m, _, err := s.managedOf(c)
		if err != nil {
			return err
		}
		if err := s.cluster.Send(c.Request().Context(), news.Command{Kind: kind, Managed: m.ID}); err != nil {
			return errorf(http.StatusServiceUnavailable, "The instances could not be told: Redis does not answer.")
		}
		s.log.Info("screen "+kind+" requested", slog.String("managed", m.ID), slog.String("name", m.Name), slog.String("by", s.who()), slog.String("remote", c.RealIP()))
		if isForm(c.Request()) {
			return c.Redirect(http.StatusSeeOther, "/admin#screens")
		}
		return c.JSON(http.StatusOK, map[string]string{"sent": kind})
	}
}

// browserOf names a user agent's browser from a fixed vocabulary.
func browserOf(ua string) string {
	if b := views.BrowserFamily(ua); b != "" {
		return b
	}
	return "unknown browser"
}

func sortWaiting(list []waitingDTO) {
	sort.Slice(list, func(i, j int) bool {
		if !list[i].SeenAt.Equal(list[j].SeenAt) {
			return list[i].SeenAt.After(list[j].SeenAt)
		}
		return list[i].Code < list[j].Code
	})
}
