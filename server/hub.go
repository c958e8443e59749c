package server

import (
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// ErrTooManyScreens is returned by Register when a limit on screens is reached.
var ErrTooManyScreens = errors.New("too many screens")

// Hub holds the connected screens, grouped by userlist, and fans changes out to them.
// A broadcast copies the screen list and then only hands each screen the prepared message
// (a newer deck replaces a queued older one), so no lock is held while writing and a slow
// screen never slows the others.
type Hub struct {
	log        *slog.Logger
	maxScreens int
	maxPerAddr int

	mu      sync.RWMutex
	lists   map[string]map[*Screen]struct{}
	perAddr map[string]int
	total   int
	closed  bool

	reloadMsg    *websocket.PreparedMessage
	goingAwayMsg []byte

	broadcasts atomic.Int64 // changes fanned out
	dropped    atomic.Int64 // screens whose write stalled or failed
	connects   atomic.Int64

	// onLeave, when set before screens connect, hears of every screen that disconnects
	// (the status page keeps listing it as offline). It must not call the hub.
	onLeave func(ScreenInfo)
}

// NewHub returns an empty hub with the given limits (0: none).
func NewHub(maxScreens, maxPerAddr int, log *slog.Logger) *Hub {
	reload, _ := websocket.NewPreparedMessage(websocket.TextMessage, []byte(`{"type":"reload"}`))
	return &Hub{
		log:          log,
		maxScreens:   maxScreens,
		maxPerAddr:   maxPerAddr,
		lists:        map[string]map[*Screen]struct{}{},
		perAddr:      map[string]int{},
		reloadMsg:    reload,
		goingAwayMsg: websocket.FormatCloseMessage(websocket.CloseGoingAway, "server restarting"),
	}
}

// Reserve takes a place for a new screen from addr before its upgrade, so that the limits
// hold however many connect at once; Release gives it back if the screen never registers.
func (h *Hub) Reserve(addr string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.closed:
		return ErrTooManyScreens
	case h.maxScreens > 0 && h.total >= h.maxScreens:
		return ErrTooManyScreens
	case h.maxPerAddr > 0 && h.perAddr[addr] >= h.maxPerAddr:
		return ErrTooManyScreens
	}
	h.perAddr[addr]++
	h.total++
	return nil
}

// Release gives back a place taken by Reserve.
func (h *Hub) Release(addr string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.release(addr)
}

func (h *Hub) release(addr string) {
	if h.perAddr[addr]--; h.perAddr[addr] <= 0 {
		delete(h.perAddr, addr)
	}
	h.total--
}

// Register adds s, whose place was reserved; it fails when the hub has closed meanwhile,
// and the caller then releases the place.
func (h *Hub) Register(s *Screen) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return ErrTooManyScreens
	}
	set := h.lists[s.UserlistID]
	if set == nil {
		set = map[*Screen]struct{}{}
		h.lists[s.UserlistID] = set
	}
	set[s] = struct{}{}
	h.connects.Add(1)
	h.log.Info("screen connected", slog.String("screen", s.ID), slog.String("userlist", s.UserlistID),
		slog.String("address", s.Addr), slog.String("user_agent", s.UserAgent))
	return nil
}

// Unregister removes s and gives back its place; removing it twice is harmless.
func (h *Hub) Unregister(s *Screen) {
	h.mu.Lock()
	defer h.mu.Unlock()
	set := h.lists[s.UserlistID]
	if _, ok := set[s]; !ok {
		return
	}
	delete(set, s)
	if len(set) == 0 {
		delete(h.lists, s.UserlistID)
	}
	h.release(s.Addr)
	if h.onLeave != nil {
		h.onLeave(s.Info())
	}
	h.log.Info("screen disconnected", slog.String("screen", s.ID), slog.String("userlist", s.UserlistID),
		slog.String("address", s.Addr), slog.Duration("connected_for", time.Since(s.ConnectedAt).Round(time.Second)))
}

// screensOf copies the screen list of a userlist ("" for all).
func (h *Hub) screensOf(id string) []*Screen {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var out []*Screen
	if id != "" {
		out = make([]*Screen, 0, len(h.lists[id]))
		for s := range h.lists[id] {
			out = append(out, s)
		}
		return out
	}
	out = make([]*Screen, 0, h.total)
	for _, set := range h.lists {
		for s := range set {
			out = append(out, s)
		}
	}
	return out
}

// Screens counts the screens watching a userlist.
func (h *Hub) Screens(id string) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.lists[id])
}

// Total counts every connected screen.
func (h *Hub) Total() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.total
}

// Deck sends c's deck to every screen of its userlist, in each screen's language.
func (h *Hub) Deck(c *Edition) {
	h.broadcasts.Add(1)
	version := &c.Version // shared by every screen's record of what it shows
	for _, s := range h.screensOf(c.Userlist) {
		s.sendDeck(c.DeckMessage(s.Lang), version)
	}
}

// Status tells every screen of c's userlist whether upstream is failing.
func (h *Hub) Status(c *Edition) {
	pm := statusPrepared(c)
	h.broadcasts.Add(1)
	for _, s := range h.screensOf(c.Userlist) {
		s.sendStatus(pm)
	}
}

// Reload tells the screens of a userlist ("" for every screen) to reload; it returns how many.
func (h *Hub) Reload(id string) int {
	screens := h.screensOf(id)
	for _, s := range screens {
		s.sendReload()
	}
	return len(screens)
}

// ReloadScreen tells one screen to reload; it reports whether the screen was found.
func (h *Hub) ReloadScreen(screenID string) bool {
	for _, s := range h.screensOf("") {
		if s.ID == screenID {
			s.sendReload()
			return true
		}
	}
	return false
}

// List describes every connected screen.
func (h *Hub) List() []ScreenInfo {
	screens := h.screensOf("")
	out := make([]ScreenInfo, 0, len(screens))
	for _, s := range screens {
		out = append(out, s.Info())
	}
	return out
}

// Close refuses new screens and closes every connected one with a going-away frame, so
// that they reconnect to the next process.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range h.screensOf("") {
		wg.Go(func() { s.closeGoingAway(h.goingAwayMsg) })
	}
	wg.Wait()
}

func statusPrepared(c *Edition) *websocket.PreparedMessage {
	m := statusMessage{Type: "status", Stale: c.Stale}
	if c.Stale && !c.StaleSince.IsZero() {
		m.Since = c.StaleSince.UTC().Format(time.RFC3339)
	}
	b, _ := json.Marshal(m)
	pm, _ := websocket.NewPreparedMessage(websocket.TextMessage, b)
	return pm
}
