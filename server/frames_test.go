package server_test

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestDeckFramesFollowNegotiation: a screen that negotiated permessage-deflate gets its deck
// compressed (RSV1 set on its first frame, RFC 7692), one that did not gets it plain; both
// inflate or read to the same deck. It reads the frames off the wire, as a browser gets
// them.
func TestDeckFramesFollowNegotiation(t *testing.T) {
	e := newEnv(t, time.Minute)
	var decks [2][]byte
	for i, offer := range []string{"", "permessage-deflate; client_max_window_bits"} {
		t.Run(fmt.Sprintf("offer %q", offer), func(t *testing.T) {
			conn, err := net.Dial("tcp", strings.TrimPrefix(e.base, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(5 * time.Second)) //nolint:errcheck
			req := "GET /screens/" + lobby + "/ws HTTP/1.1\r\nHost: " + strings.TrimPrefix(e.base, "http://") +
				"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
			if offer != "" {
				req += "Sec-WebSocket-Extensions: " + offer + "\r\n"
			}
			if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(conn)
			resp, err := http.ReadResponse(br, nil)
			if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
				t.Fatalf("handshake: %v %v", resp, err)
			}
			negotiated := strings.Contains(resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate")
			if negotiated != (offer != "") {
				t.Fatalf("offer %q, negotiated %v", offer, negotiated)
			}
			var payload []byte
			for first := true; ; first = false {
				b0, part := readFrame(t, br)
				if first {
					if op := b0 & 0x0f; op != 1 {
						t.Fatalf("first frame: opcode %d, want a text message", op)
					}
					if compressed := b0&0x40 != 0; compressed != negotiated {
						t.Fatalf("deck compressed %v with deflate negotiated %v", compressed, negotiated)
					}
				} else if op := b0 & 0x0f; op != 0 {
					t.Fatalf("frame %#x inside the deck", b0)
				}
				payload = append(payload, part...)
				if b0&0x80 != 0 {
					break
				}
			}
			if negotiated {
				tail := strings.NewReader("\x00\x00\xff\xff\x01\x00\x00\xff\xff")
				if payload, err = io.ReadAll(flate.NewReader(io.MultiReader(bytes.NewReader(payload), tail))); err != nil {
					t.Fatalf("inflate: %v", err)
				}
			}
			if !bytes.HasPrefix(payload, []byte(`{"type":"deck"`)) {
				t.Fatalf("deck %.40q", payload)
			}
			decks[i] = payload
		})
	}
	if !bytes.Equal(decks[0], decks[1]) {
		t.Errorf("the compressed deck does not inflate to the plain one")
	}
}

// readFrame reads one unmasked frame: its first byte and its payload.
func readFrame(t *testing.T, br *bufio.Reader) (byte, []byte) {
	t.Helper()
	var h [8]byte
	if _, err := io.ReadFull(br, h[:2]); err != nil {
		t.Fatal(err)
	}
	b0, n := h[0], int(h[1]&0x7f)
	switch n {
	case 126:
		io.ReadFull(br, h[:2]) //nolint:errcheck
		n = int(binary.BigEndian.Uint16(h[:2]))
	case 127:
		io.ReadFull(br, h[:8]) //nolint:errcheck
		n = int(binary.BigEndian.Uint64(h[:8]))
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(br, payload); err != nil {
		t.Fatal(err)
	}
	return b0, payload
}
