package screens

import (
	"io"
	"log/slog"
	"net"
	"testing"
	"time"
)

// FuzzScreenFrames: whatever bytes a screen sends, its reader ends (at the end of the
// bytes, or on the first frame it refuses) without a panic.
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
	f.Fuzz(func(t *testing.T, in []byte) {
		hub := NewHub(Limits{}, NewMessage([]byte(`{"type":"reload"}`)), slog.New(slog.DiscardHandler))
		server, client := net.Pipe()
		defer client.Close()
		go io.Copy(io.Discard, client) //nolint:errcheck // what the screen is sent
		s := hub.NewScreen(nil, Params{ID: "s1", Userlist: "u", Addr: "127.0.0.1", UserAgent: "fuzz", Deflate: true})
		s.nc = server
		s.writePump()
		done := make(chan struct{})
		go func() {
			s.readPump()
			close(done)
		}()
		client.Write(in) //nolint:errcheck // the reader may stop taking bytes early
		client.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("the reader did not end on %q", in)
		}
	})
}
