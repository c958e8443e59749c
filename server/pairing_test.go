package server_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/spencer-signage/signage/server"
	"github.com/spencer-signage/signage/views"
)

var (
	codePattern = regexp.MustCompile(`^[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{3} [ABCDEFGHJKMNPQRSTUVWXYZ23456789]{3}$`)
	idPattern   = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

// TestPairingAKiosk is what a person does, over real HTTP and WebSocket: a browser the
// server does not know opens /s and gets a code, and nothing of the news; it keeps its code
// when it reloads; the operator pairs it typing the code in lower case with its space; its
// WebSocket says to reload at once, and /s is now the lobby's screen; the code is used up.
func TestPairingAKiosk(t *testing.T) {
	e := newEnv(t, time.Minute)
	k := newKiosk(t, e.base)
	p := k.open("/s")
	if p.status != http.StatusOK || !codePattern.MatchString(p.code()) {
		t.Fatalf("GET /s: %d, code %q", p.status, p.code())
	}
	if strings.Contains(p.body, "Town hall") || strings.Contains(p.body, lobby) || strings.Contains(p.body, "Lobby") {
		t.Errorf("the pairing view shows something of the news or its userlists")
	}
	if !idPattern.MatchString(k.device()) {
		t.Errorf("the kiosk's cookie holds %q, not 128 random bits", k.device())
	}
	// The QR code opens /admin's pairing form with the code filled in.
	code := strings.ReplaceAll(p.code(), " ", "")
	want := views.QRCode(e.base + "/admin?pair=" + code + "#screens")
	if got := p.doc.Find("[data-testid=pair-qr] path").AttrOr("d", ""); got != want.Path {
		t.Errorf("the QR code does not encode %s", e.base+"/admin?pair="+code+"#screens")
	}
	if host := strings.TrimPrefix(e.base, "http://"); !strings.Contains(p.doc.Find("[data-testid=pair-server]").Text(), host) {
		t.Errorf("the view does not name the server %s: %q", host, p.doc.Find("[data-testid=pair-server]").Text())
	}
	_, form := e.get("/admin?pair=" + code)
	if !strings.Contains(form, `value="`+code+`"`) {
		t.Errorf("/admin?pair=%s does not fill the code in", code)
	}
	if again := k.open("/s"); again.code() != p.code() {
		t.Errorf("a reload shows another code: %q, then %q", p.code(), again.code())
	}
	l := listScreens(t, e.base)
	if len(l.Waiting) != 1 || l.Waiting[0].Code != code || l.Waiting[0].Address != "127.0.0.1" || l.Waiting[0].Browser == "" {
		t.Fatalf("waiting: %+v", l.Waiting)
	}

	ws := k.dial("/s/ws", p)
	typed := strings.ToLower(p.code()) // "k7m 3q9", as typed on a phone
	posted := time.Now()
	m := pairKiosk(t, e.base, typed, "Lobby TV")
	waitType(t, ws, "reload", time.Second)
	t.Logf("the kiosk was told to reload %v after the POST", time.Since(posted).Round(time.Millisecond))
	if !idPattern.MatchString(m.ID) || m.Slug != "lobby-tv" || m.Userlist != lobby || m.Theme != "dark" || !m.QR || !m.Quiet || m.Clock || m.Device != "" {
		t.Errorf("the new screen: %+v", m)
	}
	if m.URL != e.base+"/s/lobby-tv" {
		t.Errorf("its address %q", m.URL)
	}
	screen := k.open("/s")
	if screen.headline() != "Town hall on Friday" || screen.doc.Find("body").AttrOr("data-base", "") != "/s" {
		t.Errorf("/s after the pairing: headline %q, base %q", screen.headline(), screen.doc.Find("body").AttrOr("data-base", ""))
	}
	if status, body := adminRequest(t, e.base, "", http.MethodPost, "/admin/screens", `{"code":"`+code+`","name":"Again","userlist":"`+lobby+`"}`); status != http.StatusNotFound || !strings.Contains(body, `"error"`) {
		t.Errorf("the same code twice: %d %s", status, body)
	}
	l = listScreens(t, e.base)
	if len(l.Waiting) != 0 || len(l.Screens) != 1 || l.Screens[0].Name != "Lobby TV" || !l.Screens[0].Paired {
		t.Errorf("after the pairing: %+v", l)
	}
	if !strings.Contains(e.logs.String(), `"msg":"screen paired"`) || !strings.Contains(e.logs.String(), `"by":"this machine"`) {
		t.Errorf("the pairing is not logged with who made it")
	}
}

// TestPairingBadFields: a bad field gets 400 with the field named, before the code is
// looked at; a code that no kiosk waits with gets 404.
func TestPairingBadFields(t *testing.T) {
	e := newEnv(t, time.Minute, func(c *server.Config) { c.Screens.AllowAnyUserlist = false })
	p := newKiosk(t, e.base).open("/s")
	code := quote(p.code())
	for _, tc := range []struct{ body, field string }{
		{`{"name":"TV","userlist":"` + lobby + `"}`, "code"},
		{`{"code":"AB","name":"TV","userlist":"` + lobby + `"}`, "code"},
		{`{"code":` + code + `,"userlist":"` + lobby + `"}`, "name"},
		{`{"code":` + code + `,"name":"  ","userlist":"` + lobby + `"}`, "name"},
		{`{"code":` + code + `,"name":"TV\u202e","userlist":"` + lobby + `"}`, "name"},
		{`{"code":` + code + `,"name":"` + strings.Repeat("x", 81) + `","userlist":"` + lobby + `"}`, "name"},
		{`{"code":` + code + `,"name":"TV"}`, "userlist"},
		{`{"code":` + code + `,"name":"TV","userlist":"lobby"}`, "userlist"},
		{`{"code":` + code + `,"name":"TV","userlist":"00000000-0000-4000-8000-000000000000"}`, "userlist"}, // not configured
		{`{"code":` + code + `,"name":"TV","userlist":"` + lobby + `","slug":"Lobby TV"}`, "slug"},
		{`{"code":` + code + `,"name":"TV","userlist":"` + lobby + `","slug":"ws"}`, "slug"},
		{`{"code":` + code + `,"name":"TV","userlist":"` + lobby + `","theme":"blue"}`, "theme"},
		{`{"code":` + code + `,"name":"TV","userlist":"` + lobby + `","interval":1}`, "interval"},
		{`{"code":` + code + `,"name":"TV","userlist":"` + lobby + `","interval":"ten"}`, "interval"},
		{`{"code":` + code + `,"name":"TV","userlist":"` + lobby + `","lang":"not a locale"}`, "lang"},
		{`{"code":` + code + `,"name":"TV","userlist":"` + lobby + `","qr":"yes"}`, "qr"},
		{`{"code":` + code + `,"name":"TV","userlist":"` + lobby + `","clock":1}`, "clock"},
		{`{"code":` + code + `,"name":"TV","userlist":"` + lobby + `","quiet":"off"}`, "quiet"},
		{`{"code":` + code + `,"name":"TV","userlist":"` + lobby + `","colour":"red"}`, "colour"},
	} {
		status, body := adminRequest(t, e.base, "", http.MethodPost, "/admin/screens", tc.body)
		if status != http.StatusBadRequest || !strings.Contains(body, tc.field) {
			t.Errorf("%s: %d %s, want 400 naming %s", tc.body, status, body, tc.field)
		}
	}
	if status, body := adminRequest(t, e.base, "", http.MethodPost, "/admin/screens", `{"code":"ZZZ 999","name":"TV","userlist":"`+lobby+`"}`); status != http.StatusNotFound || !strings.Contains(body, `"error"`) {
		t.Errorf("a code no kiosk waits with: %d %s, want 404", status, body)
	}
	// The kiosk still waits: none of this paired it.
	if l := listScreens(t, e.base); len(l.Screens) != 0 || len(l.Waiting) != 1 {
		t.Errorf("after the refusals: %+v", l)
	}
	// A slug of someone else's is refused, naming it.
	pairKiosk(t, e.base, p.code(), "Lobby TV")
	q := newKiosk(t, e.base).open("/s")
	status, body := adminRequest(t, e.base, "", http.MethodPost, "/admin/screens", `{"code":`+quote(q.code())+`,"name":"Hall","userlist":"`+lobby+`","slug":"lobby-tv"}`)
	if status != http.StatusBadRequest || !strings.Contains(body, "slug") || !strings.Contains(body, "Lobby TV") {
		t.Errorf("a slug taken: %d %s", status, body)
	}
	// The same name gets an address of its own.
	if m := pairKiosk(t, e.base, q.code(), "Lobby TV"); m.Slug != "lobby-tv-2" {
		t.Errorf("the second Lobby TV's slug: %q", m.Slug)
	}
}

// TestPairingWrongCodesAreThrottled: ten wrong codes a minute from one client are answered
// 404; after them the client waits (429, Retry-After), the right code included.
func TestPairingWrongCodesAreThrottled(t *testing.T) {
	e := newEnv(t, time.Minute)
	right := newKiosk(t, e.base).open("/s").code()
	wrong := []string{"AAA AAA", "BBB BBB", "CCC CCC", "DDD DDD", "EEE EEE", "FFF FFF", "GGG GGG", "HHH HHH", "JJJ JJJ", "KKK KKK"}
	for i, code := range wrong {
		if status, body := adminRequest(t, e.base, "", http.MethodPost, "/admin/screens", `{"code":"`+code+`","name":"TV","userlist":"`+lobby+`"}`); status != http.StatusNotFound {
			t.Fatalf("wrong code %d: %d %s, want 404", i+1, status, body)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, e.base+"/admin/screens", strings.NewReader(`{"code":`+quote(right)+`,"name":"TV","userlist":"`+lobby+`"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("the eleventh try: %d, Retry-After %q; want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

// TestPairingCodeRenews: a code lasts its lifetime (shortened here); before it ends the
// page is given a new one when it asks, and the old one, once ended, pairs nothing.
func TestPairingCodeRenews(t *testing.T) {
	e := newEnv(t, time.Minute)
	e.stop()
	e.opts.PairingCodeTTL = 3 * time.Second
	e.start()
	k := newKiosk(t, e.base)
	p := k.open("/s")
	old := strings.ReplaceAll(p.code(), " ", "")
	renew := p.doc.Find("#pair").AttrOr("data-renew", "")
	if renew == "" || renew == "0" {
		t.Fatalf("the view does not say when to ask for a new code: %q", renew)
	}
	var fresh string
	waitFor(t, 10*time.Second, "a new code", func() bool {
		f := k.open("/s/deck?r=1&v=" + old)
		fresh = between(f.body, `"version":"`, `"`, 0)
		return fresh != "" && fresh != old && strings.Contains(f.body, `data-testid=\"pair-code\"`)
	})
	waitFor(t, 10*time.Second, "the old code to end", func() bool {
		for _, w := range listScreens(t, e.base).Waiting {
			if w.Code == old {
				return false
			}
		}
		return true
	})
	if status, _ := adminRequest(t, e.base, "", http.MethodPost, "/admin/screens", `{"code":"`+old+`","name":"TV","userlist":"`+lobby+`"}`); status != http.StatusNotFound {
		t.Errorf("an ended code: %d, want 404", status)
	}
	pairKiosk(t, e.base, fresh, "TV")
}

// TestManagedScreenLive: a paired kiosk's page follows its screen: a PATCH reloads it with
// the new settings within a second, announcements reach it through its userlist, Identify
// has it show its name, the status page and status.json call it by its name, a restart
// keeps it, /s/{slug} shows it to any browser, and a DELETE puts it back on a fresh code
// within a second.
func TestManagedScreenLive(t *testing.T) {
	e := newEnv(t, time.Minute)
	k := newKiosk(t, e.base)
	m := pairKiosk(t, e.base, k.open("/s").code(), "Lobby TV", `,"interval":20,"clock":true`)
	p := k.open("/s")
	if p.headline() != "Town hall on Friday" || p.doc.Find("body").AttrOr("data-interval", "") != "20" || p.doc.Find("body").AttrOr("data-clock", "") != "1" {
		t.Fatalf("the screen's page: headline %q, interval %q, clock %q", p.headline(), p.doc.Find("body").AttrOr("data-interval", ""), p.doc.Find("body").AttrOr("data-clock", ""))
	}
	ws := k.dial("/s/ws", p)
	ws.WriteJSON(map[string]string{"type": "heartbeat", "version": "v", "viewport": "1920x1080"}) //nolint:errcheck
	waitFor(t, 5*time.Second, "the screen online under its name", func() bool {
		for _, sc := range e.status().Screens {
			if sc.Name == "Lobby TV" && sc.Managed == m.ID && sc.Online {
				return true
			}
		}
		return false
	})
	if l := listScreens(t, e.base); len(l.Screens) != 1 || !l.Screens[0].Online || l.Screens[0].Pages != 1 || l.Screens[0].LastHeartbeat == nil {
		t.Errorf("/admin/screens: %+v", l.Screens)
	}
	if _, page := e.get("/admin"); !strings.Contains(page, `data-testid="screen-name">Lobby TV<`) || !strings.Contains(page, `data-testid="managed-name">Lobby TV<`) {
		t.Errorf("the status page does not call the screen by its name")
	}

	// Announcements reach it through its userlist.
	if resp, body := e.post(`{"text":"Fire drill at 11:00","severity":"urgent","userlists":["` + lobby + `"],"expires_at":"` + inAnHour() + `"}`); resp.StatusCode != http.StatusCreated {
		t.Fatalf("announcement: %d %s", resp.StatusCode, body)
	}
	if a := waitType(t, ws, "announcements", 2*time.Second); !strings.Contains(a.HTML, "Fire drill") {
		t.Errorf("the announcement: %q", a.HTML)
	}

	// Identify: the page shows its name.
	if status, body := adminRequest(t, e.base, "", http.MethodPost, "/admin/screens/"+m.ID+"/identify", ""); status != http.StatusOK {
		t.Fatalf("identify: %d %s", status, body)
	}
	if id := waitType(t, ws, "identify", time.Second); !strings.Contains(id.raw, `"name":"Lobby TV"`) {
		t.Errorf("identify: %s", id.raw)
	}

	// A PATCH reloads it, with the new settings.
	patched := time.Now()
	if status, body := adminRequest(t, e.base, "", http.MethodPatch, "/admin/screens/"+m.ID, `{"theme":"light"}`); status != http.StatusOK || !strings.Contains(body, `"theme":"light"`) {
		t.Fatalf("PATCH: %d %s", status, body)
	}
	waitType(t, ws, "reload", time.Second)
	t.Logf("reload %v after the PATCH", time.Since(patched).Round(time.Millisecond))
	p = k.open("/s")
	if !strings.Contains(p.doc.Find("html").AttrOr("class", ""), "theme-light") {
		t.Errorf("after the PATCH the page is %q", p.doc.Find("html").AttrOr("class", ""))
	}
	for _, tc := range []struct{ body, field string }{
		{`{"code":"ABCDEF"}`, "code"}, {`{"interval":0}`, "interval"}, {`{"name":""}`, "name"}, {`{"device":"x"}`, "device"},
	} {
		if status, body := adminRequest(t, e.base, "", http.MethodPatch, "/admin/screens/"+m.ID, tc.body); status != http.StatusBadRequest || !strings.Contains(body, tc.field) {
			t.Errorf("PATCH %s: %d %s, want 400 naming %s", tc.body, status, body, tc.field)
		}
	}
	if status, _ := adminRequest(t, e.base, "", http.MethodPatch, "/admin/screens/"+strings.Repeat("0", 32), `{"theme":"dark"}`); status != http.StatusNotFound {
		t.Errorf("PATCH of no screen: %d, want 404", status)
	}

	// A restart keeps it.
	e.stop()
	e.start()
	k2 := k.on(e.base)
	if p := k2.open("/s"); p.headline() != "Town hall on Friday" || !strings.Contains(p.doc.Find("html").AttrOr("class", ""), "theme-light") {
		t.Fatalf("after a restart /s shows %q (%q)", p.headline(), p.doc.Find("html").AttrOr("class", ""))
	}
	// Any browser sees it at its address; an address no screen has is the pairing view.
	if p := newKiosk(t, e.base).open("/s/lobby-tv"); p.headline() != "Town hall on Friday" || !strings.Contains(p.doc.Find("html").AttrOr("class", ""), "theme-light") {
		t.Errorf("/s/lobby-tv: %q", p.headline())
	}
	if p := newKiosk(t, e.base).open("/s/no-such-screen"); !codePattern.MatchString(p.code()) {
		t.Errorf("/s/no-such-screen: no pairing view (%d)", p.status)
	}

	// A DELETE puts the kiosk back on a fresh code.
	p = k2.open("/s")
	ws = k2.dial("/s/ws", p)
	waitType(t, ws, "announcements", 5*time.Second) // the urgent one: it has joined the hub
	deleted := time.Now()
	if status, body := adminRequest(t, e.base, "", http.MethodDelete, "/admin/screens/"+m.ID, ""); status != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", status, body)
	}
	waitType(t, ws, "reload", time.Second)
	t.Logf("reload %v after the DELETE", time.Since(deleted).Round(time.Millisecond))
	if p := k2.open("/s"); !codePattern.MatchString(p.code()) {
		t.Errorf("after the DELETE /s shows no code")
	}
	if status, _ := adminRequest(t, e.base, "", http.MethodDelete, "/admin/screens/"+m.ID, ""); status != http.StatusNotFound {
		t.Errorf("a second DELETE: %d, want 404", status)
	}
}

// TestKioskCookieOpensNothing: the kiosk's cookie is sent to /s alone, and /admin does not
// take it; a code pairs only its own kiosk, and only through /admin.
func TestKioskCookieOpensNothing(t *testing.T) {
	const token = "0123456789abcdef0123"
	e := newEnv(t, time.Minute, func(c *server.Config) { c.Server.AdminToken = token })
	k := newKiosk(t, e.base)
	p := k.open("/s")
	resp, _ := http.Get(e.base + "/s")
	for _, c := range resp.Cookies() {
		if c.Name == "signage_device" && c.Path != "/s" {
			t.Errorf("the kiosk's cookie is sent to %q, not only to /s", c.Path)
		}
	}
	for _, path := range []string{"/admin", "/admin/screens", "/admin/status.json"} {
		resp, _ := e.get(path, "Cookie", "signage_device="+k.device(), "Authorization", "Bearer "+k.device())
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s with the kiosk's cookie: %d, want 401", path, resp.StatusCode)
		}
	}
	// Without the admin token a code pairs nothing.
	if status, _ := adminRequest(t, e.base, "", http.MethodPost, "/admin/screens", `{"code":`+quote(p.code())+`,"name":"TV","userlist":"`+lobby+`"}`); status != http.StatusUnauthorized {
		t.Errorf("pairing without the admin token: %d, want 401", status)
	}
	if status, body := adminRequest(t, e.base, token, http.MethodPost, "/admin/screens", `{"code":`+quote(p.code())+`,"name":"TV","userlist":"`+lobby+`"}`); status != http.StatusCreated {
		t.Errorf("pairing with the admin token: %d %s", status, body)
	}
	// A browser on another site cannot pair, even with the operator's cookie.
	req, _ := http.NewRequest(http.MethodPost, e.base+"/admin/screens", strings.NewReader(`{"code":"ABC DEF","name":"TV","userlist":"`+lobby+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Origin", "https://evil.example")
	if resp, err := http.DefaultTransport.RoundTrip(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("a cross-site POST: %v %v, want 403", resp, err)
	}
}

// TestAlertsNameManagedScreens: the webhook calls a managed screen that goes offline and
// comes back by the name the operator gave it, as the log does.
func TestAlertsNameManagedScreens(t *testing.T) {
	hook := &webhook{}
	hs := httptest.NewServer(hook)
	defer hs.Close()
	const beat = 200 * time.Millisecond
	e := newEnv(t, time.Minute, func(c *server.Config) {
		c.Alerts.WebhookURL = hs.URL
		c.Alerts.ScreenOfflineAfter = server.Duration{Duration: 600 * time.Millisecond}
	})
	e.stop()
	e.opts.HeartbeatInterval = beat
	e.opts.AlertCheckInterval = 50 * time.Millisecond
	e.start()
	k := newKiosk(t, e.base)
	pairKiosk(t, e.base, k.open("/s").code(), "Reception TV")
	p := k.open("/s")
	connect := func() (*websocket.Conn, chan struct{}) {
		c := k.dial("/s/ws", p)
		stop := make(chan struct{})
		go func() {
			tk := time.NewTicker(beat / 2)
			defer tk.Stop()
			for {
				c.WriteJSON(map[string]string{"type": "heartbeat", "viewport": "1920x1080"}) //nolint:errcheck
				select {
				case <-stop:
					return
				case <-tk.C:
				}
			}
		}()
		return c, stop
	}
	c, stop := connect()
	waitFor(t, 5*time.Second, "the screen online", func() bool {
		st := e.status()
		return len(st.Screens) == 1 && st.Screens[0].Online && st.Screens[0].Name == "Reception TV"
	})
	target := e.srv.AlertChecks() + 2
	waitFor(t, 5*time.Second, "the alerter to see it", func() bool { return e.srv.AlertChecks() >= target })
	close(stop)
	c.Close()
	waitFor(t, 10*time.Second, "screen_offline", func() bool { return strings.Join(hook.events(), ",") == "screen_offline" })
	c, stop = connect()
	defer func() { close(stop); c.Close() }()
	waitFor(t, 10*time.Second, "screen_recovered", func() bool { return strings.Join(hook.events(), ",") == "screen_offline,screen_recovered" })
	hook.mu.Lock()
	defer hook.mu.Unlock()
	for _, a := range hook.alerts {
		if a.Name != "Reception TV" || !strings.Contains(a.Text, "“Reception TV”") || !strings.Contains(a.Text, "Lobby") {
			t.Errorf("%s: name %q, text %q", a.Event, a.Name, a.Text)
		}
	}
	if !strings.Contains(e.logs.String(), `"name":"Reception TV"`) {
		t.Errorf("the log does not call the screen by its name")
	}
}
