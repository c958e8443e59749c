package screens

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// pipeResponse is a ResponseWriter whose connection is one end of a pipe, so that a real
// upgrade gives a screen over it.
type pipeResponse struct {
	httptest.ResponseRecorder
	conn net.Conn
}

func (p *pipeResponse) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return p.conn, bufio.NewReadWriter(bufio.NewReader(p.conn), bufio.NewWriter(p.conn)), nil
}

// FuzzScreenFrames: whatever bytes a screen sends after the handshake, its reader ends (at
// the end of the bytes, or on the first frame it refuses) without a panic.
func FuzzScreenFrames(f *testing.F) {
	for _, seed := range []string{
		"\x81\x85\x01\x02\x03\x04" + "zgolk",                   // a masked "hello"
		"\x01\x82\x00\x00\x00\x00{\"\x80\x81\x00\x00\x00\x00}", // in two fragments
		"\xc1\x87\x00\x00\x00\x00\xaaV*\xa9,H\x05\x00",         // compressed
		"\x89\x80\x00\x00\x00\x00\x8a\x80\x00\x00\x00\x00",     // ping, pong
		"\x88\x82\x00\x00\x00\x00\x03\xe8",                     // close 1000
		"\x81\xff\x7f\xff\xff\xff\xff\xff\xff\xff",             // 2^63 bytes announced
	} {
		f.Add([]byte(seed))
	}
	upgrader := NewUpgrader(nil)
	f.Fuzz(func(t *testing.T, in []byte) {
		hub := NewHub(Limits{}, NewMessage([]byte(`{"type":"reload"}`)), slog.New(slog.DiscardHandler))
		server, client := net.Pipe()
		defer client.Close()
		go io.Copy(io.Discard, client) //nolint:errcheck // the 101 and what the screen is sent
		r := httptest.NewRequest("GET", "/", nil)
		r.Header = http.Header{"Upgrade": {"websocket"}, "Connection": {"Upgrade"}, "Sec-Websocket-Version": {"13"},
			"Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="}, "Sec-Websocket-Extensions": {"permessage-deflate"}}
		conn, err := upgrader.Upgrade(&pipeResponse{conn: server}, r, nil)
		if err != nil {
			t.Fatal(err)
		}
		s := hub.NewScreen(conn, Params{ID: "s1", Userlist: "u", Addr: "127.0.0.1", UserAgent: "fuzz"})
		hub.Reserve(s.Addr) //nolint:errcheck
		hub.Register(s)     //nolint:errcheck
		s.Start()
		client.Write(in) //nolint:errcheck // the reader may stop taking bytes early
		client.Close()
		deadline := time.Now().Add(5 * time.Second)
		for hub.Total() > 0 {
			if time.Now().After(deadline) {
				t.Fatalf("the screen did not end on %q", in)
			}
			time.Sleep(time.Millisecond)
		}
	})
}
