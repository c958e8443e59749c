package screens

import (
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// The WebSocket timings.
const (
	writeWait      = 10 * time.Second // a write that takes longer drops the screen
	pongWait       = 60 * time.Second // a screen silent this long is dropped
	pingPeriod     = 30 * time.Second
	closeWait      = 2 * time.Second // after the close frame, how long the client may take to close
	maxMessageSize = 1024            // screens send only small heartbeats
)

// Screen is one connected kiosk browser, in the pattern of gorilla's chat example: one
// goroutine reads, one writes, every write has a deadline. Its writer runs only while
// something is queued (see outbox.go), so an idle screen holds one goroutine, its reader.
type Screen struct {
	ID       string
	SID      string // stable across reloads and reconnects, kept by the page
	QuietOff bool   // opted out of the quiet hours (?quiet=off)
	// Managed is the id of the screen the operator set up from /admin that this page
	// shows, and Name the name it was given; both "" for a page opened by its userlist.
	Managed, Name string
	UserlistID    string
	Lang          string
	Addr          string
	UserAgent     string
	ConnectedAt   time.Time

	conn *websocket.Conn
	hub  *Hub
	slot int // index in the hub's roster of its userlist; guarded by hub.mu

	mu      sync.Mutex
	started bool // Start has run: until then messages only queue, and coalesce
	writing bool // a writer runs: the others only queue, and it takes what they queued
	closing bool // a close frame is sent or on its way: nothing more is written
	closed  bool // ended: the connection is closed and the hub forgot the screen
	queue   outbox
	pinger  *time.Timer
	ending  sync.Once

	budget budget // the reader's own: what the screen may still send

	lastSeen atomic.Int64 // unix nanoseconds of the last message or pong
	lastBeat atomic.Int64 // unix nanoseconds of the last heartbeat (0: none yet)
	version  atomic.Pointer[string]
	viewport atomic.Pointer[string]
	beats    atomic.Int64
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
	// Managed and Name: the screen set up from /admin that this page shows.
	Managed string `json:"managed,omitempty"`
	Name    string `json:"name,omitempty"`
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
	Managed   string // the screen set up from /admin that the page shows ("" for none)
	Name      string // that screen's name
}

// NewScreen returns the screen of conn, a connection NewUpgrader's upgrader made, whose
// place p.Addr reserved; nothing is written to it before Register and Start. conn may be
// nil in tests of the screen alone.
func (h *Hub) NewScreen(conn *websocket.Conn, p Params) *Screen {
	s := &Screen{
		ID:          p.ID,
		SID:         p.SID,
		QuietOff:    p.QuietOff,
		Managed:     p.Managed,
		Name:        p.Name,
		UserlistID:  p.Userlist,
		Lang:        p.Lang,
		Addr:        p.Addr,
		UserAgent:   h.intern(p.UserAgent),
		ConnectedAt: time.Now(),
		conn:        conn,
		hub:         h,
		slot:        -1,
	}
	if conn != nil {
		// Compressed once per message for every screen (see Message), so it can afford
		// the best compression.
		conn.SetCompressionLevel(compressionLevel) //nolint:errcheck // a valid level
	}
	s.budget.fill(s.ConnectedAt.UnixNano())
	s.lastSeen.Store(s.ConnectedAt.UnixNano())
	version := p.Version
	s.version.Store(&version)
	return s
}

// Info describes s.
func (s *Screen) Info() ScreenInfo {
	info := ScreenInfo{
		QuietOff:    s.QuietOff,
		Managed:     s.Managed,
		Name:        s.Name,
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

// named adds the managed screen's name to a log line's attributes, so that the log calls
// a screen set up from /admin what the operator called it.
func (s *Screen) named(attrs ...any) []any {
	if s.Name != "" {
		attrs = append(attrs, slog.String("name", s.Name), slog.String("managed", s.Managed))
	}
	return attrs
}

// Start begins the screen's life once it is registered: its reader runs, and what was
// queued is written (a deck broadcast meanwhile and the one queued by the handler
// coalesce into one) by the calling goroutine, which a handler is about to end; then
// the screen is pinged every pingPeriod.
func (s *Screen) Start() {
	s.mu.Lock()
	if s.started || s.closed {
		s.mu.Unlock()
		return
	}
	s.started = true
	s.pinger = time.AfterFunc(pingPeriod, s.ping)
	s.mu.Unlock()
	go s.readPump()
	if s.claim() {
		s.writeLoop()
	}
}

// end ends the screen once: pings stop, the connection closes (which ends the reader),
// the hub forgets it.
func (s *Screen) end() {
	s.ending.Do(func() {
		s.mu.Lock()
		s.closed, s.closing = true, true
		s.queue = outbox{}
		if s.pinger != nil {
			s.pinger.Stop()
		}
		s.mu.Unlock()
		if s.conn != nil {
			s.conn.Close()
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
