package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"

	"github.com/spencer-signage/signage/server/screens"
	"github.com/spencer-signage/signage/views"
)

// A kiosk opens /s, which is short enough to type with a TV's remote. A browser the server
// does not know gets the pairing view, with a code the operator enters in /admin; once
// paired, the same address shows the screen that was set up, with its settings. /s/{slug}
// shows a managed screen by its name, for devices that lose their storage and for
// bookmarks. Each page carries a build that names what it shows (the pairing view, or a
// revision of its screen): when that changes, the page reloads onto what it should show.

// pairBuild is the build of the pairing view, and managedBuild that of a managed screen's
// page.
func (s *Server) pairBuild() string { return s.build + ".pair" }

func (s *Server) managedBuild(m ManagedScreen) string { return s.build + "." + m.revision() }

// kioskScreen is the managed screen a kiosk's request is for: the one with the slug of the
// route, else the one paired with its device (device "" for none).
func (s *Server) kioskScreen(c echo.Context, device string) (ManagedScreen, bool) {
	if slug := strings.ToLower(c.Param("slug")); slug != "" {
		if m, ok := s.managed.withSlug(slug); ok {
			return m, true
		}
	}
	if device == "" {
		return ManagedScreen{}, false
	}
	return s.managed.ofDevice(deviceKey(device))
}

// pairedNow looks in the shared map itself for the screen paired with a device, which
// this instance may not have heard of yet: a kiosk reloads the moment its code is used,
// and its request may come to an instance that the change has not reached.
func (s *Server) pairedNow(ctx context.Context, key string) (ManagedScreen, bool) {
	all, err := s.readManaged(ctx)
	if err != nil {
		return ManagedScreen{}, false
	}
	var found ManagedScreen
	for _, m := range sortedByAge(all) {
		if m.Device == key {
			found = m // the newest wins, as in the index
		}
	}
	return found, found.ID != ""
}

// handleKiosk is /s and /s/{slug}: the screen the kiosk is set up as, or the pairing view.
func (s *Server) handleKiosk(c echo.Context) error {
	if slug := strings.ToLower(c.Param("slug")); slug != "" {
		if m, ok := s.managed.withSlug(slug); ok {
			return s.renderManaged(c, m, "/s/"+slug, "")
		}
	}
	device := s.kioskDevice(c)
	m, ok := s.managed.ofDevice(deviceKey(device))
	if !ok {
		m, ok = s.pairedNow(c.Request().Context(), deviceKey(device))
	}
	if ok {
		return s.renderManaged(c, m, "/s", device)
	}
	return s.renderPairing(c, device)
}

// managedOptions are the page options of m, with the access key of the request.
func (s *Server) managedOptions(c echo.Context, m ManagedScreen) views.Options {
	o := m.options(s)
	if k := c.QueryParam("key"); len(k) <= 256 {
		o.Key = k
	}
	return o
}

func (s *Server) renderManaged(c echo.Context, m ManagedScreen, base, device string) error {
	ul, err := s.userlist(m.Userlist)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "private, no-cache") // it may hold the kiosk's id
	return s.renderScreen(c, ul, s.managedOptions(c, m), screenAs{quietOff: !m.Quiet, build: s.managedBuild(m), base: base, device: device})
}

// pairLang is the language of the pairing view: ?lang=, else spencer.locale.
func (s *Server) pairLang(c echo.Context) string {
	if l := localeOf(c.QueryParam("lang")); l != "" {
		return l
	}
	return localeOf(s.cfg.Spencer.Locale)
}

// seenKiosk is what a kiosk's request says of it, for the operator's list.
func seenKiosk(c echo.Context) waitingKiosk {
	w := waitingKiosk{UserAgent: truncate(c.Request().UserAgent(), 256), Address: c.RealIP()}
	if vp := c.QueryParam("vp"); len(vp) <= 32 && viewportPattern.MatchString(vp) {
		w.Viewport = vp
	}
	return w
}

func (s *Server) renderPairing(c echo.Context, device string) error {
	w, err := s.codeFor(c.Request().Context(), deviceKey(device), seenKiosk(c))
	if err != nil {
		return waitingError(err)
	}
	page := views.PairPage{Card: s.pairView(c, w, s.pairLang(c)), Assets: s.assets, Build: s.pairBuild(), Device: device,
		Lang: localeOf(c.QueryParam("lang"))}
	c.Response().Header().Set("Cache-Control", "private, no-cache")
	return s.render(c, views.Pair(page))
}

// pairView is what the pairing view shows of w: its code, the QR code to /admin's pairing
// form with the code filled in, the server's name, and when to ask for the next code.
func (s *Server) pairView(c echo.Context, w waitingKiosk, lang string) views.PairView {
	host := s.publicHost
	if host == "" {
		host = c.Request().Host
	}
	renew := time.Until(w.ExpiresAt.Add(-s.pairing.renewMargin()))
	return views.PairView{Code: w.Code, Host: host, Locale: views.LocaleFor(lang),
		QR:      views.QRCode(s.baseURL(c) + "/admin?pair=" + w.Code + "#screens"),
		RenewIn: int(max(renew, time.Second).Milliseconds())}
}

// pairFragment is the answer to a poll of the pairing view.
type pairFragment struct {
	Build   string `json:"build"`
	Version string `json:"version,omitempty"` // the code
	HTML    string `json:"html,omitempty"`    // the view, when the code is not the one the page shows
	Renew   int    `json:"renew,omitempty"`   // milliseconds until the page asks again
}

// codeMessage is the WebSocket message of a pairing view's new code.
func (s *Server) codeMessage(c echo.Context, f pairFragment) *screens.Message {
	b, _ := json.Marshal(struct {
		Type string `json:"type"`
		pairFragment
	}{"deck", f})
	return screens.NewMessage(b)
}

// pairFragmentOf is the view of w for a page that shows the code shown.
func (s *Server) pairFragmentOf(c echo.Context, w waitingKiosk, shown string) pairFragment {
	v := s.pairView(c, w, s.pairLang(c))
	f := pairFragment{Build: s.pairBuild(), Version: w.Code, Renew: v.RenewIn}
	if w.Code != shown {
		var buf bytes.Buffer
		views.PairCard(v).Render(c.Request().Context(), &buf) //nolint:errcheck // a bytes.Buffer does not fail
		f.HTML = buf.String()
	}
	return f
}

// handleKioskDeck answers a kiosk page's poll: a managed screen's deck, as a screen's
// address would; or, for the pairing view, its build (which tells it when it was paired)
// and, when it asks (?r=1, its code ends soon), the code to show.
func (s *Server) handleKioskDeck(c echo.Context) error {
	device := requestDevice(c)
	if m, ok := s.kioskScreen(c, device); ok {
		ul, err := s.userlist(m.Userlist)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, s.fragmentOf(c, ul, s.managedOptions(c, m), screenAs{quietOff: !m.Quiet, build: s.managedBuild(m)},
			(*Edition).DeckHTML, func(l *layer) string { return l.screen }))
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	f := pairFragment{Build: s.pairBuild()}
	shown := normalizeCode(c.QueryParam("v"))
	if device != "" && (shown == "" || c.QueryParam("r") == "1") {
		w, err := s.codeFor(c.Request().Context(), deviceKey(device), seenKiosk(c))
		if err != nil {
			return waitingError(err)
		}
		f = s.pairFragmentOf(c, w, shown)
	}
	return c.JSON(http.StatusOK, f)
}

// handleKioskWS connects a kiosk's page: a managed screen joins the hub as any screen of
// its userlist does; the pairing view joins the hub of waiting kiosks, under its device,
// where a pairing made on any instance reaches it.
func (s *Server) handleKioskWS(c echo.Context) error {
	device := requestDevice(c)
	if m, ok := s.kioskScreen(c, device); ok {
		ul, err := s.userlist(m.Userlist)
		if err != nil {
			return err
		}
		rev := m.revision()
		return s.connectScreen(c, ul, s.managedOptions(c, m), screenAs{quietOff: !m.Quiet, build: s.managedBuild(m),
			managed: m.ID, name: m.Name,
			stale: func() bool {
				now, ok := s.kioskScreen(c, device)
				return !ok || now.ID != m.ID || now.revision() != rev
			}})
	}
	return s.connectWaiting(c, device)
}

func (s *Server) connectWaiting(c echo.Context, device string) error {
	r := c.Request()
	if !websocket.IsWebSocketUpgrade(r) {
		return errorf(http.StatusBadRequest, "This address is a kiosk's WebSocket: open /s instead.")
	}
	if device == "" {
		return errorf(http.StatusBadRequest, "This browser sent no "+deviceCookie+" cookie: a kiosk is recognised by it. Allow cookies, or open the screen's own address, /s/{slug}.")
	}
	key, addr := deviceKey(device), c.RealIP()
	if err := s.waiting.Reserve(addr); err != nil {
		return errorf(http.StatusTooManyRequests, "Too many screens are waiting to be paired.")
	}
	conn, err := s.upgrader.Upgrade(c.Response(), r, nil)
	if err != nil {
		s.waiting.Release(addr)
		return nil
	}
	c.Response().Status = http.StatusSwitchingProtocols
	q := r.URL.Query()
	shown := normalizeCode(q.Get("v"))
	scr := s.waiting.NewScreen(conn, screens.Params{ID: s.newScreenID(), Userlist: key, Addr: addr,
		UserAgent: truncate(r.UserAgent(), 256), Version: shown})
	if err := s.waiting.Register(scr); err != nil {
		s.waiting.Release(addr)
		conn.Close()
		return nil
	}
	// Registered first, then checked: a pairing from now on reaches it through the hub,
	// and one made before is seen here.
	_, paired := s.managed.ofDevice(key)
	switch {
	case q.Get("b") != s.pairBuild(), paired:
		scr.QueueReload()
	default:
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		w, err := s.codeFor(ctx, key, seenKiosk(c))
		cancel()
		if err == nil && w.Code != shown {
			scr.QueueDeck(s.codeMessage(c, s.pairFragmentOf(c, w, shown)), w.Code)
		}
	}
	scr.Start()
	return nil
}
