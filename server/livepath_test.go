package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/spencer-signage/signage/server"
	"github.com/spencer-signage/signage/spencerclient/spencertest"
)

// TestOneRequestPerUserlistPerInterval: 300 screens and busy API readers on two userlists
// cost upstream one publications request per userlist per interval.
func TestOneRequestPerUserlistPerInterval(t *testing.T) {
	const interval = 500 * time.Millisecond
	e := newEnv(t, interval)
	start := time.Now()

	var conns []*websocket.Conn
	for i := range 300 {
		id := lobby
		if i%2 == 1 {
			id = canteen
		}
		conns = append(conns, e.dial(id, ""))
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	// Every screen gets the current deck at once (it sent no version).
	for _, c := range conns {
		if m := readMessage(t, c, 5*time.Second); m.Type != "deck" {
			t.Fatalf("first message %q, want deck", m.Type)
		}
	}

	stop := make(chan struct{})
	var reads atomic.Int64
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			path := "/api/feed.json?userlist=" + lobby
			if i%2 == 1 {
				path = "/api/feed.rss?userlist=" + canteen
			}
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := http.Get(e.base + path)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("%s: %d", path, resp.StatusCode)
					return
				}
				reads.Add(1)
			}
		})
	}
	// Six intervals, as the poller's own requests count them.
	waitFor(t, 30*interval, "six intervals", func() bool { return e.fake.PublicationRequestsFor(lobby) >= 6 })
	close(stop)
	wg.Wait()
	elapsed := time.Since(start)

	// Polls are spread with ±10% jitter; the first one comes at once.
	maxPolls := int64(float64(elapsed)/(0.9*float64(interval))) + 1
	for _, id := range []string{lobby, canteen} {
		got := e.fake.PublicationRequestsFor(id)
		t.Logf("%s: %d publications requests in %v (interval %v), %d feed reads in all", id, got, elapsed.Round(time.Millisecond), interval, reads.Load())
		if got < 3 || got > maxPolls {
			t.Errorf("userlist %s: %d publications requests in %v, want 3..%d", id, got, elapsed, maxPolls)
		}
	}
	if reads.Load() < 100 {
		t.Errorf("only %d feed reads: the readers were not busy", reads.Load())
	}
	if got := e.fake.TokenRequests(); got != 1 {
		t.Errorf("token requests = %d, want 1", got)
	}
}

// TestChangeReachesScreenWithinInterval: a change upstream reaches a connected screen
// within one poll interval plus one second, as a deck message holding the new title.
func TestChangeReachesScreenWithinInterval(t *testing.T) {
	const interval = time.Second
	e := newEnv(t, interval)
	conn := e.dial(lobby, "")
	defer conn.Close()
	first := readMessage(t, conn, 5*time.Second)
	if first.Type != "deck" || !strings.Contains(first.HTML, "Town hall on Friday") {
		t.Fatalf("first message = %+v", first)
	}
	changed := time.Now()
	e.fake.SetPublications(lobby, []map[string]any{
		{"id": "l3", "title": "Fire drill at 11:00", "body": "Leave by the stairs.", "publishedAt": "2026-11-22T09:00:00Z"},
	})
	m := readMessage(t, conn, interval+time.Second+500*time.Millisecond)
	took := time.Since(changed)
	if m.Type != "deck" || !strings.Contains(m.HTML, "Fire drill at 11:00") || m.Version == first.Version {
		t.Fatalf("after the change: %+v", m)
	}
	t.Logf("change reached the screen after %v (interval %v)", took.Round(time.Millisecond), interval)
	if took > interval+time.Second {
		t.Errorf("took %v, want at most %v", took, interval+time.Second)
	}
}

// TestNoBroadcastWithoutChange: polls that bring the same content send screens nothing.
func TestNoBroadcastWithoutChange(t *testing.T) {
	const interval = 200 * time.Millisecond
	e := newEnv(t, interval)
	conn := e.dial(lobby, "")
	defer conn.Close()
	first := readMessage(t, conn, 5*time.Second)
	before := e.fake.PublicationRequestsFor(lobby)
	waitFor(t, 5*time.Second, "three more polls", func() bool { return e.fake.PublicationRequestsFor(lobby) >= before+3 })
	conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond)) //nolint:errcheck
	if _, b, err := conn.ReadMessage(); err == nil {
		t.Fatalf("screen got %s although nothing changed", b)
	}
	// A screen that connects with the current version gets no deck either.
	conn2 := e.dial(lobby, "v="+first.Version)
	defer conn2.Close()
	conn2.SetReadDeadline(time.Now().Add(300 * time.Millisecond)) //nolint:errcheck
	if _, b, err := conn2.ReadMessage(); err == nil {
		t.Fatalf("screen with the current version got %s", b)
	}
}

// TestScreenPageHoldsTheItems: the page is rendered on the server with the titles, so
// content shows before any script runs.
func TestScreenPageHoldsTheItems(t *testing.T) {
	e := newEnv(t, time.Minute)
	resp, body := e.get("/screens/" + lobby)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, want := range []string{"Town hall on Friday", "Bike to work week"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type %q", ct)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
}

// TestFeedETag: the JSON feed has a strong ETag and If-None-Match gives 304, for the raw
// and the gzip encoding alike.
func TestFeedETag(t *testing.T) {
	e := newEnv(t, time.Minute)
	resp, body := e.get("/api/feed.json?userlist=" + lobby)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	etag := resp.Header.Get("ETag")
	if !strings.HasPrefix(etag, `"`) {
		t.Fatalf("ETag %q is not strong", etag)
	}
	var feed struct {
		Version string `json:"version"`
		Items   []struct {
			ID, Title   string
			ContentHTML string          `json:"content_html"`
			Spencer     json.RawMessage `json:"_spencer"`
		} `json:"items"`
		Signage struct {
			Userlist string `json:"userlist"`
			Stale    bool   `json:"stale"`
			Version  string `json:"version"`
		} `json:"_signage"`
	}
	if err := json.Unmarshal([]byte(body), &feed); err != nil {
		t.Fatal(err)
	}
	if feed.Version != "https://jsonfeed.org/version/1.1" || len(feed.Items) != 2 || feed.Signage.Userlist != lobby || feed.Signage.Version == "" {
		t.Fatalf("feed = %+v", feed)
	}
	if len(feed.Items[0].Spencer) == 0 {
		t.Errorf("item lacks _spencer")
	}
	resp, _ = e.get("/api/feed.json?userlist="+lobby, "If-None-Match", etag)
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: status %d, want 304", resp.StatusCode)
	}
	resp, _ = e.get("/api/feed.json?userlist="+lobby, "Accept-Encoding", "gzip")
	gzETag := resp.Header.Get("ETag")
	if resp.Header.Get("Content-Encoding") != "gzip" || gzETag == etag || !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
		t.Errorf("gzip: encoding %q etag %q vary %q", resp.Header.Get("Content-Encoding"), gzETag, resp.Header.Get("Vary"))
	}
	resp, _ = e.get("/api/feed.json?userlist="+lobby, "Accept-Encoding", "gzip", "If-None-Match", gzETag)
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("gzip If-None-Match: status %d, want 304", resp.StatusCode)
	}
	// The default userlist serves without ?userlist=.
	resp, _ = e.get("/api/feed.json")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") != etag {
		t.Errorf("default userlist: status %d etag %q", resp.StatusCode, resp.Header.Get("ETag"))
	}
	for _, p := range []string{"/api/feed.rss?userlist=" + lobby, "/api/feed.atom?userlist=" + lobby} {
		resp, body := e.get(p)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Town hall on Friday") {
			t.Errorf("%s: status %d", p, resp.StatusCode)
		}
	}
}

// TestBadIDsNeverReachUpstream: ids that are not UUIDs get 404 pages and 400 API errors,
// and upstream is never asked about them.
func TestBadIDsNeverReachUpstream(t *testing.T) {
	e := newEnv(t, time.Minute)
	waitFor(t, 5*time.Second, "the first polls", func() bool { return e.fake.PublicationRequests() >= 2 })
	before := e.fake.PublicationRequests()
	for _, tc := range []struct {
		path   string
		status int
		json   bool
	}{
		{"/screens/not-a-uuid", 404, false},
		{"/screens/3f0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3", 404, false},
		{"/screens/..%2F..%2Fetc%2Fpasswd", 404, false},
		{"/screens/3f0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3f%00", 404, false},
		{"/embed/zzzzzzzz-2b1a-4c55-9d0e-8a7b6c5d4e3f", 404, false},
		{"/screens/not-a-uuid/ws", 404, false},
		{"/screens/not-a-uuid/deck", 404, false},
		{"/api/feed.json?userlist=not-a-uuid", 400, true},
		{"/api/feed.rss?userlist=%27%3B--", 400, true},
		{"/api/feed.atom?userlist=" + strings.Repeat("a", 5000), 400, true},
	} {
		resp, body := e.get(tc.path)
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", tc.path, resp.StatusCode, tc.status)
		}
		if tc.json {
			var m map[string]string
			if err := json.Unmarshal([]byte(body), &m); err != nil || m["error"] == "" {
				t.Errorf("%s: body %q is not {\"error\": …}", tc.path, body)
			}
		}
	}
	if got := e.fake.PublicationRequests(); got != before {
		t.Errorf("upstream asked %d times for bad ids", got-before)
	}
}

// TestOnDemandUserlistFirstFetchIsShared: many readers of a userlist nobody asked for
// before cause one publications request between them.
func TestOnDemandUserlistFirstFetchIsShared(t *testing.T) {
	e := newEnv(t, time.Minute)
	const fresh = "5d5d5d5d-1111-4222-8333-944444444444"
	e.fake.SetPublications(fresh, []map[string]any{{"id": "x", "title": "Hello from an on-demand userlist"}})
	e.fake.SetFault(spencertest.Fault{Delay: 300 * time.Millisecond})
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			path := fmt.Sprintf("/api/feed.json?userlist=%s", fresh)
			if i%2 == 0 {
				path = "/screens/" + fresh
			}
			resp, err := http.Get(e.base + path)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s: %d", path, resp.StatusCode)
			}
		})
	}
	wg.Wait()
	if got := e.fake.PublicationRequestsFor(fresh); got != 1 {
		t.Errorf("publications requests for a new userlist = %d, want 1 shared by 50 readers", got)
	}
}

// TestUnknownUserlist: a userlist upstream does not know shows a clear message on its
// screen and gets 404 from the API; it is asked again only slowly.
func TestUnknownUserlist(t *testing.T) {
	e := newEnv(t, 100*time.Millisecond)
	const unknown = "00000000-0000-4000-8000-000000000000"
	resp, body := e.get("/screens/" + unknown)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, unknown) {
		t.Fatalf("screen of an unknown userlist: status %d, page names it: %v", resp.StatusCode, strings.Contains(body, unknown))
	}
	resp, _ = e.get("/api/feed.json?userlist=" + unknown)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("API for an unknown userlist: %d, want 404", resp.StatusCode)
	}
	// Ten poll intervals, counted by the configured userlist's requests.
	polled := e.fake.PublicationRequestsFor(lobby)
	waitFor(t, 10*time.Second, "ten poll intervals", func() bool { return e.fake.PublicationRequestsFor(lobby) >= polled+10 })
	e.get("/screens/" + unknown)
	if got := e.fake.PublicationRequestsFor(unknown); got != 1 {
		t.Errorf("unknown userlist asked %d times in ten intervals, want 1", got)
	}
}

// TestIdleOnDemandUserlistStopsPolling: an on-demand userlist nobody reads stops costing
// upstream requests after idle_after.
func TestIdleOnDemandUserlistStopsPolling(t *testing.T) {
	const fresh = "6e6e6e6e-1111-4222-8333-944444444444"
	e := newEnv(t, 100*time.Millisecond, func(c *server.Config) { c.Screens.IdleAfter = server.Duration{Duration: 300 * time.Millisecond} })
	e.fake.SetPublications(fresh, []map[string]any{{"id": "x", "title": "Briefly read"}})
	if resp, _ := e.get("/api/feed.json?userlist=" + fresh); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	waitFor(t, 5*time.Second, "polling to stop", func() bool { return e.srv.News().Get(fresh) == nil })
	stopped := e.fake.PublicationRequestsFor(fresh)
	polled := e.fake.PublicationRequestsFor(lobby) // the clock: five more intervals
	waitFor(t, 10*time.Second, "five more intervals", func() bool { return e.fake.PublicationRequestsFor(lobby) >= polled+5 })
	if got := e.fake.PublicationRequestsFor(fresh); got != stopped {
		t.Errorf("still polled after idle: %d more requests", got-stopped)
	}
	// Configured userlists never go idle.
	if e.srv.News().Get(lobby) == nil {
		t.Errorf("configured userlist stopped being polled")
	}
}

// TestShutdownClosesScreensGoingAway: on shutdown every screen gets a going-away close
// frame so that it reconnects to the next process.
func TestShutdownClosesScreensGoingAway(t *testing.T) {
	e := newEnv(t, time.Minute)
	conn := e.dial(lobby, "")
	defer conn.Close()
	readMessage(t, conn, 5*time.Second)
	start := time.Now()
	e.stop()
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("shutdown took %v", d)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second)) //nolint:errcheck
	_, _, err := conn.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Errorf("read after shutdown: %v, want close 1001 going away", err)
	}
}

// TestReloadOnBuildChange: a screen that shows another build is told to reload.
func TestReloadOnBuildChange(t *testing.T) {
	e := newEnv(t, time.Minute)
	conn := e.dial(lobby, "b=an-older-build")
	defer conn.Close()
	if m := readMessage(t, conn, 5*time.Second); m.Type != "reload" {
		t.Fatalf("message %q, want reload", m.Type)
	}
	conn2 := e.dial(lobby, "b="+url.QueryEscape(e.srv.Build()))
	defer conn2.Close()
	if m := readMessage(t, conn2, 5*time.Second); m.Type != "deck" {
		t.Fatalf("same build: message %q, want deck", m.Type)
	}
}

func TestHealth(t *testing.T) {
	e := newEnv(t, time.Minute)
	if resp, _ := e.get("/healthz"); resp.StatusCode != http.StatusOK {
		t.Errorf("healthz %d", resp.StatusCode)
	}
	waitFor(t, 5*time.Second, "readyz", func() bool { resp, _ := e.get("/readyz"); return resp.StatusCode == http.StatusOK })
}

func TestReadyzBeforeUpstreamAnswers(t *testing.T) {
	e := newEnv(t, time.Minute, func(c *server.Config) { c.Spencer.TokenURL = "http://127.0.0.1:1/token" })
	waitFor(t, 5*time.Second, "a failed fetch", func() bool {
		return e.fake.PublicationRequests() == 0 && strings.Contains(e.logs.String(), "upstream failed")
	})
	resp, body := e.get("/readyz")
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "token") {
		t.Errorf("readyz = %d %q, want 503 with the reason", resp.StatusCode, body)
	}
	if strings.Contains(body, spencertest.ClientSecret) {
		t.Errorf("readyz shows the secret")
	}
}
