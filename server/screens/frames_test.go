package screens_test

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestRawFrames: what a client may not send (RFC 6455, RFC 7692), sent byte by byte over a
// raw TCP socket, is answered with a close frame whose code says why, and the connection
// then ends cleanly (no reset, so the client reads why). A polite close is answered with
// its own code. The server never sends a code that must not be sent (1005, 1006, 1015)
// nor one outside the registered ranges. Each case runs on a screen that got its deck,
// and again right after the 101, before the server wrote anything.
func TestRawFrames(t *testing.T) {
	h := newTestHub(t)
	tooBig := deflated([]byte(`{"type":"heartbeat","version":"` + strings.Repeat("a", 2000) + `"}`))
	var flood []byte
	for range 200 {
		flood = append(flood, clientFrame(0x81, heartbeat)...)
	}
	for _, c := range []struct {
		name    string
		deflate bool // offer permessage-deflate
		send    []byte
		want    int
	}{
		{"unmasked text", false, []byte("\x81\x05hello"), 1002},
		{"RSV2 set", false, clientFrame(0xa1, heartbeat), 1002},
		{"RSV3 set", false, clientFrame(0x91, heartbeat), 1002},
		{"compressed without negotiation", false, clientFrame(0xc1, deflated(heartbeat)), 1002},
		{"continuation first", false, clientFrame(0x80, heartbeat), 1002},
		{"text inside a fragmented text", false, append(clientFrame(0x01, heartbeat[:10]), clientFrame(0x81, heartbeat)...), 1002},
		{"fragmented ping", false, clientFrame(0x09, []byte("x")), 1002},
		{"ping of 126 bytes", false, clientFrame(0x89, bytes.Repeat([]byte("p"), 126)), 1002},
		{"unknown data opcode", false, clientFrame(0x83, heartbeat), 1002},
		{"unknown control opcode", false, clientFrame(0x8b, nil), 1002},
		{"2 KiB message", false, clientFrame(0x81, bytes.Repeat([]byte("x"), 2048)), 1009},
		{"2 KiB once inflated", true, clientFrame(0xc1, tooBig), 1009},
		{"text not UTF-8", false, clientFrame(0x81, []byte(`{"type":"heartbeat","version":"`+"\xff\xfe"+`"}`)), 1007},
		{"deflated payload that does not inflate", true, clientFrame(0xc1, []byte("\xff\xff\xff\xff\xff")), 1007},
		{"heartbeats far above their rate", false, flood, 1008},
		{"deflated heartbeats far above their rate", true, bytes.Repeat(clientFrame(0xc1, deflated(heartbeat)), 200), 1008},
		{"pings far above their rate", false, bytes.Repeat(clientFrame(0x89, []byte("ping")), 200), 1008},
		{"pongs far above their rate", false, bytes.Repeat(clientFrame(0x8a, nil), 200), 1008},
		{"close 1000", false, closeFrame(1000, "bye"), 1000},
		{"close 1001", false, closeFrame(1001, ""), 1001},
		{"close 3000", false, closeFrame(3000, ""), 3000},
		{"close 4999", false, closeFrame(4999, ""), 4999},
		{"close without a code", false, clientFrame(0x88, nil), 1005},
		{"close 1000, reason not UTF-8", false, closeFrame(1000, "\xc3\x28"), 1002},
		{"close 0", false, closeFrame(0, ""), 1002},
		{"close 999", false, closeFrame(999, ""), 1002},
		{"close 1004", false, closeFrame(1004, ""), 1002},
		{"close 1005", false, closeFrame(1005, ""), 1002},
		{"close 1006", false, closeFrame(1006, ""), 1002},
		{"close 1015", false, closeFrame(1015, ""), 1002},
		{"close 2999", false, closeFrame(2999, ""), 1002},
		{"close 5000", false, closeFrame(5000, ""), 1002},
		{"close 65535", false, closeFrame(65535, ""), 1002},
	} {
		for _, first := range []bool{false, true} {
			name := c.name
			if first {
				name += ", right after the 101"
			}
			t.Run(name, func(t *testing.T) {
				tries := 1
				if first {
					tries = 10 // the race it catches is the server's own start
				}
				for range tries {
					s := h.dialRaw(t, c.deflate)
					if !first {
						if m, err := s.readMessage(); err != nil || !bytes.HasPrefix(m, []byte(`{"type":"deck"`)) {
							t.Fatalf("first message %.30q, %v", m, err)
						}
					}
					s.send(c.send)
					got := s.readClose()
					if got.code != c.want {
						t.Fatalf("close %d %q, want %d", got.code, got.reason, c.want)
					}
					if !sendable(got.code) {
						t.Fatalf("the server sent close code %d", got.code)
					}
					s.conn.Close()
				}
				h.awaitEmpty(t)
			})
		}
	}
}

// sendable reports whether an endpoint may put code in a close frame (RFC 6455, 7.4): the
// codes defined for it and the ranges for libraries and applications. 1005 stands for a
// close frame without a code, which is allowed.
func sendable(code int) bool {
	switch {
	case code == 1005:
		return true
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// TestShutdownSendsGoingAway: closing the hub sends every screen 1001, so that it
// reconnects to the next process, and Close returns once they are gone.
func TestShutdownSendsGoingAway(t *testing.T) {
	h := newTestHub(t)
	s := h.dialRaw(t, false)
	if _, err := s.readMessage(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { h.Close(); close(done) }()
	got := s.readClose()
	if got.code != 1001 {
		t.Errorf("close %d %q on shutdown, want 1001 going away", got.code, got.reason)
	}
	s.conn.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
}
