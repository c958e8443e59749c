package screens

import (
	"errors"
	"io"
	"net"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// errTooFast is the reader's when a screen sends more than its budget allows.
var errTooFast = errors.New("screens: more messages than a screen sends")

// readPump is the screen's only reader: gorilla reads message after message (masking,
// fragments, control frames, the close handshake, permessage-deflate), within the limit on
// a message's size; this keeps the read deadline alive, holds the screen to its budget
// and records heartbeats. A message is handled here, before the next is read, so however
// fast a screen sends, it costs one goroutine. The first error ends the screen, with a
// close frame that says why unless the connection is gone.
func (s *Screen) readPump() {
	c := s.conn
	c.SetReadLimit(maxMessageSize)
	c.SetReadDeadline(time.Now().Add(pongWait)) //nolint:errcheck
	c.SetPongHandler(s.pong)
	c.SetPingHandler(s.pingFrom)
	var code int
	var err error
	for err == nil {
		code, err = s.readMessage()
	}
	s.stopReading(code, err)
}

// readMessage reads and handles the next message; an error ends the screen, with code
// the close code to send (0: gorilla sent one, or none is due).
func (s *Screen) readMessage() (code int, err error) {
	kind, r, err := s.conn.NextReader()
	if err != nil {
		return 0, err
	}
	now := time.Now()
	if !s.budget.take(s.hub.rate(), now.UnixNano()) {
		return 0, errTooFast
	}
	// The read limit counts the bytes on the wire; this bounds the message inflated.
	msg, err := io.ReadAll(io.LimitReader(r, maxMessageSize+1))
	switch {
	case err != nil && gone(err):
		return 0, err
	case err != nil:
		// A deflated payload that does not inflate (gorilla passes flate's error on).
		return websocket.CloseInvalidFramePayloadData, err
	case len(msg) > maxMessageSize:
		return websocket.CloseMessageTooBig, websocket.ErrReadLimit
	case kind == websocket.TextMessage && !utf8.Valid(msg):
		return websocket.CloseInvalidFramePayloadData, errors.New("screens: text message not in UTF-8")
	}
	s.heard(now)
	s.receive(kind, msg)
	return 0, nil
}

// heard notes that the screen is alive and gives it pongWait more, unless it is closing.
func (s *Screen) heard(now time.Time) {
	s.lastSeen.Store(now.UnixNano())
	s.mu.Lock()
	if !s.closing {
		s.conn.SetReadDeadline(now.Add(pongWait)) //nolint:errcheck
	}
	s.mu.Unlock()
}

// pong handles a pong (the answer to our ping, or one the page sent unasked).
func (s *Screen) pong(string) error {
	now := time.Now()
	if !s.budget.take(s.hub.rate(), now.UnixNano()) {
		return errTooFast
	}
	s.heard(now)
	return nil
}

// pingFrom answers the screen's ping with its payload, as gorilla's own handler does,
// within the budget.
func (s *Screen) pingFrom(data string) error {
	if !s.budget.take(s.hub.rate(), time.Now().UnixNano()) {
		return errTooFast
	}
	err := s.conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(writeWait))
	if err != nil && !errors.Is(err, websocket.ErrCloseSent) {
		return err
	}
	return nil
}

// stopReading ends the screen after its reader's last error. Unless the connection is
// gone, the client is told why (gorilla has sent 1002 for a frame the protocol forbids and
// 1009 past the read limit, and answered the client's own close; a second close frame is
// refused), and the connection is then closed as RFC 6455 (7.1.1) asks: the FIN after the
// close frame, then what the client still sends read and dropped until it closes its end,
// closeWait passes or maxLinger bytes came. Closing with bytes of the client's unread
// sends a reset, and a reset can cost the client what it has not read yet, the close
// frame that says why among it.
func (s *Screen) stopReading(code int, err error) {
	var ce *websocket.CloseError
	switch {
	case gone(err):
	case errors.As(err, &ce): // the client's close, which gorilla answered
		s.linger()
	default:
		if errors.Is(err, errTooFast) {
			s.hub.tooFast.Add(1)
			code = websocket.ClosePolicyViolation
		}
		if code == 0 {
			code = websocket.CloseProtocolError
		}
		s.sendClose(code, "")
		s.linger()
	}
	s.end()
}

// maxLinger bounds what is read and dropped after the close frame.
const maxLinger = 64 << 10

func (s *Screen) linger() {
	nc := s.conn.NetConn()
	if cw, ok := nc.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite() //nolint:errcheck // the read below notices a broken connection
	}
	nc.SetReadDeadline(time.Now().Add(closeWait)) //nolint:errcheck
	io.CopyN(io.Discard, nc, maxLinger)           //nolint:errcheck // until EOF, the deadline or the limit
}

// gone reports whether err says the connection itself is gone (closed by either end,
// reset, timed out): nothing can be told to the client any more.
func gone(err error) bool {
	var ce *websocket.CloseError
	var ne net.Error
	switch {
	case errors.As(err, &ce):
		return ce.Code == websocket.CloseAbnormalClosure // gorilla's name for an EOF
	case errors.As(err, &ne), errors.Is(err, net.ErrClosed), errors.Is(err, io.EOF):
		return true
	}
	return false
}
