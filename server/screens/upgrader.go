package screens

import (
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// readBufferSize is each screen's read buffer: a heartbeat frame (about 80 bytes) fits,
// and gorilla reads a larger message through it; a control frame (125 bytes at most)
// must fit whole.
const readBufferSize = 128

// NewUpgrader returns the upgrader of the screens' connections, checkOrigin deciding
// which pages may open one (nil: gorilla's same-origin check). It offers
// permessage-deflate, and keeps what a connection holds small: a read buffer of its own
// rather than the HTTP server's 4 KiB one, and write buffers lent from a pool to a
// message being written, so that an idle screen holds none (prepared messages and
// control frames need none at all).
func NewUpgrader(checkOrigin func(*http.Request) bool) *websocket.Upgrader {
	return &websocket.Upgrader{
		ReadBufferSize:    readBufferSize,
		WriteBufferPool:   &sync.Pool{},
		HandshakeTimeout:  10 * time.Second,
		EnableCompression: true,
		CheckOrigin:       checkOrigin,
	}
}
