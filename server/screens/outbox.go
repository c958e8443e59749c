package screens

import (
	"errors"
	"log/slog"
	"net"
	"time"

	"github.com/gorilla/websocket"
)

// outbox is what waits to be written to a screen. It holds at most one message of each
// kind: a newer deck replaces a queued one (every deck is a full snapshot), and so do the
// status, the announcements and the quiet hours; so a slow screen costs bounded memory,
// and it is dropped only when a write stalls for writeWait.
type outbox struct {
	closeCode int // the close frame to send last (0: none)
	closeText string
	ping      bool
	reload    bool
	deck      *Message
	status    *Message
	announce  *Message // the announcements to show
	quiet     *Message // whether the quiet hours hold
	identify  *Message // the screen shows its name for a while
}

// QueueDeck queues the deck of version for the screen, replacing one queued.
func (s *Screen) QueueDeck(m *Message, version string) { s.queueDeck(m, &version) }

// QueueStatus queues the status message, replacing one queued.
func (s *Screen) QueueStatus(m *Message) { s.enqueue(func(q *outbox) { q.status = m }) }

// QueueAnnouncements queues the announcements to show, replacing those queued.
func (s *Screen) QueueAnnouncements(m *Message) { s.enqueue(func(q *outbox) { q.announce = m }) }

// QueueQuiet queues whether the quiet hours hold, replacing what was queued.
func (s *Screen) QueueQuiet(m *Message) { s.enqueue(func(q *outbox) { q.quiet = m }) }

// QueueIdentify queues the message that has the screen show its name, replacing one queued.
func (s *Screen) QueueIdentify(m *Message) { s.enqueue(func(q *outbox) { q.identify = m }) }

// QueueReload queues the message that makes the page reload.
func (s *Screen) QueueReload() { s.enqueue(func(q *outbox) { q.reload = true }) }

// queueDeck queues a deck, version being shared by the screens of one broadcast.
func (s *Screen) queueDeck(m *Message, version *string) {
	s.enqueue(func(q *outbox) { q.deck = m })
	s.version.Store(version)
}

// queueClose queues the close frame, after which nothing more is written.
func (s *Screen) queueClose(code int, text string) {
	s.enqueue(func(q *outbox) { q.closeCode, q.closeText = code, text })
}

func (s *Screen) enqueue(f func(*outbox)) {
	s.mu.Lock()
	if !s.closing {
		f(&s.queue)
	}
	s.mu.Unlock()
}

// flush has what s has queued written by a goroutine of its own, unless a writer runs
// already (it takes what was queued before it stops): no write to one screen waits for
// another's, and a broadcast waits for none.
func (s *Screen) flush() {
	if s.claim() {
		go s.writeLoop()
	}
}

// claim makes the caller the screen's writer if it has something to write and none runs.
func (s *Screen) claim() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.writing || s.closing || !s.started || s.queue == (outbox{}) {
		return false
	}
	s.writing = true
	return true
}

func (s *Screen) ping() {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return
	}
	s.queue.ping = true
	s.pinger.Reset(pingPeriod)
	s.mu.Unlock()
	if s.claim() {
		s.writeLoop() // on the timer's own goroutine
	}
}

// writeLoop writes what is queued, in the order the screen must see it, until the queue
// is empty.
func (s *Screen) writeLoop() {
	for {
		s.mu.Lock()
		q := &s.queue
		var m *Message
		closeCode, closeText, ping := q.closeCode, q.closeText, false
		switch {
		case s.closing: // the reader has sent the close frame, or the screen ended
			closeCode = 0
		case closeCode != 0:
			*q = outbox{}
			s.closing = true
		case q.ping:
			ping, q.ping = true, false
		case q.reload:
			// The page reloads and asks for what it needs.
			m, *q = s.hub.reloadMsg, outbox{}
		case q.deck != nil:
			m, q.deck = q.deck, nil
		case q.status != nil:
			m, q.status = q.status, nil
		case q.announce != nil:
			m, q.announce = q.announce, nil
		case q.quiet != nil:
			m, q.quiet = q.quiet, nil
		case q.identify != nil:
			m, q.identify = q.identify, nil
		}
		if closeCode == 0 && !ping && m == nil {
			s.writing = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()

		var err error
		switch {
		case closeCode != 0:
			// The reader ends the screen when the client answers, or after closeWait.
			s.sendClose(closeCode, closeText)
			s.conn.SetReadDeadline(time.Now().Add(closeWait)) //nolint:errcheck
			return
		case ping:
			err = s.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait))
		default:
			s.conn.SetWriteDeadline(time.Now().Add(writeWait)) //nolint:errcheck // never fails
			s.conn.EnableWriteCompression(m.compress)
			err = s.conn.WritePreparedMessage(m.pm)
		}
		if err != nil {
			s.writeFailed(err)
			return
		}
	}
}

// writeFailed ends a screen whose write failed. A close frame the reader sent meanwhile
// (the screen broke the protocol, or said goodbye) refuses the writes that follow: then
// the reader ends the screen once the client has read why.
func (s *Screen) writeFailed(err error) {
	if errors.Is(err, websocket.ErrCloseSent) {
		return
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		s.hub.dropped.Add(1) // a slow screen, not one that went away
		s.hub.log.Warn("slow screen dropped", slog.String("screen", s.ID), slog.String("address", s.Addr))
	}
	s.end()
}

// sendClose sends the close frame (RFC 6455, 5.5.1), and then a FIN: closing a socket
// with bytes of the client's still unread sends a reset instead, which the client may
// meet before the close frame that says why. gorilla refuses every write after it
// (ErrCloseSent), so a writer that runs meanwhile stops there.
func (s *Screen) sendClose(code int, text string) {
	s.mu.Lock()
	s.closing = true
	s.queue = outbox{}
	s.mu.Unlock()
	err := s.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(writeWait))
	if err == nil || errors.Is(err, websocket.ErrCloseSent) {
		if cw, ok := s.conn.NetConn().(interface{ CloseWrite() error }); ok {
			cw.CloseWrite() //nolint:errcheck // the reader notices a broken connection
		}
	}
}
