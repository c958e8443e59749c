package screens_test

import (
	"bufio"
	"bytes"
	"compress/flate"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spencer-signage/signage/server/screens"
)

// testHub is a hub behind a real HTTP server on a loopback port, whose handler does what
// the server's does: reserve a place, upgrade, register, queue the current deck unless
// the page shows it (?v=), start.
type testHub struct {
	*screens.Hub
	addr string // host:port of the server
	deck *screens.Message
}

const deckVersion = "v1"

// testDeck is a deck message long enough to be sent compressed where that was negotiated.
var testDeck = screens.NewMessage([]byte(`{"type":"deck","version":"v1","html":"` +
	strings.Repeat(`<section class=\"slide\"><h2>Town hall on Friday</h2><p>Auditorium at 16:00.</p></section>`, 20) + `"}`))

func newTestHub(t *testing.T) *testHub {
	t.Helper()
	hub := screens.NewHub(screens.Limits{}, screens.NewMessage([]byte(`{"type":"reload"}`)), slog.New(slog.DiscardHandler))
	upgrader := screens.NewUpgrader(nil)
	var seq atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		const addr = "127.0.0.1"
		if err := hub.Reserve(addr); err != nil {
			http.Error(w, err.Error(), http.StatusTooManyRequests)
			return
		}
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			hub.Release(addr)
			return
		}
		q := r.URL.Query()
		s := hub.NewScreen(conn, screens.Params{ID: fmt.Sprintf("s%d", seq.Add(1)), SID: q.Get("sid"), Userlist: "u",
			Addr: addr, UserAgent: r.UserAgent(), Version: q.Get("v")})
		if err := hub.Register(s); err != nil {
			hub.Release(addr)
			conn.Close()
			return
		}
		if q.Get("v") != deckVersion {
			s.QueueDeck(testDeck, deckVersion)
		}
		s.Start()
	}))
	t.Cleanup(func() {
		hub.Close()
		ts.Close()
	})
	return &testHub{Hub: hub, addr: strings.TrimPrefix(ts.URL, "http://"), deck: testDeck}
}

// awaitEmpty waits until every screen has left the hub.
func (h *testHub) awaitEmpty(t *testing.T) {
	t.Helper()
	waitFor(t, 5*time.Second, "the screens to leave the hub", func() bool { return h.Total() == 0 })
}

// rawScreen is a client that speaks RFC 6455 by hand, to send what a browser never would.
type rawScreen struct {
	t       *testing.T
	conn    net.Conn
	br      *bufio.Reader
	deflate bool // permessage-deflate was negotiated
}

// dialRaw does the handshake by hand, offering permessage-deflate as Chromium does when
// deflate is set, and returns once the 101 is read.
func (h *testHub) dialRaw(t *testing.T, deflate bool) *rawScreen {
	t.Helper()
	conn, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var nonce [16]byte
	rand.Read(nonce[:]) //nolint:errcheck // never fails
	req := "GET / HTTP/1.1\r\nHost: " + h.addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(nonce[:]) + "\r\nSec-WebSocket-Version: 13\r\n"
	if deflate {
		req += "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
	}
	conn.SetDeadline(time.Now().Add(5 * time.Second)) //nolint:errcheck
	if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %v %v", resp, err)
	}
	negotiated := strings.Contains(resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate")
	if negotiated != deflate {
		t.Fatalf("offered deflate %v, negotiated %v", deflate, negotiated)
	}
	return &rawScreen{t: t, conn: conn, br: br, deflate: negotiated}
}

// frame is a server's frame as read off the wire.
type frame struct {
	fin, compressed bool
	op              byte
	payload         []byte
}

func (c *rawScreen) readFrame() (frame, error) {
	var h [8]byte
	if _, err := io.ReadFull(c.br, h[:2]); err != nil {
		return frame{}, err
	}
	f := frame{fin: h[0]&0x80 != 0, compressed: h[0]&0x40 != 0, op: h[0] & 0x0f}
	if h[1]&0x80 != 0 {
		return f, errors.New("the server masked a frame")
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		if _, err := io.ReadFull(c.br, h[:2]); err != nil {
			return f, err
		}
		n = uint64(binary.BigEndian.Uint16(h[:2]))
	case 127:
		if _, err := io.ReadFull(c.br, h[:8]); err != nil {
			return f, err
		}
		n = binary.BigEndian.Uint64(h[:8])
	}
	if n > 1<<20 {
		return f, fmt.Errorf("a frame of %d bytes", n)
	}
	f.payload = make([]byte, n)
	_, err := io.ReadFull(c.br, f.payload)
	return f, err
}

// readMessage reads the next data message whole (answering nothing), inflating it when it
// came compressed.
func (c *rawScreen) readMessage() ([]byte, error) {
	var msg []byte
	var compressed bool
	for first := true; ; {
		f, err := c.readFrame()
		if err != nil {
			return nil, err
		}
		if f.op >= 0x8 { // control frames may come between fragments
			if f.op == 0x8 {
				return nil, fmt.Errorf("closed: %x", f.payload)
			}
			continue
		}
		if first {
			compressed, first = f.compressed, false
		}
		msg = append(msg, f.payload...)
		if f.fin {
			break
		}
	}
	if compressed {
		return inflate(msg)
	}
	return msg, nil
}

// closeReply is what the server's close frame said.
type closeReply struct {
	code   int // 1005 (no status) for a close frame without a payload
	reason string
}

// readClose reads frames until the server's close frame, and then the end of the
// connection: a reset instead of either fails the test.
func (c *rawScreen) readClose() closeReply {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second)) //nolint:errcheck
	for {
		f, err := c.readFrame()
		if err != nil {
			c.t.Fatalf("no close frame: %v", err)
		}
		if f.op != 0x8 {
			continue
		}
		r := closeReply{code: 1005}
		if len(f.payload) == 1 {
			c.t.Fatalf("close frame with a 1-byte payload")
		}
		if len(f.payload) >= 2 {
			r.code, r.reason = int(binary.BigEndian.Uint16(f.payload)), string(f.payload[2:])
		}
		// Then the server ends the connection cleanly: no more frames, a FIN, no reset.
		if rest, err := io.ReadAll(c.br); err != nil || len(rest) > 0 {
			c.t.Errorf("after the close frame: %d more bytes, %v", len(rest), err)
		}
		return r
	}
}

// send writes raw bytes.
func (c *rawScreen) send(b []byte) {
	c.t.Helper()
	if _, err := c.conn.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// maskKey masks every client frame the tests build: a client's frames are masked (RFC
// 6455, 5.3), and a key that is not zero makes sure the server unmasks.
var maskKey = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// clientFrame is a masked frame with the given first byte (FIN, RSV bits, opcode).
func clientFrame(b0 byte, payload []byte) []byte {
	b := []byte{b0}
	switch n := len(payload); {
	case n <= 125:
		b = append(b, 0x80|byte(n))
	case n <= 0xffff:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	b = append(b, maskKey[:]...)
	for i, c := range payload {
		b = append(b, c^maskKey[i%4])
	}
	return b
}

// closeFrame is a client's close frame with code and reason.
func closeFrame(code int, reason string) []byte {
	return clientFrame(0x88, append(binary.BigEndian.AppendUint16(nil, uint16(code)), reason...))
}

var heartbeat = []byte(`{"type":"heartbeat","version":"v1","viewport":"1920x1080"}`)

// deflated compresses p as permessage-deflate sends a message: a sync flush without its
// final empty block (RFC 7692, 7.2.1).
func deflated(p []byte) []byte {
	var buf bytes.Buffer
	zw, _ := flate.NewWriter(&buf, flate.BestSpeed)
	zw.Write(p) //nolint:errcheck // a bytes.Buffer does not fail
	zw.Flush()  //nolint:errcheck
	return bytes.TrimSuffix(buf.Bytes(), []byte{0, 0, 0xff, 0xff})
}

func inflate(p []byte) ([]byte, error) {
	return io.ReadAll(flate.NewReader(io.MultiReader(bytes.NewReader(p), strings.NewReader("\x00\x00\xff\xff\x01\x00\x00\xff\xff"))))
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
