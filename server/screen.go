package server

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// The WebSocket timings of SPEC 6.1.
const (
	writeWait      = 10 * time.Second // a write that takes longer drops the screen
	pongWait       = 60 * time.Second // a screen silent this long is dropped
	pingPeriod     = 30 * time.Second
	maxMessageSize = 1024 // screens send only small heartbeats
)

// Screen is one connected kiosk browser. One goroutine reads, one writes. Its queue holds
// at most one deck, one status and one reload: a newer deck replaces an older one still
// queued (every deck is a full snapshot), so a slow screen costs bounded memory and is
// dropped only when a write stalls for writeWait.
type Screen struct {
	ID          string
	SID         string // stable across reloads and reconnects, kept by the page
	UserlistID  string
	Lang        string
	Addr        string
	UserAgent   string
	ConnectedAt time.Time

	conn *websocket.Conn
	hub  *Hub

	mu      sync.Mutex
	deck    *websocket.PreparedMessage
	status  *websocket.PreparedMessage
	reload  bool
	goAway  []byte
	wake    chan struct{}
	done    chan struct{}
	closing sync.Once

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
}

func newScreen(hub *Hub, conn *websocket.Conn, id, userlist, lang, addr, ua, version string) *Screen {
	s := &Screen{
		ID:          id,
		UserlistID:  userlist,
		Lang:        lang,
		Addr:        addr,
		UserAgent:   ua,
		ConnectedAt: time.Now(),
		conn:        conn,
		hub:         hub,
		wake:        make(chan struct{}, 1),
		done:        make(chan struct{}),
	}
	s.lastSeen.Store(s.ConnectedAt.UnixNano())
	s.version.Store(&version)
	return s
}

// Info describes s.
func (s *Screen) Info() ScreenInfo {
	info := ScreenInfo{
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

func (s *Screen) sendDeck(pm *websocket.PreparedMessage, version *string) {
	s.mu.Lock()
	s.deck = pm
	s.mu.Unlock()
	s.version.Store(version)
	s.notify()
}

func (s *Screen) sendStatus(pm *websocket.PreparedMessage) {
	s.mu.Lock()
	s.status = pm
	s.mu.Unlock()
	s.notify()
}

func (s *Screen) sendReload() {
	s.mu.Lock()
	s.reload = true
	s.mu.Unlock()
	s.notify()
}

func (s *Screen) notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// closeGoingAway sends a going-away close frame and waits, briefly, for the screen to end.
func (s *Screen) closeGoingAway(frame []byte) {
	s.mu.Lock()
	s.goAway = frame
	s.mu.Unlock()
	s.notify()
	select {
	case <-s.done:
	case <-time.After(writeWait):
		s.close()
	}
}

// close ends the screen once: the writer stops, the connection closes, the hub forgets it.
func (s *Screen) close() {
	s.closing.Do(func() {
		close(s.done)
		s.conn.Close()
		s.hub.Unregister(s)
	})
}

// take empties the queue in the order the screen must see it.
func (s *Screen) take() (goAway []byte, reload bool, deck, status *websocket.PreparedMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	goAway, reload, deck, status = s.goAway, s.reload, s.deck, s.status
	s.goAway, s.reload, s.deck, s.status = nil, false, nil, nil
	return
}

// writePump is the screen's only writer.
func (s *Screen) writePump() {
	ping := time.NewTicker(pingPeriod)
	defer func() {
		ping.Stop()
		s.close()
	}()
	for {
		select {
		case <-s.done:
			return
		case <-ping.C:
			if err := s.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				return
			}
		case <-s.wake:
			goAway, reload, deck, status := s.take()
			if goAway != nil {
				s.conn.WriteControl(websocket.CloseMessage, goAway, time.Now().Add(time.Second)) //nolint:errcheck // closing anyway
				return
			}
			if reload {
				if !s.write(s.hub.reloadMsg) {
					return
				}
				continue // the page reloads and asks for what it needs
			}
			if deck != nil && !s.write(deck) {
				return
			}
			if status != nil && !s.write(status) {
				return
			}
		}
	}
}

func (s *Screen) write(pm *websocket.PreparedMessage) bool {
	s.conn.SetWriteDeadline(time.Now().Add(writeWait)) //nolint:errcheck // the write reports it
	if err := s.conn.WritePreparedMessage(pm); err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			s.hub.dropped.Add(1) // a slow screen, not one that went away
			s.hub.log.Warn("slow screen dropped", slog.String("screen", s.ID), slog.String("address", s.Addr))
		}
		return false
	}
	return true
}

// clientMessage is what a screen sends: a heartbeat with the version and viewport it shows.
type clientMessage struct {
	Type     string `json:"type"`
	Version  string `json:"version"`
	Viewport string `json:"viewport"`
}

// readPump is the screen's only reader: it keeps the read deadline alive and records
// heartbeats. Any read error (a close, a timeout, a message over the limit) ends the screen.
func (s *Screen) readPump() {
	defer s.close()
	s.conn.SetReadLimit(maxMessageSize)
	s.conn.SetReadDeadline(time.Now().Add(pongWait)) //nolint:errcheck
	s.conn.SetPongHandler(func(string) error {
		s.lastSeen.Store(time.Now().UnixNano())
		return s.conn.SetReadDeadline(time.Now().Add(pongWait))
	})
	for {
		kind, msg, err := s.conn.ReadMessage()
		if err != nil {
			return
		}
		now := time.Now()
		s.lastSeen.Store(now.UnixNano())
		s.conn.SetReadDeadline(now.Add(pongWait)) //nolint:errcheck
		s.receive(kind, msg)
	}
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
