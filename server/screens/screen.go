package screens

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// The WebSocket timings.
const (
	writeWait      = 10 * time.Second // a write that takes longer drops the screen
	pongWait       = 60 * time.Second // a screen silent this long is dropped
	pingPeriod     = 30 * time.Second
	maxMessageSize = 1024 // screens send only small heartbeats
)

// Screen is one connected kiosk browser. One goroutine reads. Nothing waits to write:
// whoever queues a message writes what the socket takes at once (the hub's few writers,
// for a broadcast), and only a screen whose socket is full gets a goroutine of its own to
// finish, until its queue is empty. The queue holds at most one deck, one status and one
// reload: a newer deck replaces an older one still queued (every deck is a full
// snapshot), so a slow screen costs bounded memory and is dropped only when a write
// stalls for writeWait.
type Screen struct {
	ID          string
	SID         string // stable across reloads and reconnects, kept by the page
	QuietOff    bool   // opted out of the quiet hours (?quiet=off)
	UserlistID  string
	Lang        string
	Addr        string
	UserAgent   string
	ConnectedAt time.Time

	// nc is the connection once gorilla's handshake is done: the screen writes its frames
	// and reads the screen's itself, so gorilla's Conn and its read buffer are not kept.
	nc      net.Conn
	raw     syscall.RawConn // nil: every write takes the slow path
	rw      rawWrite        // the write in progress, by whoever owns the socket
	deflate bool            // permessage-deflate was negotiated
	hub     *Hub
	slot    int // index in the hub's roster of its userlist; guarded by hub.mu

	mu      sync.Mutex
	started bool // writePump has run: until then messages only queue, and coalesce
	writing bool // someone is writing to the socket: the others only queue
	closed  bool
	queue   outbox
	pinger  *time.Timer
	closing sync.Once

	// The reader's own: the header of the frame it waits for, and a message that comes in
	// fragments (see readPump).
	head       [2]byte
	kind       int
	compressed bool
	fragmented bool
	partial    []byte

	lastSeen atomic.Int64 // unix nanoseconds of the last message or pong
	lastBeat atomic.Int64 // unix nanoseconds of the last heartbeat (0: none yet)
	version  atomic.Pointer[string]
	viewport atomic.Pointer[string]
	beats    atomic.Int64
}

// outbox is what waits to be written to a screen.
type outbox struct {
	closeFrame []byte // the last frame: going away, or the answer to the screen's close
	ping       bool
	pong       []byte // the answer to the screen's latest ping
	reload     bool
	deck       *Message
	status     *Message
	announce   *Message // the announcements to show, the latest replacing any queued
	quiet      *Message // whether the quiet hours hold, likewise
}

// ScreenInfo describes a screen for /admin.
type ScreenInfo struct {
	ID          string    `json:"id"`
	SID         string    `json:"sid,omitempty"` // the id the page keeps across reloads
	UserlistID  string    `json:"userlist"`
	Addr        string    `json:"address"`
	UserAgent   string    `json:"user_agent"`
	Lang        string    `json:"lang,omitempty"`
	Version     string    `json:"version"`
	Viewport    string    `json:"viewport,omitempty"`
	ConnectedAt time.Time `json:"connected_since"`
	LastSeen    time.Time `json:"last_seen"`
	// LastHeartbeat is when the page last reported; a tab whose script hangs keeps
	// answering pings, so only heartbeats say that a screen is alive.
	LastHeartbeat time.Time `json:"last_heartbeat"`
	Heartbeats    int64     `json:"heartbeats"`
	QuietOff      bool      `json:"quiet_off,omitempty"` // opted out of the quiet hours
}

// Params describe a screen as its request asked for it.
type Params struct {
	ID        string // unique among the screens of the cluster
	SID       string // the id the page keeps across reloads ("" for none)
	Userlist  string
	Lang      string
	Addr      string // the client's address, as the limits count it
	UserAgent string
	Version   string // the deck version the page shows ("" for none)
	QuietOff  bool   // opted out of the quiet hours
	Deflate   bool   // permessage-deflate was negotiated
}

// NewScreen returns the screen of conn, whose place p.Addr reserved; nothing is written to
// it before Register and Start. conn may be nil in tests of the screen alone.
func (h *Hub) NewScreen(conn *websocket.Conn, p Params) *Screen {
	s := &Screen{
		ID:          p.ID,
		SID:         p.SID,
		QuietOff:    p.QuietOff,
		UserlistID:  p.Userlist,
		Lang:        p.Lang,
		Addr:        p.Addr,
		UserAgent:   h.intern(p.UserAgent),
		ConnectedAt: time.Now(),
		hub:         h,
		slot:        -1,
		deflate:     p.Deflate,
	}
	if conn != nil {
		s.nc = conn.NetConn()
		if sc, ok := s.nc.(syscall.Conn); ok {
			s.raw, _ = sc.SyscallConn()
		}
	}
	s.lastSeen.Store(s.ConnectedAt.UnixNano())
	version := p.Version
	s.version.Store(&version)
	return s
}

// Info describes s.
func (s *Screen) Info() ScreenInfo {
	info := ScreenInfo{
		QuietOff:    s.QuietOff,
		ID:          s.ID,
		SID:         s.SID,
		UserlistID:  s.UserlistID,
		Addr:        s.Addr,
		UserAgent:   s.UserAgent,
		Lang:        s.Lang,
		ConnectedAt: s.ConnectedAt,
		LastSeen:    time.Unix(0, s.lastSeen.Load()),
		Heartbeats:  s.beats.Load(),
	}
	if b := s.lastBeat.Load(); b != 0 {
		info.LastHeartbeat = time.Unix(0, b)
	}
	if v := s.version.Load(); v != nil {
		info.Version = *v
	}
	if v := s.viewport.Load(); v != nil {
		info.Viewport = *v
	}
	return info
}

// QueueDeck queues the deck of version for the screen, replacing one queued.
func (s *Screen) QueueDeck(m *Message, version string) { s.queueDeck(m, &version) }

// QueueStatus queues the status message, replacing one queued.
func (s *Screen) QueueStatus(m *Message) { s.queueStatus(m) }

// QueueAnnouncements queues the announcements to show, replacing those queued.
func (s *Screen) QueueAnnouncements(m *Message) { s.queueAnnouncements(m) }

// QueueQuiet queues whether the quiet hours hold, replacing what was queued.
func (s *Screen) QueueQuiet(m *Message) { s.queueQuiet(m) }

// QueueReload queues the message that makes the page reload; it drops the others queued.
func (s *Screen) QueueReload() { s.queueReload() }

// Start begins the screen's life once it is registered: what was queued is written (a
// deck broadcast meanwhile and the one queued by the handler coalesce into one), then
// its pings, and its reader runs.
func (s *Screen) Start() {
	s.writePump()
	go s.readPump()
}

// queueDeck queues a deck for the next flush.
func (s *Screen) queueDeck(m *Message, version *string) {
	s.mu.Lock()
	s.queue.deck = m
	s.mu.Unlock()
	s.version.Store(version)
}

func (s *Screen) queueStatus(m *Message) {
	s.mu.Lock()
	s.queue.status = m
	s.mu.Unlock()
}

func (s *Screen) sendReload() {
	s.queueReload()
	s.flush()
}

func (s *Screen) queueAnnouncements(m *Message) {
	s.mu.Lock()
	s.queue.announce = m
	s.mu.Unlock()
}

func (s *Screen) queueQuiet(m *Message) {
	s.mu.Lock()
	s.queue.quiet = m
	s.mu.Unlock()
}

func (s *Screen) queueReload() {
	s.mu.Lock()
	s.queue.reload = true
	s.mu.Unlock()
}

// queueClose queues the close frame that ends the screen once written.
func (s *Screen) queueClose(frame []byte) {
	s.mu.Lock()
	s.queue.closeFrame = frame
	s.mu.Unlock()
}

// writePump starts the screen's writing: what was queued since it registered (a deck
// broadcast meanwhile and the one its handler sends coalesce into one), then its pings.
// It returns at once: what a screen is sent later is written by whoever queues it (see
// flush), so no goroutine waits on each screen.
func (s *Screen) writePump() {
	s.mu.Lock()
	if s.closed || s.started {
		s.mu.Unlock()
		return
	}
	s.started = true
	s.pinger = time.AfterFunc(pingPeriod, s.ping)
	s.mu.Unlock()
	s.flush()
}

func (s *Screen) ping() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.queue.ping = true
	s.pinger.Reset(pingPeriod)
	s.mu.Unlock()
	s.flush()
}

// next takes the next frame to write, in the order the screen must see them; last says
// that the screen ends once it is written. s.mu is held.
func (s *Screen) next() (frame []byte, last bool) {
	q := &s.queue
	switch {
	case q.closeFrame != nil:
		frame, last = q.closeFrame, true
		*q = outbox{}
	case q.pong != nil:
		frame, q.pong = q.pong, nil
	case q.ping:
		frame, q.ping = pingFrame, false
	case q.reload:
		// The page reloads and asks for what it needs.
		frame, q.reload, q.deck, q.status, q.announce, q.quiet = s.hub.reloadMsg.frame(s.deflate), false, nil, nil, nil, nil
	case q.deck != nil:
		frame, q.deck = q.deck.frame(s.deflate), nil
	case q.status != nil:
		frame, q.status = q.status.frame(s.deflate), nil
	case q.announce != nil:
		frame, q.announce = q.announce.frame(s.deflate), nil
	case q.quiet != nil:
		frame, q.quiet = q.quiet.frame(s.deflate), nil
	}
	return frame, last
}

// flush writes what s has queued without waiting on the network: the frames the socket
// takes at once are written here; the rest of a frame it does not take whole is left to a
// goroutine of the screen's own (finish), so a slow screen holds up no writer and no
// other screen. While someone writes, the others only queue: the writer takes what they
// queued before it lets go.
func (s *Screen) flush() {
	s.mu.Lock()
	if s.writing || s.closed || !s.started {
		s.mu.Unlock()
		return
	}
	for {
		frame, last := s.next()
		if frame == nil {
			s.mu.Unlock()
			return
		}
		s.writing = true
		s.mu.Unlock()
		n, err := s.tryWrite(frame)
		switch {
		case err != nil:
			s.close()
			return
		case n < len(frame):
			go s.finish(frame[n:], last)
			return
		case last:
			s.close()
			return
		}
		s.mu.Lock()
		s.writing = false
		if s.closed {
			s.mu.Unlock()
			return
		}
	}
}

// finish is the slow path: it writes the rest of a frame, and whatever is queued
// meanwhile, waiting for the socket up to writeWait each time; a screen that stalls that
// long is dropped.
func (s *Screen) finish(rest []byte, last bool) {
	nc := s.nc
	for {
		nc.SetWriteDeadline(time.Now().Add(writeWait)) //nolint:errcheck // the write reports it
		if _, err := nc.Write(rest); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				s.hub.dropped.Add(1) // a slow screen, not one that went away
				s.hub.log.Warn("slow screen dropped", slog.String("screen", s.ID), slog.String("address", s.Addr))
			}
			s.close()
			return
		}
		if last {
			s.close()
			return
		}
		// The next non-blocking write must not meet this deadline once it has passed.
		nc.SetWriteDeadline(time.Time{}) //nolint:errcheck
		s.mu.Lock()
		frame, l := s.next()
		if frame == nil || s.closed {
			s.writing = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		rest, last = frame, l
	}
}

// close ends the screen once: pings stop, the connection closes (which ends the reader),
// the hub forgets it.
func (s *Screen) close() {
	s.closing.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.queue = outbox{}
		if s.pinger != nil {
			s.pinger.Stop()
		}
		s.mu.Unlock()
		if s.nc != nil {
			s.nc.Close()
		}
		s.hub.Unregister(s)
	})
}

// clientMessage is what a screen sends: a heartbeat with the version and viewport it shows.
type clientMessage struct {
	Type     string `json:"type"`
	Version  string `json:"version"`
	Viewport string `json:"viewport"`
}

// receive records what a screen said. Anything but a well-formed heartbeat is ignored;
// the values kept are bounded in size.
func (s *Screen) receive(kind int, msg []byte) {
	if kind != websocket.TextMessage {
		return
	}
	var m clientMessage
	if json.Unmarshal(msg, &m) != nil || m.Type != "heartbeat" {
		return
	}
	s.beats.Add(1)
	s.lastBeat.Store(time.Now().UnixNano())
	if m.Version != "" && len(m.Version) <= 64 {
		v := m.Version
		s.version.Store(&v)
	}
	if m.Viewport != "" && len(m.Viewport) <= 32 {
		v := m.Viewport
		s.viewport.Store(&v)
	}
}
