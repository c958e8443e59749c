package server_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/spencer-signage/signage/server"
	"github.com/spencer-signage/signage/spencerclient/spencertest"
)

// feedState reads the JSON feed's titles and _signage.stale.
func (e *env) feedState(id string) (titles []string, stale bool, status int) {
	e.t.Helper()
	resp, body := e.get("/api/feed.json?userlist=" + id)
	if resp.StatusCode != http.StatusOK {
		return nil, false, resp.StatusCode
	}
	var f struct {
		Items []struct {
			Title string `json:"title"`
		} `json:"items"`
		Signage struct {
			Stale bool `json:"stale"`
		} `json:"_signage"`
	}
	if err := json.Unmarshal([]byte(body), &f); err != nil {
		e.t.Fatal(err)
	}
	for _, it := range f.Items {
		titles = append(titles, it.Title)
	}
	return titles, f.Signage.Stale, resp.StatusCode
}

// TestUpstreamFailuresKeepLastGoodContent: every kind of upstream failure keeps the last
// good content on screens and feeds, marked stale, and recovery clears the mark by itself.
func TestUpstreamFailuresKeepLastGoodContent(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault spencertest.Fault
		setup func(e *env)
	}{
		{name: "503", fault: spencertest.Fault{Status: 503}},
		{name: "malformed JSON", fault: spencertest.Fault{Malformed: true}},
		{name: "64 MiB body", fault: spencertest.Fault{OversizeBody: 64 << 20}},
		{name: "hang", fault: spencertest.Fault{Delay: 30 * time.Second}},
		{name: "token endpoint down", fault: spencertest.Fault{TokenDown: true}, setup: func(e *env) { e.fake.RevokeTokens() }},
		{name: "token endpoint rejects", fault: spencertest.Fault{TokenStatus: 401}, setup: func(e *env) { e.fake.RevokeTokens() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const interval = 200 * time.Millisecond
			e := newEnv(t, interval, func(c *server.Config) {
				c.Spencer.RequestTimeout = server.Duration{Duration: 500 * time.Millisecond}
			})
			conn := e.dial(lobby, "")
			defer conn.Close()
			if m := readMessage(t, conn, 5*time.Second); m.Type != "deck" {
				t.Fatalf("first message %q", m.Type)
			}
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			requestsBefore := e.fake.PublicationRequests()

			e.fake.SetFault(tc.fault)
			if tc.setup != nil {
				tc.setup(e)
			}
			m := readMessage(t, conn, 10*time.Second)
			if m.Type != "status" || !m.Stale || m.Since == "" {
				t.Fatalf("during the outage: %+v, want status stale with since", m)
			}
			titles, stale, status := e.feedState(lobby)
			if status != http.StatusOK || !stale || len(titles) != 2 || titles[0] != "Town hall on Friday" {
				t.Errorf("feed during the outage: status %d stale %v titles %v", status, stale, titles)
			}
			if _, body := e.get("/screens/" + lobby); !strings.Contains(body, "Town hall on Friday") {
				t.Errorf("screen page lost its content during the outage")
			}
			// Bounded memory: each failed fetch allocates at most about the body limit
			// (8 MiB, grown by doubling), never the 64 MiB upstream sends.
			var during runtime.MemStats
			runtime.ReadMemStats(&during)
			if n := e.fake.PublicationRequests() - requestsBefore; n > 0 {
				perRequest := (during.TotalAlloc - before.TotalAlloc) / uint64(n)
				if perRequest > 40<<20 {
					t.Errorf("%d MiB allocated per upstream request during the outage", perRequest>>20)
				}
			}

			e.fake.SetFault(spencertest.Fault{})
			m = readMessage(t, conn, 30*time.Second)
			if m.Type != "status" || m.Stale {
				t.Fatalf("after recovery: %+v, want status not stale", m)
			}
			if _, stale, _ := e.feedState(lobby); stale {
				t.Errorf("feed still stale after recovery")
			}
			if strings.Contains(e.logs.String(), spencertest.ClientSecret) {
				t.Errorf("the secret appears in the logs")
			}
		})
	}
}

// TestEmptyListIsAnAnswer: an empty list from upstream shows the empty state, not stale
// content.
func TestEmptyListIsAnAnswer(t *testing.T) {
	e := newEnv(t, 200*time.Millisecond)
	conn := e.dial(lobby, "")
	defer conn.Close()
	readMessage(t, conn, 5*time.Second)
	e.fake.SetPublications(lobby, []map[string]any{})
	m := readMessage(t, conn, 5*time.Second)
	if m.Type != "deck" || strings.Contains(m.HTML, "Town hall") {
		t.Fatalf("after an empty answer: %+v", m)
	}
	titles, stale, _ := e.feedState(lobby)
	if len(titles) != 0 || stale {
		t.Errorf("feed: titles %v stale %v, want none and fresh", titles, stale)
	}
}

// TestRestartDuringOutageServesSnapshot: the last good content survives a restart while
// upstream is down.
func TestRestartDuringOutageServesSnapshot(t *testing.T) {
	e := newEnv(t, 200*time.Millisecond)
	waitFor(t, 5*time.Second, "snapshot on disk", func() bool {
		_, err := os.Stat(filepath.Join(e.cfg.Server.DataDir, "userlist-"+lobby+".json"))
		return err == nil
	})
	e.stop()
	e.fake.SetFault(spencertest.Fault{Status: 503})
	e.start()
	resp, body := e.get("/screens/" + lobby)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Town hall on Friday") {
		t.Fatalf("after a restart during an outage the screen lacks the snapshot's content (status %d)", resp.StatusCode)
	}
	waitFor(t, 5*time.Second, "stale feed", func() bool {
		titles, stale, _ := e.feedState(lobby)
		return stale && len(titles) == 2
	})
}

// TestCorruptSnapshotIsIgnored: a truncated or garbage snapshot is logged and ignored.
func TestCorruptSnapshotIsIgnored(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "userlist-"+lobby+".json"), []byte(`{"format":1,"userlist":"`+lobby+`","items":[{"ID":"x","Ti`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "userlist-"+canteen+".json"), []byte("\x00\x01garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, time.Minute, func(c *server.Config) { c.Server.DataDir = dir })
	_, body := e.get("/screens/" + lobby)
	if !strings.Contains(body, "Town hall on Friday") {
		t.Errorf("screen lacks fresh content after a corrupt snapshot")
	}
	if !strings.Contains(e.logs.String(), "snapshot ignored") {
		t.Errorf("corrupt snapshot not logged")
	}
}

// TestHostileContentIsSanitized: script, event handlers, javascript: links and iframes
// from upstream reach no page, WebSocket message or feed.
func TestHostileContentIsSanitized(t *testing.T) {
	e := newEnv(t, 200*time.Millisecond)
	conn := e.dial(lobby, "")
	defer conn.Close()
	readMessage(t, conn, 5*time.Second)
	e.fake.SetPublications(lobby, []map[string]any{{
		"id":      "evil",
		"title":   `<script>alert('t')</script><img src=x onerror=alert(1)>Evil title`,
		"summary": `<b onmouseover="alert(2)">Summary</b>`,
		"body":    `<p>Hi<script>alert(3)</script></p><a href="javascript:alert(4)">click</a><iframe src="https://evil.example"></iframe><img src="https://x.example/a.png" onerror="alert(5)"><svg onload=alert(6)></svg><div style="background:url(javascript:alert(7))">x</div>`,
		"image":   "javascript:alert(8)",
		"url":     "javascript:alert(9)",
	}})
	m := readMessage(t, conn, 5*time.Second)
	_, page := e.get("/screens/" + lobby)
	_, feedBody := e.get("/api/feed.json?userlist=" + lobby)
	// _spencer is the publication exactly as upstream sent it (SPEC 3): data for
	// integrators, never rendered by us. Every field meant for display must be clean.
	var parsed struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal([]byte(feedBody), &parsed); err != nil || len(parsed.Items) != 1 {
		t.Fatalf("feed: %v", err)
	}
	delete(parsed.Items[0], "_spencer")
	feedShown, _ := json.Marshal(parsed.Items[0])
	feed := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(feedShown))
	_, rss := e.get("/api/feed.rss?userlist=" + lobby)
	_, embed := e.get("/embed/" + lobby)
	for name, text := range map[string]string{"ws": m.HTML, "page": page, "feed": feed, "rss": rss, "embed": embed} {
		lower := strings.ToLower(text)
		for _, bad := range []string{"<script>alert", "onerror=", "onmouseover", "onload=", "javascript:", "<iframe", "alert(3)"} {
			if strings.Contains(lower, bad) {
				t.Errorf("%s holds %q", name, bad)
			}
		}
		if name != "rss" && !strings.Contains(text, "Evil title") {
			t.Errorf("%s lost the text of the title", name)
		}
	}
}

// TestSecretNeverShown: the client secret appears in no log line and no answer.
func TestSecretNeverShown(t *testing.T) {
	e := newEnv(t, 200*time.Millisecond)
	// A careless gateway that echoes the credentials it was sent in its error.
	e.fake.SetFault(spencertest.Fault{TokenEcho: true})
	e.fake.RevokeTokens()
	waitFor(t, 5*time.Second, "a token failure", func() bool { return strings.Contains(e.logs.String(), "token endpoint") })
	for _, p := range []string{"/", "/readyz", "/screens/" + lobby, "/api/feed.json", "/embed/" + lobby, "/screens/" + lobby + "/deck"} {
		if _, body := e.get(p); strings.Contains(body, spencertest.ClientSecret) {
			t.Errorf("%s shows the secret", p)
		}
	}
	if strings.Contains(e.logs.String(), spencertest.ClientSecret) {
		t.Errorf("logs hold the secret")
	}
}

// TestHostileWebSocketClients: an oversized message closes the socket; the limits on
// screens per address and in all refuse more with 429.
func TestHostileWebSocketClients(t *testing.T) {
	e := newEnv(t, time.Minute, func(c *server.Config) {
		c.Server.MaxScreensPerAddress = 5
		c.Server.MaxScreens = 8
	})
	conn := e.dial(lobby, "")
	readMessage(t, conn, 5*time.Second)
	conn.WriteMessage(websocket.TextMessage, []byte(strings.Repeat("x", 64<<10))) //nolint:errcheck
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))                         //nolint:errcheck
	_, _, err := conn.ReadMessage()
	var ne net.Error
	if err == nil || (errors.As(err, &ne) && ne.Timeout()) {
		t.Errorf("socket still open after a 64 KiB message (read: %v)", err)
	}
	conn.Close()
	waitFor(t, 5*time.Second, "the screen to go", func() bool { return e.srv.Hub().Total() == 0 })

	var conns []*websocket.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 5 {
		conns = append(conns, e.dial(lobby, ""))
	}
	u := "ws" + strings.TrimPrefix(e.base, "http") + "/screens/" + lobby + "/ws"
	_, resp, err := websocket.DefaultDialer.Dial(u, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("sixth screen from one address: err %v, want 429", err)
	}
}

// TestCredentialsEchoedUpstreamStayHidden: an identity service and an API that echo the
// whole request into their errors (the secret URL-encoded and JSON-escaped, the Basic
// header, the access token) leave no trace of a credential on any page, in status.json,
// the metrics or the log; /readyz, which anyone may ask, says only a reason code.
func TestCredentialsEchoedUpstreamStayHidden(t *testing.T) {
	const secret = `s3cr"et/+ &ü<x>  two-spaces-and-more-Value-9`
	e := newEnv(t, time.Minute, func(c *server.Config) { c.Spencer.ClientSecret = secret })
	e.fake.SetFault(spencertest.Fault{TokenEchoAll: true, EchoPadding: 130}) // the 200-character cut falls inside the secret
	e.fake.RevokeTokens()                                                    // a token from the first poll must not spare the endpoint
	e.srv.News().Get(lobby).FetchNow()
	waitFor(t, 10*time.Second, "the echoing token endpoint", func() bool { return strings.Contains(e.logs.String(), "client_secret=[reda") })
	resp, body := e.get("/readyz")
	if resp.StatusCode != http.StatusServiceUnavailable || body != "not ready: token_error\n" {
		t.Errorf("readyz = %d %q, want 503 with a reason code only", resp.StatusCode, body)
	}
	basic := base64.StdEncoding.EncodeToString([]byte(spencertest.ClientID + ":" + url.QueryEscape(secret)))
	accessToken := regexp.MustCompile(`at-[0-9a-f]{8}`)
	check := func(stage string) {
		t.Helper()
		texts := map[string]string{"log": e.logs.String()}
		for _, p := range []string{"/", "/readyz", "/admin", "/admin/status.json", "/metrics", "/screens/" + lobby, "/api/feed.json"} {
			_, texts[p] = e.get(p)
		}
		for where, text := range texts {
			for _, s := range []string{secret, basic} {
				for i := 0; i+8 <= len(s); i++ {
					if strings.Contains(text, s[i:i+8]) {
						t.Errorf("%s: %s shows %q of a credential", stage, where, s[i:i+8])
						break
					}
				}
			}
			if m := accessToken.FindString(text); m != "" {
				t.Errorf("%s: %s shows the access token %q", stage, where, m)
			}
		}
	}
	check("token endpoint echoing")

	// Now the token is good, and the API echoes the request that carried it.
	e.fake.SetCredentials(spencertest.ClientID, secret)
	e.fake.SetFault(spencertest.Fault{PublicationsEchoAll: true, EchoPadding: 175})
	e.srv.News().Get(lobby).FetchNow()
	waitFor(t, 10*time.Second, "the echoing API", func() bool { return strings.Contains(e.logs.String(), "Authorization: Bearer [re") })
	check("API echoing")
}
