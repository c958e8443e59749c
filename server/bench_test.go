package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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
