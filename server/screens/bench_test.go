package screens

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

	"github.com/gorilla/websocket"
)

// deckOf is a deck message of about size bytes, shaped as the server's: JSON around the
// slides' HTML.
func deckOf(size int) []byte {
	slide := `<section class=\"slide\" data-testid=\"slide\"><h2>News item about the canteen</h2><p>The canteen reopens on Monday with a new menu. The canteen reopens on Monday with a new menu.</p></section>`
	html := strings.Repeat(slide, size/len(slide)+1)
	return []byte(`{"type":"deck","version":"v1","html":"` + html + `"}`)
}

// BenchmarkHubBroadcast hands one prepared deck to 1,000 screens over loopback and waits
// until every one has read it whole: the hub's queueing, its writers' socket writes, and
// the clients' reads, all in this process. A deck of about 9 KB (2 items) fits in a
// socket's buffer; one of about 90 KB (20 items) does not. The clients do not offer
// permessage-deflate, so each deck is one plain frame, read whole off the socket.
func BenchmarkHubBroadcast(b *testing.B) {
	for _, size := range []int{9 << 10, 90 << 10} {
		b.Run(fmt.Sprintf("deck=%dKiB", size>>10), func(b *testing.B) { benchBroadcast(b, deckOf(size)) })
	}
}

func benchBroadcast(b *testing.B, data []byte) {
	deck := NewMessage(data)
	hub := NewHub(Limits{}, NewMessage([]byte(`{"type":"reload"}`)), slog.New(slog.DiscardHandler))
	defer hub.Close()
	frame := len(data) + 4 // a frame of up to 64 KiB has a 4-byte header
	if len(data) > 0xffff {
		frame = len(data) + 10
	}
	upgrader := NewUpgrader(nil)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		s := hub.NewScreen(conn, Params{ID: r.URL.Query().Get("i"), Userlist: "u", Addr: "127.0.0.1", UserAgent: "bench"})
		hub.Reserve(s.Addr) //nolint:errcheck
		hub.Register(s)     //nolint:errcheck
		s.Start()
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
			buf := make([]byte, frame)
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
	b.SetBytes(int64(frame) * screens)
	b.ReportAllocs()
	want := int64(0)
	for b.Loop() {
		want += screens
		hub.Deck("u", fmt.Sprint(want), func(string) *Message { return deck })
		for received.Load() < want {
			runtime.Gosched()
		}
	}
}
