package screens

import (
	"compress/flate"

	"github.com/gorilla/websocket"
)

// Message is a text message framed once for every screen by gorilla's PreparedMessage: as
// is, and compressed for the screens that negotiated permessage-deflate. gorilla always
// negotiates it without context takeover, so one compressed frame suits them all, and a
// screen's writer only copies shared bytes to its socket.
type Message struct {
	pm       *websocket.PreparedMessage
	compress bool // worth compressing
}

// minDeflate is the size below which a message is sent uncompressed to every screen (a
// message may always be; RFC 7692, 6): a reload or status message would not get smaller.
const minDeflate = 256

// compressionLevel is the level of every compressed message: each is compressed once for
// every screen, so it can afford the best.
const compressionLevel = flate.BestCompression

// NewMessage prepares a text message holding data.
func NewMessage(data []byte) *Message {
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, data)
	if err != nil {
		// It frames into memory: it fails only for a message type that does not exist.
		panic("screens: " + err.Error())
	}
	return &Message{pm: pm, compress: len(data) >= minDeflate}
}
