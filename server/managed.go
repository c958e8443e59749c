package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spencer-signage/signage/server/news"
	"github.com/spencer-signage/signage/server/screens"
	"github.com/spencer-signage/signage/views"
)

// managedMap is the shared map of the screens set up with a pairing code, by id; kept by
// the engine (Redis for a cluster, data_dir for one instance) across restarts.
const (
	managedMap = "screens"
	maxManaged = 5000
)

// ManagedScreen is a screen the operator set up from /admin with its pairing code: a name,
// the address to bookmark (/s/{slug}), the userlist it shows and the settings that a
// screen's address would otherwise carry. The kiosk whose code was used shows it at /s.
type ManagedScreen struct {
	ID       string `json:"id"` // 128 random bits
	Name     string `json:"name"`
	Slug     string `json:"slug"`
	Userlist string `json:"userlist"`
	Theme    string `json:"theme"`    // dark or light
	Interval int    `json:"interval"` // seconds per slide
	Lang     string `json:"lang,omitempty"`
	QR       bool   `json:"qr"`
	Clock    bool   `json:"clock"`
	// Quiet says that the screen rests in the quiet hours; false opts it out, as
	// ?quiet=off does.
	Quiet bool `json:"quiet"`
	// Device is the deviceKey of the kiosk paired with it ("" once that kiosk was paired
	// with another screen). It is kept, never shown.
	Device    string    `json:"device,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
	UpdatedAt time.Time `json:"updated_at"`
}

// revision names what a kiosk shows of m: its page carries it, and a kiosk whose page
// shows another revision reloads.
func (m ManagedScreen) revision() string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s\x00%d\x00%s\x00%t%t%t\x00%s", m.ID, m.Name, m.Slug, m.Userlist, m.Theme,
		m.Interval, m.Lang, m.QR, m.Clock, m.Quiet, m.Device)
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// options are the page options of m, as the screen's address would give them.
func (m ManagedScreen) options(s *Server) views.Options {
	o := views.Options{Theme: m.Theme, Interval: m.Interval, Lang: m.Lang, QR: m.QR, Clock: m.Clock, QuietHour: s.cfg.Screens.ReloadHour}
	if o.Lang == "" {
		o.Lang = localeOf(s.cfg.Spencer.Locale)
	}
	return o
}

// managedScreens is this instance's copy of the shared map, with its indexes, read again
// whenever an instance changes it.
type managedScreens struct {
	mu       sync.RWMutex
	byID     map[string]ManagedScreen
	byDevice map[string]string // deviceKey -> id
	bySlug   map[string]string // slug -> id
	loaded   bool
}

func (ms *managedScreens) get(id string) (ManagedScreen, bool) {
	ms.mu.RLock()
	defer ms.mu.RUnlock()
	m, ok := ms.byID[id]
	return m, ok
}

func (ms *managedScreens) ofDevice(key string) (ManagedScreen, bool) {
	ms.mu.RLock()
	defer ms.mu.RUnlock()
	m, ok := ms.byID[ms.byDevice[key]]
	return m, ok && key != ""
}

func (ms *managedScreens) withSlug(slug string) (ManagedScreen, bool) {
	ms.mu.RLock()
	defer ms.mu.RUnlock()
	m, ok := ms.byID[ms.bySlug[slug]]
	return m, ok
}

// list is every managed screen, by name.
func (ms *managedScreens) list() []ManagedScreen {
	ms.mu.RLock()
	defer ms.mu.RUnlock()
	return sortedScreens(ms.byID)
}

func sortedScreens(byID map[string]ManagedScreen) []ManagedScreen {
	out := make([]ManagedScreen, 0, len(byID))
	for _, m := range byID {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool {
		if a, b := strings.ToLower(out[i].Name), strings.ToLower(out[j].Name); a != b {
			return a < b
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// set makes byID the copy, and returns the one it replaces.
func (ms *managedScreens) set(byID map[string]ManagedScreen) (old map[string]ManagedScreen) {
	byDevice, bySlug := map[string]string{}, map[string]string{}
	for _, m := range sortedByAge(byID) {
		// Should two claim one device or one slug (two operators at once on two
		// instances), the newer wins, on every instance alike.
		if m.Device != "" {
			byDevice[m.Device] = m.ID
		}
		bySlug[m.Slug] = m.ID
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	old = ms.byID
	ms.byID, ms.byDevice, ms.bySlug, ms.loaded = byID, byDevice, bySlug, true
	return old
}

func sortedByAge(byID map[string]ManagedScreen) []ManagedScreen {
	out := make([]ManagedScreen, 0, len(byID))
	for _, m := range byID {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// readManaged reads the shared map as it is now.
func (s *Server) readManaged(ctx context.Context) (map[string]ManagedScreen, error) {
	all, err := s.cluster.MapAll(ctx, managedMap)
	if err != nil {
		return nil, err
	}
	out := make(map[string]ManagedScreen, len(all))
	for id, v := range all {
		var m ManagedScreen
		if json.Unmarshal(v, &m) == nil && m.ID == id {
			out[id] = m
		}
	}
	return out, nil
}

// putManaged writes m, under the cap when it is new (limit).
func (s *Server) putManaged(ctx context.Context, m ManagedScreen, limit int) error {
	v, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return s.cluster.MapSet(ctx, managedMap, m.ID, v, news.MapOptions{Limit: limit})
}

// reloadManaged reads the shared map again and brings this instance's kiosks in line with
// it: a page that shows a screen that changed or went reloads (with its new settings, or
// onto the pairing view), and a kiosk waiting with a code that was just used reloads onto
// its screen. Several changes at once are read in order, one at a time.
func (s *Server) reloadManaged() {
	s.managedLoad.Lock()
	defer s.managedLoad.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	now, err := s.readManaged(ctx)
	if err != nil {
		s.log.Warn("managed screens not read", slog.Any("error", err))
		return
	}
	old := s.managed.set(now)
	for id, o := range old {
		if m, ok := now[id]; !ok || m.revision() != o.revision() {
			s.hub.ReloadManaged(id)
		}
	}
	for id, m := range now {
		if o, ok := old[id]; m.Device != "" && (!ok || o.Device != m.Device) {
			s.waiting.Reload(m.Device)
		}
	}
}

// resyncManaged: when Redis lost what it held, this instance puts back the screens it
// knew, since nobody else can (a screen's settings are the operator's, with no other
// copy); then it reads the map, for what changed while it could not hear.
func (s *Server) resyncManaged(ctx context.Context, emptied bool) {
	if emptied {
		n := 0
		for _, m := range s.managed.list() {
			if s.putManaged(ctx, m, 0) == nil {
				n++
			}
		}
		w := s.restoreWaiting(ctx)
		if n > 0 || w > 0 {
			s.log.Info("cluster: Redis came back empty; managed screens and waiting codes put back", slog.Int("screens", n), slog.Int("waiting", w))
		}
	}
	s.reloadManaged()
}

// identifyMessage has a page show the name of its screen full screen for identifySeconds.
func identifyMessage(name string) *screens.Message {
	b, _ := json.Marshal(struct {
		Type    string `json:"type"`
		Name    string `json:"name"`
		Seconds int    `json:"seconds"`
	}{"identify", name, identifySeconds})
	return screens.NewMessage(b)
}

const identifySeconds = 10

// onManagedCommand acts on the commands about managed screens, sent to every instance
// (this one included) since any may hold their pages.
func (s *Server) onManagedCommand(cmd news.Command) {
	switch cmd.Kind {
	case news.CommandIdentify:
		if m, ok := s.managed.get(cmd.Managed); ok {
			s.hub.Identify(m.ID, identifyMessage(m.Name))
		}
	case news.CommandReload:
		if n := s.hub.ReloadManaged(cmd.Managed); n > 0 {
			s.log.Info("managed screen reloaded", slog.String("managed", cmd.Managed), slog.Int("pages", n), slog.String("from", cmd.From))
		}
	}
}
