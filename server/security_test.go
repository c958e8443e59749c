package server_test

import (
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/spencer-signage/signage/server"
)

const testKey = "k3y-for-tests-0123456789"

// TestAccessKeys: with server.access_keys set, screens, embeds and the API need ?key= or
// a bearer token; health and the start page do not; the key never shows in the page's
// links to other users... it is carried on for the screen's own WebSocket.
func TestAccessKeys(t *testing.T) {
	e := newEnv(t, time.Minute, func(c *server.Config) { c.Server.AccessKeys = []string{"another-key-0123456789", testKey} })
	for _, p := range []string{"/screens/" + lobby, "/embed/" + lobby, "/api/feed.json", "/api/feed.rss?userlist=" + lobby, "/screens/" + lobby + "/deck", "/embed/" + lobby + "/fragment"} {
		if resp, _ := e.get(p); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s without a key: %d, want 401", p, resp.StatusCode)
		}
		sep := "?"
		if strings.Contains(p, "?") {
			sep = "&"
		}
		if resp, _ := e.get(p + sep + "key=wrong-key-0123456789"); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s with a wrong key: %d, want 401", p, resp.StatusCode)
		}
		if resp, _ := e.get(p + sep + "key=" + testKey); resp.StatusCode != http.StatusOK {
			t.Errorf("%s with ?key=: %d, want 200", p, resp.StatusCode)
		}
		if resp, _ := e.get(p, "Authorization", "Bearer "+testKey); resp.StatusCode != http.StatusOK {
			t.Errorf("%s with a bearer token: %d, want 200", p, resp.StatusCode)
		}
	}
	for _, p := range []string{"/healthz", "/readyz", "/"} {
		if resp, body := e.get(p); resp.StatusCode == http.StatusUnauthorized || strings.Contains(body, testKey) {
			t.Errorf("%s: status %d, shows key %v", p, resp.StatusCode, strings.Contains(body, testKey))
		}
	}
	// The WebSocket needs the key too.
	u := "ws" + strings.TrimPrefix(e.base, "http") + "/screens/" + lobby + "/ws"
	if _, resp, err := websocket.DefaultDialer.Dial(u, nil); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("WebSocket without a key: %v", err)
	}
	conn, _, err := websocket.DefaultDialer.Dial(u+"?key="+testKey, nil)
	if err != nil {
		t.Fatalf("WebSocket with the key: %v", err)
	}
	conn.Close()
	if strings.Contains(e.logs.String(), testKey) {
		t.Errorf("the key appears in the logs")
	}
}

// TestKeyedAnswersAreNotStored: with access keys on, the pages, fragments and feeds (each
// holds the key, or what it opens) tell every cache not to store them, whether the key came
// as ?key= or as a bearer token, and 304s say the same; without keys the pages may be kept
// and the feeds shared. Every 401 says what it wants: WWW-Authenticate: Bearer with a realm.
func TestKeyedAnswersAreNotStored(t *testing.T) {
	const admin = "admin-token-for-tests-123"
	e := newEnv(t, time.Minute, func(c *server.Config) {
		c.Server.AccessKeys = []string{testKey}
		c.Server.AdminToken = admin
	})
	keyed := []string{"/screens/" + lobby, "/embed/" + lobby, "/screens/" + lobby + "/deck", "/embed/" + lobby + "/fragment",
		"/api/feed.json", "/api/feed.rss", "/api/feed.atom?userlist=" + canteen}
	withKey := func(p string) string {
		if strings.Contains(p, "?") {
			return p + "&key=" + testKey
		}
		return p + "?key=" + testKey
	}
	for _, p := range keyed {
		for how, resp := range map[string]*http.Response{
			"?key=":        first(e.get(withKey(p))),
			"a bearer key": first(e.get(p, "Authorization", "Bearer "+testKey)),
		} {
			if cc := resp.Header.Get("Cache-Control"); resp.StatusCode != 200 || cc != "private, no-store" {
				t.Errorf("%s with %s: %d, Cache-Control %q, want 200 and private, no-store", p, how, resp.StatusCode, cc)
			}
		}
		if etag := first(e.get(withKey(p))).Header.Get("Etag"); etag != "" {
			if resp, _ := e.get(withKey(p), "If-None-Match", etag); resp.StatusCode != http.StatusNotModified || resp.Header.Get("Cache-Control") != "private, no-store" {
				t.Errorf("%s revalidated: %d, Cache-Control %q", p, resp.StatusCode, resp.Header.Get("Cache-Control"))
			}
		}
	}
	bearerRealm := regexp.MustCompile(`^Bearer realm="[^"]+"$`)
	for _, p := range append(keyed, "/admin", "/admin/status.json", "/metrics") {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			resp, _ := e.request(method, p, "")
			if resp.StatusCode != http.StatusUnauthorized || !bearerRealm.MatchString(resp.Header.Get("WWW-Authenticate")) {
				t.Errorf("%s %s without credentials: %d, WWW-Authenticate %q, want 401 with Bearer and a realm", method, p, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
			}
		}
	}
	if resp, _ := e.post(`{}`); resp.StatusCode != http.StatusUnauthorized || !bearerRealm.MatchString(resp.Header.Get("WWW-Authenticate")) {
		t.Errorf("POST /admin/announcements without the token: %d, WWW-Authenticate %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	// The admin token and the access keys are two protection spaces.
	if a, b := first(e.get("/admin")).Header.Get("WWW-Authenticate"), first(e.get("/screens/"+lobby)).Header.Get("WWW-Authenticate"); a == b {
		t.Errorf("the admin token and the access keys share the realm %s", a)
	}

	open := newEnv(t, time.Minute)
	if cc := first(open.get("/screens/" + lobby)).Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("a screen without access keys: Cache-Control %q, want no-cache", cc)
	}
	if cc := first(open.get("/api/feed.json")).Header.Get("Cache-Control"); !strings.HasPrefix(cc, "public") {
		t.Errorf("a feed without access keys: Cache-Control %q, want public", cc)
	}
}

// first is the response of a (response, body) pair.
func first(resp *http.Response, _ string) *http.Response { return resp }

// TestFramingAndCORS: only /embed/ may be framed, and only by server.embed_origins; the
// API answers CORS for the same origins only.
func TestFramingAndCORS(t *testing.T) {
	const intranet = "https://intranet.example.com"
	e := newEnv(t, time.Minute, func(c *server.Config) { c.Server.EmbedOrigins = []string{intranet} })
	resp, _ := e.get("/screens/" + lobby)
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("screen page may be framed: CSP %q XFO %q", csp, resp.Header.Get("X-Frame-Options"))
	}
	for _, h := range []string{"X-Content-Type-Options", "Referrer-Policy"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("screen page lacks %s", h)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP %q is not strict", csp)
	}
	resp, _ = e.get("/embed/" + lobby)
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'self' "+intranet) || resp.Header.Get("X-Frame-Options") != "" {
		t.Errorf("embed: CSP %q XFO %q", csp, resp.Header.Get("X-Frame-Options"))
	}
	resp, _ = e.get("/api/feed.json", "Origin", intranet)
	if resp.Header.Get("Access-Control-Allow-Origin") != intranet {
		t.Errorf("CORS for a listed origin: %q", resp.Header.Get("Access-Control-Allow-Origin"))
	}
	resp, _ = e.get("/api/feed.json", "Origin", "https://evil.example.com")
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("CORS for an unlisted origin: %q", resp.Header.Get("Access-Control-Allow-Origin"))
	}
	// A WebSocket from a page of another origin is refused.
	u := "ws" + strings.TrimPrefix(e.base, "http") + "/screens/" + lobby + "/ws"
	if _, resp, err := websocket.DefaultDialer.Dial(u, http.Header{"Origin": {"https://evil.example.com"}}); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin WebSocket: %v", err)
	}
}

// TestUnlistedUserlistWhenNotAllowed: with allow_any_userlist off, an unlisted UUID is a
// 404 and never reaches upstream.
func TestUnlistedUserlistWhenNotAllowed(t *testing.T) {
	e := newEnv(t, time.Minute, func(c *server.Config) { c.Screens.AllowAnyUserlist = false })
	const other = "5d5d5d5d-1111-4222-8333-944444444444"
	for _, p := range []string{"/screens/" + other, "/api/feed.json?userlist=" + other, "/embed/" + other} {
		if resp, _ := e.get(p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, resp.StatusCode)
		}
	}
	if n := e.fake.PublicationRequestsFor(other); n != 0 {
		t.Errorf("upstream asked %d times for an unlisted userlist", n)
	}
}

// TestScreensComeAndGoWithoutLeaks: 1,000 screens connect and vanish (half close
// politely, half just drop the TCP connection); afterwards the hub is empty and the
// goroutines are back to where they were.
func TestScreensComeAndGoWithoutLeaks(t *testing.T) {
	e := newEnv(t, time.Minute, func(c *server.Config) { c.Server.MaxScreensPerAddress = 2000 })
	// Warm up: one screen, so lazily started goroutines exist before we count.
	c0 := e.dial(lobby, "")
	readMessage(t, c0, 5*time.Second)
	c0.Close()
	waitFor(t, 5*time.Second, "an empty hub", func() bool { return e.srv.Hub().Total() == 0 })
	http.DefaultClient.CloseIdleConnections()
	// The poller's first requests (and the keep-alive connection to Spencer they open)
	// come after a short random delay: let them happen before the count.
	waitFor(t, 10*time.Second, "the first polls", func() bool {
		return e.fake.PublicationRequestsFor(lobby) > 0 && e.fake.PublicationRequestsFor(canteen) > 0
	})
	before := goleak.IgnoreCurrent() // the server's own goroutines, and whatever the warm-up left

	const n = 1000
	conns := make([]*websocket.Conn, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 50)
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			id := lobby
			if i%2 == 1 {
				id = canteen
			}
			u := "ws" + strings.TrimPrefix(e.base, "http") + "/screens/" + id + "/ws"
			c, _, err := websocket.DefaultDialer.Dial(u, nil)
			if err != nil {
				t.Error(err)
				return
			}
			conns[i] = c
		})
	}
	wg.Wait()
	waitFor(t, 10*time.Second, "1,000 screens", func() bool { return e.srv.Hub().Total() == n })
	for i, c := range conns {
		if c == nil {
			continue
		}
		if i%2 == 0 {
			c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second)) //nolint:errcheck
		}
		c.NetConn().(*net.TCPConn).SetLinger(0) //nolint:errcheck
		c.Close()
	}
	waitFor(t, 10*time.Second, "an empty hub", func() bool { return e.srv.Hub().Total() == 0 })
	// Every reader and writer of the 1,000 screens ends; goleak names any that does not.
	deadline := time.Now().Add(10 * time.Second)
	for goleak.Find(before) != nil && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond) // goroutines end on their own; there is no signal to await
	}
	goleak.VerifyNone(t, before)
}

// TestScreenThatNeverReads: a client that connects and never reads does not hold up the
// others: they still get every change promptly, and its queue holds one deck at most.
func TestScreenThatNeverReads(t *testing.T) {
	e := newEnv(t, 100*time.Millisecond)
	stuck := e.dial(lobby, "") // never read
	defer stuck.Close()
	good := e.dial(lobby, "")
	defer good.Close()
	readMessage(t, good, 5*time.Second)
	for i := range 20 {
		mark := fmt.Sprintf("Change %02d:", i)
		title := mark + strings.Repeat(" big change", 2000)
		e.fake.SetPublications(lobby, []map[string]any{{"id": "x", "title": title}})
		waitFor(t, 5*time.Second, "the change", func() bool {
			m := readMessage(t, good, 5*time.Second)
			return m.Type == "deck" && strings.Contains(m.HTML, mark)
		})
	}
}
