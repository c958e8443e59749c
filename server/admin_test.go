package server_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/mmcdole/gofeed"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/spencer-signage/signage/server"
)

type statusJSON struct {
	Upstream  string `json:"upstream"`
	Userlists []struct {
		ID      string `json:"id"`
		Items   int    `json:"items"`
		Screens int    `json:"screens"`
	} `json:"userlists"`
	Screens []struct {
		ID         string `json:"id"`
		UserlistID string `json:"userlist"`
		Viewport   string `json:"viewport"`
		Version    string `json:"version"`
		Online     bool   `json:"online"`
	} `json:"screens"`
	Token *struct {
		Renewals int64 `json:"Renewals"`
	} `json:"token"`
}

func (e *env) status() statusJSON {
	e.t.Helper()
	resp, body := e.get("/admin/status.json")
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
// viewport and version; one that stops reporting is offline after two missed beats.
func TestAdminSeesScreensAndTheirHeartbeats(t *testing.T) {
	const beat = 300 * time.Millisecond
	e := newEnv(t, time.Minute)
	e.stop()
	e.opts.HeartbeatInterval = beat
	e.start()
	alive := e.dial(lobby, "")
	defer alive.Close()
	silent := e.dial(canteen, "")
	defer silent.Close()
	first := readMessage(t, alive, 5*time.Second)
	readMessage(t, silent, 5*time.Second)
	beatOnce := func(c *websocket.Conn, version string) {
		c.WriteJSON(map[string]string{"type": "heartbeat", "version": version, "viewport": "1920x1080"}) //nolint:errcheck
	}
	beatOnce(alive, first.Version)
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
	waitFor(t, 5*time.Second, "the heartbeats", func() bool {
		st := e.status()
		return len(st.Screens) == 2 && st.Screens[0].Viewport == "1920x1080" && st.Screens[1].Viewport == "1920x1080"
	})
	st := e.status()
	if !st.Screens[0].Online || !st.Screens[1].Online || st.Screens[0].Version != first.Version {
		t.Fatalf("after a heartbeat: %+v", st.Screens)
	}
	waitFor(t, 5*time.Second, "the silent screen to go offline", func() bool {
		for _, s := range e.status().Screens {
			if s.UserlistID == canteen {
				return !s.Online
			}
		}
		return false
	})
	for _, s := range e.status().Screens {
		if s.UserlistID == lobby && !s.Online {
			t.Errorf("the screen that keeps reporting went offline")
		}
	}
	_, page := e.get("/admin")
	if !strings.Contains(page, `data-testid="admin-screen"`) || !strings.Contains(page, "Lobby") {
		t.Errorf("the status page lacks its screens or userlists")
	}
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
	post := func(form url.Values) int {
		resp, err := http.DefaultTransport.RoundTrip(mustRequest(t, "POST", e.base+"/admin/reload", form))
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
	conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond)) //nolint:errcheck
	if _, b, err := conn.ReadMessage(); err == nil {
		t.Fatalf("refused action still sent %s", b)
	}
	conn.Close()
	conn = e.dial(lobby, "v=x")
	defer conn.Close()
	readMessage(t, conn, 5*time.Second)
	id := e.status().Screens[0].ID
	if status := post(url.Values{"screen": {id}, "csrf": {m[1]}}); status != http.StatusSeeOther {
		t.Fatalf("reload: %d, want 303 back to /admin", status)
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

// TestMetrics: /metrics parses as Prometheus text and carries the series an operator
// needs, with route templates rather than raw ids as labels.
func TestMetrics(t *testing.T) {
	e := newEnv(t, time.Minute)
	conn := e.dial(lobby, "")
	defer conn.Close()
	readMessage(t, conn, 5*time.Second)
	e.get("/api/feed.json")
	e.get("/screens/" + canteen)
	e.get("/screens/not-a-uuid")
	e.get("/api/feed.json?userlist=00000000-0000-4000-8000-000000000000")
	resp, body := e.get("/metrics")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("metrics: %d", resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("the text format does not parse: %v", err)
	}
	for _, name := range []string{
		"signage_upstream_requests_total", "signage_upstream_request_seconds", "signage_token_renewals_total",
		"signage_token_failures_total", "signage_userlist_items", "signage_userlist_stale_seconds",
		"signage_screens_connected", "signage_broadcasts_total", "signage_screens_dropped_total", "signage_http_requests_total",
		"signage_publications_skipped_total",
	} {
		if families[name] == nil {
			t.Errorf("no %s", name)
		}
	}
	for _, m := range families["signage_http_requests_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "route" && (strings.Contains(l.GetValue(), "not-a-uuid") || strings.Contains(l.GetValue(), lobby)) {
				t.Errorf("a raw path as a label: %q", l.GetValue())
			}
		}
	}
	for _, m := range families["signage_screens_connected"].GetMetric() {
		if m.GetLabel()[0].GetValue() == lobby && m.GetGauge().GetValue() != 1 {
			t.Errorf("screens connected to the lobby: %v", m.GetGauge().GetValue())
		}
	}
	if strings.Contains(body, "00000000-0000-4000-8000-000000000000") {
		t.Errorf("an on-demand userlist id became a label")
	}
}

// TestFeedsParse: RSS and Atom read back with a feed parser hold the same items.
func TestFeedsParse(t *testing.T) {
	e := newEnv(t, time.Minute)
	for _, p := range []string{"/api/feed.rss", "/api/feed.atom", "/api/feed.json"} {
		_, body := e.get(p + "?userlist=" + lobby)
		f, err := gofeed.NewParser().ParseString(body)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if len(f.Items) != 2 || f.Items[0].Title != "Town hall on Friday" || f.Items[0].Link != "https://intranet.example.com/th" {
			t.Errorf("%s: %d items, first %+v", p, len(f.Items), f.Items[0])
		}
		if f.Title != "Lobby" {
			t.Errorf("%s: title %q", p, f.Title)
		}
	}
}
