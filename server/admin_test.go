package server_test

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/mmcdole/gofeed"

	"github.com/spencer-signage/signage/server"
)

type statusJSON struct {
	Upstream  string `json:"upstream"`
	Userlists []struct {
		ID      string `json:"id"`
		Items   int    `json:"items"`
		Screens int    `json:"screens"`
	} `json:"userlists"`
	Screens []screenJSON `json:"screens"`
	Token   *struct {
		ExpiresAt *time.Time `json:"expires_at"`
		Renewals  int64      `json:"renewals"`
	} `json:"token"`
}

type screenJSON struct {
	ID         string     `json:"id"`
	SID        string     `json:"sid"`
	UserlistID string     `json:"userlist"`
	Address    string     `json:"address"`
	Viewport   string     `json:"viewport"`
	Version    string     `json:"version"`
	Online     bool       `json:"online"`
	Left       *time.Time `json:"disconnected_at"`
	Managed    string     `json:"managed"` // the screen set up from /admin that it shows
	Name       string     `json:"name"`
}

// screen is the screen with this stable id on the status page, nil if it is not there.
func (st statusJSON) screen(sid string) *screenJSON {
	for i := range st.Screens {
		if st.Screens[i].SID == sid {
			return &st.Screens[i]
		}
	}
	return nil
}

func (e *env) status() statusJSON {
	e.t.Helper()
	var auth []string
	if tok := e.cfg.Server.AdminToken; tok != "" {
		auth = []string{"Authorization", "Bearer " + tok}
	}
	resp, body := e.get("/admin/status.json", auth...)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("status.json: %d %s", resp.StatusCode, body)
	}
	var st statusJSON
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		e.t.Fatal(err)
	}
	return st
}

// TestAdminSeesScreensAndTheirHeartbeats: a screen that reports is online, with its
// viewport and version; one that stops reporting is offline after two missed beats; one
// that disconnects stays listed, offline, until the same screen (its stable id) is back.
func TestAdminSeesScreensAndTheirHeartbeats(t *testing.T) {
	const beat = 500 * time.Millisecond
	const aliveSID, silentSID = "1b0bb000-0000-4000-8000-000000000001", "ca0ca000-0000-4000-8000-000000000001"
	e := newEnv(t, time.Minute)
	e.stop()
	e.opts.HeartbeatInterval = beat
	e.start()
	alive := e.dial(lobby, "sid="+aliveSID)
	defer alive.Close()
	silent := e.dial(canteen, "sid="+silentSID)
	defer silent.Close()
	first := readMessage(t, alive, 5*time.Second)
	readMessage(t, silent, 5*time.Second)
	beatOnce := func(c *websocket.Conn, version string) {
		c.WriteJSON(map[string]string{"type": "heartbeat", "version": version, "viewport": "1920x1080"}) //nolint:errcheck
	}
	beatOnce(alive, first.Version)
	silentBeat := time.Now()
	beatOnce(silent, "v-old")
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		t := time.NewTicker(beat / 2)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				beatOnce(alive, first.Version)
			}
		}
	}()
	// One read of the status page holds both screens, online with what they reported.
	var st statusJSON
	waitFor(t, 5*time.Second, "both screens online with their heartbeats", func() bool {
		st = e.status()
		a, s := st.screen(aliveSID), st.screen(silentSID)
		return len(st.Screens) == 2 && a != nil && s != nil && a.Viewport == "1920x1080" && s.Viewport == "1920x1080" &&
			a.Online && s.Online && a.Version == first.Version && s.Version == "v-old"
	})
	if st.Token == nil || st.Token.Renewals < 1 || st.Token.ExpiresAt == nil {
		t.Errorf("token: %+v, want its expiry and at least one renewal", st.Token)
	}
	waitFor(t, 5*time.Second, "the silent screen to go offline", func() bool {
		s := e.status().screen(silentSID)
		return s != nil && !s.Online
	})
	if took := time.Since(silentBeat); took < 2*beat {
		t.Errorf("offline %v after its last heartbeat, before two were missed (%v)", took, 2*beat)
	}
	for _, s := range e.status().Screens {
		if s.UserlistID == lobby && !s.Online {
			t.Errorf("the screen that keeps reporting went offline")
		}
	}
	_, page := e.get("/admin")
	if !strings.Contains(page, `data-testid="admin-screen"`) || !strings.Contains(page, "Lobby") {
		t.Errorf("the status page lacks its screens or userlists")
	}

	// It loses its connection: still listed, offline, with when it left.
	silent.Close()
	waitFor(t, 5*time.Second, "the departed screen", func() bool {
		st := e.status()
		s := st.screen(silentSID)
		return len(st.Screens) == 2 && s != nil && s.Left != nil && !s.Online
	})
	if _, page := e.get("/admin"); !strings.Contains(page, "disconnected") {
		t.Errorf("the status page does not show the departed screen")
	}
	// It comes back: listed once, connected.
	back := e.dial(canteen, "sid="+silentSID)
	defer back.Close()
	readMessage(t, back, 5*time.Second)
	beatOnce(back, "v-new")
	waitFor(t, 5*time.Second, "the screen back", func() bool {
		st := e.status()
		a, s := st.screen(aliveSID), st.screen(silentSID)
		return len(st.Screens) == 2 && a != nil && a.Left == nil && s != nil && s.Left == nil && s.Online && s.Version == "v-new"
	})
}

// TestAdminReload: the reload action, with the page's CSRF token, makes a connected
// screen receive reload; without the token it is refused.
func TestAdminReload(t *testing.T) {
	e := newEnv(t, time.Minute)
	conn := e.dial(lobby, "")
	defer conn.Close()
	readMessage(t, conn, 5*time.Second)
	_, page := e.get("/admin")
	m := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no CSRF token on the page")
	}
	post := func(form url.Values, header ...string) int {
		req := mustRequest(t, "POST", e.base+"/admin/reload", form)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if status := post(url.Values{"userlist": {lobby}}); status != http.StatusForbidden {
		t.Errorf("reload without the CSRF token: %d, want 403", status)
	}
	if status := post(url.Values{"userlist": {lobby}, "csrf": {"0000"}}); status != http.StatusForbidden {
		t.Errorf("reload with a wrong CSRF token: %d, want 403", status)
	}
	for _, h := range [][2]string{{"Origin", "https://evil.example"}, {"Sec-Fetch-Site", "cross-site"}, {"Origin", "null"}} {
		if status := post(url.Values{"userlist": {lobby}, "csrf": {m[1]}}, h[0], h[1]); status != http.StatusForbidden {
			t.Errorf("reload with the token but %s: %s: %d, want 403", h[0], h[1], status)
		}
	}
	conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond)) //nolint:errcheck
	if _, b, err := conn.ReadMessage(); err == nil {
		t.Fatalf("refused action still sent %s", b)
	}
	conn.Close()
	conn = e.dial(lobby, "v=x")
	defer conn.Close()
	readMessage(t, conn, 5*time.Second)
	// The closed screen stays listed as disconnected: reload the one that is connected.
	var id string
	waitFor(t, 5*time.Second, "the new screen on the status page", func() bool {
		for _, s := range e.status().Screens {
			if s.Left == nil {
				id = s.ID
			}
		}
		return id != ""
	})
	if status := post(url.Values{"screen": {id}, "csrf": {m[1]}}); status != http.StatusSeeOther {
		t.Fatalf("reload: %d, want 303 back to /admin", status)
	}
	if msg := readMessage(t, conn, 5*time.Second); msg.Type != "reload" {
		t.Errorf("screen got %q, want reload", msg.Type)
	}
	// From the page's own script: the token in a header, same origin, a JSON answer.
	if status := post(url.Values{"userlist": {lobby}}, "X-CSRF-Token", m[1], "Origin", e.base, "Sec-Fetch-Site", "same-origin"); status != http.StatusOK {
		t.Fatalf("reload of the userlist from the page's script: %d, want 200", status)
	}
	if msg := readMessage(t, conn, 5*time.Second); msg.Type != "reload" {
		t.Errorf("screen got %q, want reload", msg.Type)
	}
}

func mustRequest(t *testing.T, method, u string, form url.Values) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// TestAdminAccess: without admin_token only this machine may look; with it, the bearer
// token or the login cookie.
func TestAdminAccess(t *testing.T) {
	e := newEnv(t, time.Minute)
	for _, p := range []string{"/admin", "/admin/status.json", "/metrics"} {
		req := httptest.NewRequest("GET", p, nil)
		req.RemoteAddr = "203.0.113.7:40000"
		rec := httptest.NewRecorder()
		e.srv.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusForbidden {
			t.Errorf("%s from another machine: %d, want 403", p, rec.Code)
		}
	}
	const token = "admin-token-for-tests-123"
	e2 := newEnv(t, time.Minute, func(c *server.Config) { c.Server.AdminToken = token })
	if resp, _ := e2.get("/admin"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without the token: %d", resp.StatusCode)
	}
	if resp, _ := e2.get("/admin/status.json", "Authorization", "Bearer "+token); resp.StatusCode != http.StatusOK {
		t.Errorf("with the bearer token: %d", resp.StatusCode)
	}
	resp, _ := e2.get("/admin?token=" + token)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin" {
		t.Fatalf("login: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	cookie := resp.Header.Get("Set-Cookie")
	if !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Strict") {
		t.Errorf("cookie %q", cookie)
	}
	if resp, body := e2.get("/admin", "Cookie", strings.Split(cookie, ";")[0]); resp.StatusCode != http.StatusOK || strings.Contains(body, token) {
		t.Errorf("with the cookie: %d, page shows the token: %v", resp.StatusCode, strings.Contains(body, token))
	}
	if strings.Contains(e2.logs.String(), token) {
		t.Errorf("the admin token appears in the logs")
	}
}

// TestAdminTokenGuessesThrottled: a client that tries every two-letter token (676 tries)
// gets ten answers, then 429 with Retry-After for the rest of the minute, the right token
// included, while the right token from another client still opens /admin at once. A
// minute later the first client may try again. Another machine's stale cookie costs none
// of its tries.
func TestAdminTokenGuessesThrottled(t *testing.T) {
	const token = "admin-token-for-tests-123"
	clk := &clock{now: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	e := newEnv(t, time.Minute, func(c *server.Config) { c.Server.AdminToken = token })
	e.stop()
	e.opts.Now = clk.Now
	e.start()
	try := func(client *http.Client, tok string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", e.base+"/admin/status.json", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body) //nolint:errcheck
		resp.Body.Close()
		return resp
	}
	attacker, operator := fromAddr("127.0.0.2"), fromAddr("127.0.0.3")
	// A browser with an old cookie, refreshing the page: refused, but not counted.
	for range 20 {
		req, _ := http.NewRequest("GET", e.base+"/admin/status.json", nil)
		req.Header.Set("Cookie", "signage_admin=0123456789abcdef")
		if resp, err := attacker.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("a stale cookie: %v %v", resp, err)
		}
	}
	answered := map[int]int{}
	retryAfter := ""
	for a := 'a'; a <= 'z'; a++ {
		for b := 'a'; b <= 'z'; b++ {
			resp := try(attacker, string([]rune{a, b}))
			answered[resp.StatusCode]++
			if resp.StatusCode == http.StatusTooManyRequests {
				retryAfter = resp.Header.Get("Retry-After")
			}
		}
	}
	if answered[http.StatusUnauthorized] != 10 || answered[http.StatusTooManyRequests] != 666 {
		t.Errorf("676 guesses answered %v, want 10 × 401 and 666 × 429", answered)
	}
	if n, err := strconv.Atoi(retryAfter); err != nil || n < 1 || n > 61 {
		t.Errorf("Retry-After %q, want the seconds left of the minute", retryAfter)
	}
	if resp := try(attacker, token); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("the right token from the throttled client: %d, want 429 (else trying on would find it)", resp.StatusCode)
	}
	if resp := try(operator, token); resp.StatusCode != http.StatusOK {
		t.Errorf("the right token from another client: %d, want 200", resp.StatusCode)
	}
	if !strings.Contains(e.logs.String(), "too many wrong tries") {
		t.Errorf("the throttle is not logged")
	}
	clk.set(clk.Now().Add(time.Minute))
	if resp := try(attacker, token); resp.StatusCode != http.StatusOK {
		t.Errorf("the right token a minute later: %d, want 200", resp.StatusCode)
	}
}

// TestFeedsParse: RSS, Atom and JSON Feed read back with a feed parser (gofeed) hold the
// same items, with their links, dates, ids and sanitized content.
func TestFeedsParse(t *testing.T) {
	e := newEnv(t, time.Minute)
	for _, tc := range []struct{ path, feedType, version string }{
		{"/api/feed.rss", "rss", "2.0"},
		{"/api/feed.atom", "atom", "1.0"},
		{"/api/feed.json", "json", "https://jsonfeed.org/version/1.1"},
	} {
		_, body := e.get(tc.path + "?userlist=" + lobby)
		f, err := gofeed.NewParser().ParseString(body)
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		if f.FeedType != tc.feedType || f.FeedVersion != tc.version {
			t.Errorf("%s: read as %s %s, want %s %s", tc.path, f.FeedType, f.FeedVersion, tc.feedType, tc.version)
		}
		if f.Title != "Lobby" {
			t.Errorf("%s: title %q", tc.path, f.Title)
		}
		if len(f.Items) != 2 {
			t.Fatalf("%s: %d items, want 2", tc.path, len(f.Items))
		}
		first := f.Items[0]
		if first.Title != "Town hall on Friday" || first.Link != "https://intranet.example.com/th" {
			t.Errorf("%s: first item %q %q", tc.path, first.Title, first.Link)
		}
		if first.PublishedParsed == nil || !first.PublishedParsed.Equal(time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)) {
			t.Errorf("%s: published %v", tc.path, first.PublishedParsed)
		}
		if first.GUID == "" || first.GUID == f.Items[1].GUID {
			t.Errorf("%s: ids %q and %q", tc.path, first.GUID, f.Items[1].GUID)
		}
		if content := first.Content + first.Description; !strings.Contains(content, "Auditorium at 16:00.") {
			t.Errorf("%s: content %q", tc.path, content)
		}
		// What each spec requires: RSS 2.0 a channel link and description; Atom a feed
		// and entries with an updated date (and ids, checked above).
		switch tc.feedType {
		case "rss":
			if f.Link == "" || f.Description == "" {
				t.Errorf("rss: channel link %q, description %q", f.Link, f.Description)
			}
		case "atom":
			if f.UpdatedParsed == nil || first.UpdatedParsed == nil {
				t.Errorf("atom: updated %v, entry updated %v", f.UpdatedParsed, first.UpdatedParsed)
			}
		}
	}
}

// TestEmbedSnippets: the start page and the status page offer the same copy-paste
// iframe, whose listener trusts only this server's origin and sizes only the frame that
// posted; the widget itself is allowed in a frame.
func TestEmbedSnippets(t *testing.T) {
	e := newEnv(t, time.Minute)
	for _, p := range []string{"/", "/admin"} {
		_, body := e.get(p)
		body = html.UnescapeString(body)
		for _, want := range []string{
			`<iframe src="` + e.base + `/embed/` + lobby + `"`,
			`e.origin==="` + e.base + `"`,
			`f.contentWindow===e.source`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: the snippet lacks %s", p, want)
			}
		}
	}
	resp, body := e.get("/embed/" + lobby + "?limit=1")
	if resp.StatusCode != http.StatusOK || strings.Count(body, `data-testid="headline"`) < 1 {
		t.Fatalf("embed: %d", resp.StatusCode)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'self'") || resp.Header.Get("X-Frame-Options") != "" {
		t.Errorf("embed may not be framed: CSP %q, X-Frame-Options %q", csp, resp.Header.Get("X-Frame-Options"))
	}
}
