// Package screens holds the kiosk screens connected over WebSocket: the Hub that groups
// them by userlist and fans messages out to them, each Screen with its coalescing outbox,
// and the Message that is framed once for all of them. It knows nothing of what the
// messages say: the server builds them and hands them over.
package screens

import (
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
// A broadcast copies the screen list and queues the prepared message on every screen (a
// newer deck replaces a queued older one); each screen's writer then writes it with a
// deadline of its own. No lock is held while writing, and a slow screen never slows the
// others nor the broadcast.
type Hub struct {
	log        *slog.Logger
	maxScreens int
	maxPerAddr int
	every      atomic.Int64 // what a screen's budget gains a message for, in nanoseconds

	mu         sync.RWMutex
	rosters    map[string]*roster
	perAddr    map[string]int
	total      int // places taken, by screens registered or about to be
	registered int
	closed     bool
	drained    chan struct{} // closed when the last screen leaves a closed hub

	agents sync.Map // user agent -> the same string, shared by the screens that send it
	nAgent atomic.Int64

	reloadMsg *Message

	broadcasts atomic.Int64 // changes fanned out
	dropped    atomic.Int64 // screens whose write stalled or failed
	connects   atomic.Int64
	tooFast    atomic.Int64 // screens closed for sending far above their heartbeat rate

	// onLeave, when set before screens connect, hears of every screen that disconnects
	// (the status page keeps listing it as offline). It must not call the hub.
	onLeave func(ScreenInfo)
}

// Limits bound the screens a hub holds (0: no bound).
type Limits struct {
	MaxScreens    int // in all
	MaxPerAddress int // from one client address
}

// roster is the screens of one userlist, in a slice (each screen knows its slot) rather
// than a map: a broadcast walks it in order, and the collector scans one array.
type roster struct {
	screens []*Screen
}

// NewHub returns an empty hub with the given limits; reload is the message that tells a
// screen to reload itself.
func NewHub(limits Limits, reload *Message, log *slog.Logger) *Hub {
	h := &Hub{
		log:        log,
		maxScreens: limits.MaxScreens,
		maxPerAddr: limits.MaxPerAddress,
		rosters:    map[string]*roster{},
		perAddr:    map[string]int{},
		reloadMsg:  reload,
	}
	h.SetHeartbeat(defaultHeartbeat)
	return h
}

// SetHeartbeat tells the hub how often a page sends a heartbeat (30 s unless set): a
// screen that sends far more often is closed with 1008 (policy violation).
func (h *Hub) SetHeartbeat(every time.Duration) {
	h.every.Store(int64(max(every/rateFactor, time.Millisecond)))
}

func (h *Hub) rate() time.Duration { return time.Duration(h.every.Load()) }

// OnLeave has f hear of every screen that disconnects; set it before screens connect. f
// must not call the hub.
func (h *Hub) OnLeave(f func(ScreenInfo)) { h.onLeave = f }

// Broadcasts counts the changes fanned out.
func (h *Hub) Broadcasts() int64 { return h.broadcasts.Load() }

// Dropped counts the screens dropped because a write to them stalled or failed.
func (h *Hub) Dropped() int64 { return h.dropped.Load() }

// Connects counts the screens that registered.
func (h *Hub) Connects() int64 { return h.connects.Load() }

// TooFast counts the screens closed for sending far more than a page does.
func (h *Hub) TooFast() int64 { return h.tooFast.Load() }

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
	r := h.rosters[s.UserlistID]
	if r == nil {
		r = &roster{}
		h.rosters[s.UserlistID] = r
	}
	s.slot = len(r.screens)
	r.screens = append(r.screens, s)
	h.registered++
	h.connects.Add(1)
	h.log.Info("screen connected", s.named(slog.String("screen", s.ID), slog.String("userlist", s.UserlistID),
		slog.String("address", s.Addr), slog.String("user_agent", s.UserAgent))...)
	return nil
}

// Unregister removes s and gives back its place; removing it twice is harmless.
func (h *Hub) Unregister(s *Screen) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.rosters[s.UserlistID]
	if r == nil || s.slot < 0 || s.slot >= len(r.screens) || r.screens[s.slot] != s {
		return
	}
	last := len(r.screens) - 1
	moved := r.screens[last]
	r.screens[s.slot], moved.slot = moved, s.slot
	r.screens[last] = nil
	r.screens = r.screens[:last]
	s.slot = -1
	if len(r.screens) == 0 {
		delete(h.rosters, s.UserlistID)
	} else if cap(r.screens) > 64 && len(r.screens) < cap(r.screens)/4 {
		r.screens = append([]*Screen(nil), r.screens...) // a wall that emptied gives its array back
	}
	h.release(s.Addr)
	h.registered--
	if h.registered == 0 && h.drained != nil {
		close(h.drained)
		h.drained = nil
	}
	if h.onLeave != nil {
		h.onLeave(s.Info())
	}
	h.log.Info("screen disconnected", s.named(slog.String("screen", s.ID), slog.String("userlist", s.UserlistID),
		slog.String("address", s.Addr), slog.Duration("connected_for", time.Since(s.ConnectedAt).Round(time.Second)))...)
}

// maxAgents bounds the user agents shared between screens; beyond it each screen keeps
// its own. A wall of kiosks sends a handful.
const maxAgents = 1024

// intern returns ua as shared by the screens that send it, so that 10,000 screens of the
// same model hold one copy rather than each the request header it came in.
func (h *Hub) intern(ua string) string {
	if v, ok := h.agents.Load(ua); ok {
		return v.(string)
	}
	if h.nAgent.Load() >= maxAgents {
		return ua
	}
	ua = string([]byte(ua)) // not the request's header buffer
	v, loaded := h.agents.LoadOrStore(ua, ua)
	if !loaded {
		h.nAgent.Add(1)
	}
	return v.(string)
}

// screensOf copies the screen list of a userlist ("" for all).
func (h *Hub) screensOf(id string) []*Screen {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if id != "" {
		if r := h.rosters[id]; r != nil {
			return append([]*Screen(nil), r.screens...)
		}
		return nil
	}
	out := make([]*Screen, 0, h.registered)
	for _, r := range h.rosters {
		out = append(out, r.screens...)
	}
	return out
}

// Screens counts the screens watching a userlist.
func (h *Hub) Screens(id string) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if r := h.rosters[id]; r != nil {
		return len(r.screens)
	}
	return 0
}

// Total counts every connected screen.
func (h *Hub) Total() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.total
}

// Deck sends version's deck to every screen of userlist that does not show it yet, in
// each screen's language: msgFor(lang) is the deck message in lang ("" for the
// configured one).
func (h *Hub) Deck(userlist, version string, msgFor func(lang string) *Message) {
	h.broadcasts.Add(1)
	shared := &version // shared by every screen's record of what it shows
	def := msgFor("")
	var langs map[string]*Message // the few other languages screens asked for
	screens := h.screensOf(userlist)
	for _, s := range screens {
		if v := s.version.Load(); v != nil && *v == version {
			// It shows this version already: it connected, and was sent it, between the
			// content's arrival and this broadcast.
			continue
		}
		m := def
		if s.Lang != "" {
			if m = langs[s.Lang]; m == nil {
				m = msgFor(s.Lang)
				if langs == nil {
					langs = map[string]*Message{}
				}
				langs[s.Lang] = m
			}
		}
		s.queueDeck(m, shared)
	}
	h.write(screens)
}

// Status sends every screen of userlist m, which says whether upstream is failing.
func (h *Hub) Status(userlist string, m *Message) {
	h.broadcasts.Add(1)
	screens := h.screensOf(userlist)
	for _, s := range screens {
		s.QueueStatus(m)
	}
	h.write(screens)
}

// Announce sends every screen the announcements it must show, msgFor(screen) being the
// message for its userlist and language.
func (h *Hub) Announce(msgFor func(*Screen) *Message) {
	h.broadcasts.Add(1)
	screens := h.screensOf("")
	for _, s := range screens {
		s.QueueAnnouncements(msgFor(s))
	}
	h.write(screens)
}

// Quiet tells every screen that follows the quiet hours whether they hold now.
func (h *Hub) Quiet(m *Message) {
	h.broadcasts.Add(1)
	screens := h.screensOf("")
	n := 0
	for _, s := range screens {
		if !s.QuietOff {
			s.QueueQuiet(m)
			screens[n] = s
			n++
		}
	}
	h.write(screens[:n])
}

// Reload tells the screens of a userlist ("" for every screen) to reload; it returns how many.
func (h *Hub) Reload(id string) int {
	screens := h.screensOf(id)
	for _, s := range screens {
		s.QueueReload()
	}
	h.write(screens)
	return len(screens)
}

// ReloadScreen tells one screen to reload; it reports whether the screen was found.
func (h *Hub) ReloadScreen(screenID string) bool {
	for _, s := range h.screensOf("") {
		if s.ID == screenID {
			s.QueueReload()
			s.flush()
			return true
		}
	}
	return false
}

// ReloadManaged tells the pages that show the managed screen id to reload; it returns
// how many.
func (h *Hub) ReloadManaged(id string) int {
	return h.sendManaged(id, (*Screen).QueueReload)
}

// Identify has the pages that show the managed screen id show m (their name); it returns
// how many.
func (h *Hub) Identify(id string, m *Message) int {
	return h.sendManaged(id, func(s *Screen) { s.QueueIdentify(m) })
}

func (h *Hub) sendManaged(id string, queue func(*Screen)) int {
	if id == "" {
		return 0
	}
	var screens []*Screen
	for _, s := range h.screensOf("") {
		if s.Managed == id {
			queue(s)
			screens = append(screens, s)
		}
	}
	h.write(screens)
	return len(screens)
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
// that they reconnect to the next process; it returns once they are gone, or after
// writeWait, closing those that remain without more ado.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	drained := make(chan struct{})
	if h.registered == 0 {
		close(drained)
	} else {
		h.drained = drained
	}
	h.mu.Unlock()
	screens := h.screensOf("")
	for _, s := range screens {
		s.queueClose(websocket.CloseGoingAway, "server restarting")
	}
	h.write(screens)
	select {
	case <-drained:
	case <-time.After(writeWait):
		for _, s := range h.screensOf("") {
			s.end()
		}
	}
}

// write has the screens' writers write what was queued on them.
func (h *Hub) write(screens []*Screen) {
	for _, s := range screens {
		s.flush()
	}
}
