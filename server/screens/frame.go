package screens

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"net/http"
	"strings"
)

// WebSocket opcodes (RFC 6455, 5.2).
const (
	opText  = 0x1
	opClose = 0x8
	opPing  = 0x9
	opPong  = 0xa
)

// Message is a WebSocket message framed once for every screen (RFC 6455, 5.2):
// as is, and compressed for the screens that negotiated permessage-deflate (RFC 7692).
// Compression is always negotiated without context takeover, so one compressed frame
// suits every such screen, and a screen's writer only copies shared bytes to a socket.
type Message struct {
	plain    []byte // the whole frame, header and payload
	deflated []byte // the same message compressed; nil when that saves nothing
}

// minDeflate is the size below which a message is sent uncompressed to every screen (a
// message may always be; RFC 7692, 6): a reload or status message would not get smaller.
const minDeflate = 256

// NewMessage prepares a text message holding data.
func NewMessage(data []byte) *Message {
	m := &Message{plain: appendFrame(nil, opText, false, data)}
	if len(data) >= minDeflate {
		if z := deflateMessage(data); len(z) < len(data) {
			m.deflated = appendFrame(nil, opText, true, z)
		}
	}
	return m
}

// frame is what a screen is sent: compressed when it negotiated compression.
func (m *Message) frame(deflate bool) []byte {
	if deflate && m.deflated != nil {
		return m.deflated
	}
	return m.plain
}

// deflateMessage compresses a message as permessage-deflate wants it: a sync flush, whose
// final empty block (00 00 ff ff) is left off (RFC 7692, 7.2.1). It runs once per message
// for every screen, so it can afford the best compression.
func deflateMessage(data []byte) []byte {
	var buf bytes.Buffer
	zw, _ := flate.NewWriter(&buf, flate.BestCompression)
	zw.Write(data) //nolint:errcheck // a bytes.Buffer does not fail
	zw.Flush()     //nolint:errcheck
	return bytes.TrimSuffix(buf.Bytes(), []byte{0, 0, 0xff, 0xff})
}

// appendFrame appends a final, unmasked frame (a server's frames are never masked),
// with RSV1 set for a compressed message.
func appendFrame(b []byte, op byte, compressed bool, payload []byte) []byte {
	b0 := 0x80 | op
	if compressed {
		b0 |= 0x40
	}
	switch n := len(payload); {
	case n <= 125:
		b = append(b, b0, byte(n))
	case n <= 0xffff:
		b = append(b, b0, 126, byte(n>>8), byte(n))
	default:
		b = append(b, b0, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return append(b, payload...)
}

// controlFrame frames a ping, pong or close; their payload is at most 125 bytes.
func controlFrame(op byte, payload []byte) []byte {
	if len(payload) > 125 {
		payload = payload[:125]
	}
	return appendFrame(make([]byte, 0, 2+len(payload)), op, false, payload)
}

var pingFrame = controlFrame(opPing, nil)

// OffersDeflate reports whether a WebSocket handshake offers permessage-deflate (RFC 7692):
// gorilla's Upgrader, with compression enabled, accepts it exactly then, as its own
// negotiation reads the same header the same way. Deciding it here from the request
// spares reading gorilla's unexported state.
func OffersDeflate(h http.Header) bool {
	for _, v := range h.Values("Sec-Websocket-Extensions") {
		for ext := range strings.SplitSeq(v, ",") {
			name, _, _ := strings.Cut(ext, ";")
			if strings.TrimSpace(name) == "permessage-deflate" {
				return true
			}
		}
	}
	return false
}
