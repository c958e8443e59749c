package server

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/spencer-signage/signage/server/feed"
	"github.com/spencer-signage/signage/server/news"
	"github.com/spencer-signage/signage/spencerclient"
)

// newEdition renders c as the server does on a change.
func newEdition(c *news.Content) *Edition {
	es := &editions{log: slog.New(slog.DiscardHandler), feedIDs: feed.NewIDs("customer:acme")}
	return es.of(c, func(string) bool { return true })
}

func benchItems(n int) []spencerclient.Item {
	items := make([]spencerclient.Item, n)
	for i := range items {
		items[i] = spencerclient.Item{
			ID: fmt.Sprintf("p%d", i), Title: fmt.Sprintf("News item %d about the canteen", i),
			BodyHTML:  "<p>" + strings.Repeat("The canteen reopens on Monday with a new menu. ", 15) + "</p>",
			Link:      fmt.Sprintf("https://intranet.example.com/news/%d", i),
			ImageURL:  fmt.Sprintf("https://img.example.com/%d.jpg", i),
			Published: time.Date(2026, 11, 1+i%28, 9, 0, 0, 0, time.UTC), Author: "Comms",
			Raw: []byte(`{"id":"x"}`),
		}
	}
	return items
}

// BenchmarkBuildContent is the work done once per change: hashing, rendering the deck
// and the embed (QR codes included) and preparing the WebSocket message.
func BenchmarkBuildContent(b *testing.B) {
	items := benchItems(20)
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if newEdition(news.NewContent("3f0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3f", "Lobby", "en-US", items, news.StateItems, now, now)) == nil {
			b.Fatal("no edition")
		}
	}
}

// BenchmarkEncodeFeeds is the JSON Feed, RSS and Atom encoding (raw and gzip), also once
// per change.
func BenchmarkEncodeFeeds(b *testing.B) {
	now := time.Now()
	c := newEdition(news.NewContent("3f0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3f", "Lobby", "en-US", benchItems(20), news.StateItems, now, now))
	b.ReportAllocs()
	for b.Loop() {
		for _, k := range []feed.Kind{feed.JSON, feed.RSS, feed.Atom} {
			if _, err := encodeFeed(c, k, "https://signage.example.com", feedAnnouncements{}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkHubBroadcast hands one prepared deck to 1,000 screens over loopback and waits
// until every one has read it whole: the hub's queueing, its writers' socket writes, and
// the clients' reads, all in this process. A deck of 2 items (about 9 KB) fits in a
// socket's buffer and is written by the hub's writers alone; one of 20 (about 90 KB)
// does not, and each screen finishes it on the slow path.
func BenchmarkHubBroadcast(b *testing.B) {
	for _, items := range []int{2, 20} {
		b.Run(fmt.Sprintf("items=%d", items), func(b *testing.B) { benchBroadcast(b, items) })
	}
}

func benchBroadcast(b *testing.B, items int) {
	hub := NewHub(0, 0, slog.New(slog.DiscardHandler))
	defer hub.Close()
	now := time.Now()
	c := newEdition(news.NewContent("u", "Lobby", "en-US", benchItems(items), news.StateItems, now, now))
	frame := c.DeckMessage("").frame(false)
	var upgrader websocket.Upgrader
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		s := newScreen(hub, conn, r.URL.Query().Get("i"), "u", "", "127.0.0.1", "bench", "")
		hub.Reserve(s.Addr) //nolint:errcheck
		hub.Register(s)     //nolint:errcheck
		s.writePump()
		go s.readPump()
	}))
	defer ts.Close()
	const screens = 1000
	var received atomic.Int64
	for i := range screens {
		conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+fmt.Sprintf("/?i=%d", i), nil)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		go func() { // reads whole decks straight from the socket: nothing else is sent
			buf := make([]byte, len(frame))
			for {
				if _, err := io.ReadFull(conn.NetConn(), buf); err != nil {
					return
				}
				received.Add(1)
			}
		}()
	}
	for hub.Total() < screens {
		runtime.Gosched()
	}
	b.SetBytes(int64(len(frame)) * screens)
	b.ReportAllocs()
	want := int64(0)
	for b.Loop() {
		want += screens
		hub.Deck(c)
		for received.Load() < want {
			runtime.Gosched()
		}
	}
}

// BenchmarkFeedHandler serves /api/feed.json through the whole echo stack ("ours") and,
// side by side, the same status, headers and body from a bare net/http handler that copies
// a prepared header map ("bare"): the difference is what routing and middleware cost.
func BenchmarkFeedHandler(b *testing.B) {
	cfg := DefaultConfig()
	cfg.Screens.Userlists = []UserlistConfig{{ID: "3f0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3f", Name: "Lobby"}}
	cfg.Screens.DefaultUserlist = "3f0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3f"
	cfg.Server.DataDir = ""
	log := slog.New(slog.DiscardHandler)
	hub := NewHub(0, 0, log)
	s := New(cfg, Options{News: news.NewPoller(staticSource(benchItems(20)), news.NewMemory(news.MemoryConfig{Keep: time.Minute, Log: log}), hub, NewsConfig(cfg), log), Hub: hub, Logger: log})
	s.news.Start()
	defer s.news.Stop()
	ul := s.news.Get("3f0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3f")
	<-ul.Ready()
	h := s.Handler()
	req := httptest.NewRequest("GET", "/api/feed.json", nil)
	first := httptest.NewRecorder()
	h.ServeHTTP(first, req)
	prepared, body := first.Header().Clone(), first.Body.Bytes()
	bare := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		wh := w.Header()
		for k, v := range prepared {
			wh[k] = v
		}
		w.WriteHeader(http.StatusOK)
		w.Write(body) //nolint:errcheck
	})
	for _, c := range []struct {
		name string
		h    http.Handler
	}{{"ours", h}, {"bare", bare}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				w := &discardWriter{header: http.Header{}}
				c.h.ServeHTTP(w, req)
				if w.status != 200 {
					b.Fatal(w.status)
				}
			}
		})
	}
}

// discardWriter is a ResponseWriter that keeps the status and drops the body, so that a
// benchmark of a handler measures the handler rather than a recorder's buffer.
type discardWriter struct {
	header http.Header
	status int
}

func (w *discardWriter) Header() http.Header { return w.header }
func (w *discardWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *discardWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return len(b), nil
}
