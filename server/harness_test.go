package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/spencer-signage/signage/server"
	"github.com/spencer-signage/signage/server/news"
	"github.com/spencer-signage/signage/spencerclient"
	"github.com/spencer-signage/signage/spencerclient/spencertest"
)

const (
	lobby   = "3f0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3f"
	canteen = "9b2d7c41-5e8a-4f3b-a6c1-0d2e4f6a8b9c"
)

// env is a real server on a random loopback port, polling a spencertest fake.
type env struct {
	t      *testing.T
	fake   *spencertest.Server
	client *spencerclient.Client
	srv    *server.Server
	cfg    server.Config
	opts   server.Options // extra options for the next start
	base   string
	logs   *logBuffer
	closed bool
}

// newEnv starts a fake with the two userlists and a server polling it every interval.
// mod may change the config before the server starts.
func newEnv(t *testing.T, interval time.Duration, mod ...func(*server.Config)) *env {
	t.Helper()
	fake := spencertest.NewServer()
	t.Cleanup(fake.Close)
	fake.SetPublications(lobby, []map[string]any{
		{"id": "l1", "title": "Town hall on Friday", "body": "<p>Auditorium at 16:00.</p>", "publishedAt": "2026-11-20T09:00:00Z", "url": "https://intranet.example.com/th"},
		{"id": "l2", "title": "Bike to work week", "body": "Log your rides.", "publishedAt": "2026-11-19T09:00:00Z"},
	})
	fake.SetPublications(canteen, map[string]any{"data": []map[string]any{
		{"id": "c1", "title": "Menu of the week", "summary": "Soup, pasta, curry.", "publishedAt": "2026-11-21T09:00:00Z"},
	}})
	cfg := server.DefaultConfig()
	cfg.Spencer.Demo = false
	cfg.Spencer.APIURL = fake.APIURL()
	cfg.Spencer.TokenURL = fake.TokenURL()
	cfg.Spencer.ClientID = spencertest.ClientID
	cfg.Spencer.ClientSecret = spencertest.ClientSecret
	cfg.Spencer.PollInterval = server.Duration{Duration: interval}
	cfg.Spencer.RequestTimeout = server.Duration{Duration: 2 * time.Second}
	cfg.Server.DataDir = t.TempDir()
	cfg.Screens.Userlists = []server.UserlistConfig{{ID: lobby, Name: "Lobby"}, {ID: canteen, Name: "Canteen"}}
	cfg.Screens.DefaultUserlist = lobby
	for _, m := range mod {
		m(&cfg)
	}
	e := &env{t: t, fake: fake, cfg: cfg, logs: &logBuffer{}}
	e.start()
	return e
}

// start (re)starts the server on a new port, or on addr when given.
func (e *env) start(addr ...string) {
	e.t.Helper()
	client, err := spencerclient.New(spencerclient.Config{
		APIURL:       e.cfg.Spencer.APIURL,
		TokenURL:     e.cfg.Spencer.TokenURL,
		ClientID:     e.cfg.Spencer.ClientID,
		ClientSecret: e.cfg.Spencer.ClientSecret,
		Timeout:      e.cfg.Spencer.RequestTimeout.Duration,
		UserAgent:    "spencer-signage/test",
		Logger:       e.logger(),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.client = client
	e.srv = e.newServer(client)
	listen := "127.0.0.1:0"
	if len(addr) > 0 {
		listen = addr[0]
	}
	var ln net.Listener
	for i := 0; ; i++ {
		ln, err = net.Listen("tcp", listen)
		if err == nil || i > 50 {
			break
		}
		time.Sleep(100 * time.Millisecond) // the old process's port may linger briefly
	}
	if err != nil {
		e.t.Fatal(err)
	}
	e.srv.Open(ln)
	e.base = "http://" + ln.Addr().String()
	e.closed = false
	e.t.Cleanup(e.stop)
}

// newServer wires a server as cmd/signage does: client, news, hub, server.
func (e *env) newServer(client *spencerclient.Client) *server.Server {
	opts := e.opts
	opts.Hub = server.NewHub(e.cfg.Server.MaxScreens, e.cfg.Server.MaxScreensPerAddress, e.logger())
	opts.News = news.NewPoller(client, news.NewMemory(news.MemoryConfig{DataDir: e.cfg.Server.DataDir, Keep: e.cfg.Screens.IdleAfter.Duration, Log: e.logger()}), opts.Hub, server.NewsConfig(e.cfg), e.logger())
	opts.TokenStatus, opts.Skipped, opts.Version, opts.Logger = client.TokenStatus, client.SkippedTotal, "test", e.logger()
	opts.Authorizer = client
	return server.New(e.cfg, opts)
}

func (e *env) stop() {
	if e.closed {
		return
	}
	e.closed = true
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e.srv.Close(ctx) //nolint:errcheck
}

func (e *env) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// get fetches path and returns the response with its body read.
func (e *env) get(path string, header ...string) (*http.Response, string) {
	e.t.Helper()
	return e.request(http.MethodGet, path, "", header...)
}

// request sends any request (header as name, value pairs, Host among them) and returns
// the response with its body read. It asks for the identity encoding unless the test says
// otherwise: the transport would otherwise ask for gzip and decompress behind our back.
func (e *env) request(method, path, body string, header ...string) (*http.Response, string) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.base+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Accept-Encoding", "identity")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" { // the Host header is the request's, not in its Header
			req.Host = header[i+1]
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, string(b)
}

// dial connects a WebSocket screen to a userlist.
func (e *env) dial(id, query string) *websocket.Conn {
	e.t.Helper()
	u := "ws" + strings.TrimPrefix(e.base, "http") + "/screens/" + id + "/ws"
	if query != "" {
		u += "?" + query
	}
	conn, resp, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		e.t.Fatalf("dial %s: %v (status %d)", u, err, status)
	}
	return conn
}

// wsMessage is any server-to-screen message.
type wsMessage struct {
	Type    string `json:"type"`
	Version string `json:"version"`
	HTML    string `json:"html"`
	Stale   bool   `json:"stale"`
	Since   string `json:"since"`
	Quiet   bool   `json:"quiet"`
}

// readMessage reads the next message about the news (deck, status, reload), failing the
// test after timeout. The announcements and quiet messages that every screen gets on
// connecting are passed over: readAnyMessage reads those.
func readMessage(t *testing.T, conn *websocket.Conn, timeout time.Duration) wsMessage {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		m := readAnyMessage(t, conn, time.Until(deadline))
		if m.Type != "announcements" && m.Type != "quiet" {
			return m
		}
	}
}

// readAnyMessage reads the next message of any type.
func readAnyMessage(t *testing.T, conn *websocket.Conn, timeout time.Duration) wsMessage {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(timeout)) //nolint:errcheck
	_, b, err := conn.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var m wsMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("message %q: %v", b, err)
	}
	return m
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// logBuffer collects log output safely across goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
