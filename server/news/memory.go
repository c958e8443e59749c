package news

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/patrickmn/go-cache"
)

// MemoryConfig configures the memory engine.
type MemoryConfig struct {
	// DataDir keeps the shared maps and the secrets across restarts (atomically, one file
	// per map); "": in memory only.
	DataDir string
	// Keep is how long interest is remembered: the poller's IdleAfter or longer (an hour
	// when 0).
	Keep time.Duration
	// ContentTTL is how long a userlist's content is kept after it was last published or
	// polled (7 days when 0), as the Redis engine keeps it.
	ContentTTL time.Duration
	// Instance names this instance; empty: the host name.
	Instance string
	Log      *slog.Logger
}

// Memory is the engine of a single instance, a cluster of one: it is the leader from the
// start, it delivers every publication and command at once to this instance's receiver
// and handlers, it keeps the last content of every userlist, the statuses and its own
// presence in this process, and its shared maps and secrets in data_dir, so that what the
// operator set survives a restart.
type Memory struct {
	id    string
	ttl   time.Duration
	log   *slog.Logger
	files mapFiles

	read    *cache.Cache // userlist -> time of the last read
	watched *cache.Cache // userlist -> time a screen last showed it

	mu       sync.Mutex
	started  bool
	receive  func(*Content)
	commands []func(Command)
	resync   []func(emptied bool)
	contents map[string]keptContent
	swept    time.Time // when contents and statuses were last rid of what outlived the TTL
	statuses map[string]Status
	presence *Presence
	maps     map[string]map[string]mapEntry // by name, read from data_dir on first use
	secrets  map[string][]byte              // read from data_dir on first use
}

// keptContent is the last content of a userlist and when it was last published or polled.
type keptContent struct {
	c  *Content
	at time.Time
}

var _ Engine = (*Memory)(nil)

// NewMemory returns a memory engine.
func NewMemory(cfg MemoryConfig) *Memory {
	if cfg.Keep <= 0 {
		cfg.Keep = time.Hour
	}
	if cfg.ContentTTL <= 0 {
		cfg.ContentTTL = 7 * 24 * time.Hour
	}
	if cfg.Instance == "" {
		cfg.Instance, _ = os.Hostname()
		if cfg.Instance == "" {
			cfg.Instance = "signage"
		}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Memory{
		id:       cfg.Instance,
		ttl:      cfg.ContentTTL,
		log:      cfg.Log,
		files:    mapFiles{dir: cfg.DataDir},
		read:     cache.New(cfg.Keep, time.Minute),
		watched:  cache.New(cfg.Keep, time.Minute),
		contents: map[string]keptContent{},
		statuses: map[string]Status{},
		maps:     map[string]map[string]mapEntry{},
	}
}

// Instance is this instance's name.
func (m *Memory) Instance() string { return m.id }

// Start runs the resync functions once, as the Redis engine does once subscribed.
func (m *Memory) Start() {
	m.mu.Lock()
	if m.started {
		m.mu.Unlock()
		return
	}
	m.started = true
	fns := m.resync
	m.mu.Unlock()
	for _, fn := range fns {
		fn(false)
	}
}

// Close forgets the interest recorded; the maps are on disk already.
func (m *Memory) Close() error {
	m.read.Flush()
	m.watched.Flush()
	return nil
}

// Healthy is true: the store is this process.
func (m *Memory) Healthy() bool { return true }

// Publish keeps c and hands it to the receiver before it returns.
func (m *Memory) Publish(_ context.Context, c *Content) error {
	now := time.Now()
	m.mu.Lock()
	m.contents[c.Userlist] = keptContent{c: c, at: now}
	if now.Sub(m.swept) > time.Minute {
		m.swept = now
		for id, k := range m.contents {
			if now.Sub(k.at) > m.ttl {
				delete(m.contents, id)
			}
		}
		for id, st := range m.statuses {
			if now.Sub(st.LastFetch) > m.ttl {
				delete(m.statuses, id) // an on-demand userlist nobody asked for since
			}
		}
	}
	fn := m.receive
	m.mu.Unlock()
	if fn != nil {
		fn(c)
	}
	return nil
}

// Last is the content last published for a userlist, less the items that expired since.
func (m *Memory) Last(_ context.Context, userlist string) (*Content, error) {
	now := time.Now()
	m.mu.Lock()
	k, ok := m.contents[userlist]
	m.mu.Unlock()
	if !ok || now.Sub(k.at) > m.ttl {
		return nil, nil
	}
	return k.c.Refiltered(now), nil
}

// All is the last content of every userlist published within the content TTL.
func (m *Memory) All(context.Context) ([]*Content, error) {
	now := time.Now()
	m.mu.Lock()
	var out []*Content
	for _, k := range m.contents {
		if now.Sub(k.at) <= m.ttl {
			out = append(out, k.c)
		}
	}
	m.mu.Unlock()
	for i, c := range out {
		out[i] = c.Refiltered(now)
	}
	return out, nil
}

// Receive sets the receiver.
func (m *Memory) Receive(fn func(*Content)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.receive = fn
}

// OnResync adds a function that Start runs: this engine never loses what it holds.
func (m *Memory) OnResync(fn func(emptied bool)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.resync = append(m.resync, fn)
}

// Touch records interest now.
func (m *Memory) Touch(_ context.Context, userlist string, watched bool) error {
	c := m.read
	if watched {
		c = m.watched
	}
	c.SetDefault(userlist, time.Now())
	return nil
}

// Interest reports the interest recorded since.
func (m *Memory) Interest(_ context.Context, userlist string, since time.Time) (bool, bool, error) {
	at := func(c *cache.Cache) bool {
		v, ok := c.Get(userlist)
		return ok && !v.(time.Time).Before(since)
	}
	return at(m.read), at(m.watched), nil
}

// Interested lists the userlists read or watched since.
func (m *Memory) Interested(_ context.Context, since time.Time) ([]string, error) {
	seen := map[string]bool{}
	for _, c := range []*cache.Cache{m.read, m.watched} {
		for id, it := range c.Items() {
			if !it.Object.(time.Time).Before(since) {
				seen[id] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	return out, nil
}

// Leader is always true: the only member leads.
func (m *Memory) Leader() bool { return true }

// OnLeadership tells fn at once that this instance leads.
func (m *Memory) OnLeadership(fn func(bool)) { fn(true) }

// SaveStatus records a userlist's polling state and keeps its content from expiring.
func (m *Memory) SaveStatus(_ context.Context, userlist string, st Status) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.statuses[userlist] = st
	if k, ok := m.contents[userlist]; ok {
		k.at = time.Now()
		m.contents[userlist] = k
	}
	return nil
}

// Statuses is the polling state of every userlist as recorded.
func (m *Memory) Statuses(context.Context) (map[string]Status, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]Status, len(m.statuses))
	for id, st := range m.statuses {
		out[id] = st
	}
	return out, nil
}

// Send hands cmd to this instance's handlers.
func (m *Memory) Send(_ context.Context, cmd Command) error {
	cmd.From = m.id
	m.mu.Lock()
	handlers := m.commands
	m.mu.Unlock()
	for _, fn := range handlers {
		fn(cmd)
	}
	return nil
}

// OnCommand adds a command handler.
func (m *Memory) OnCommand(fn func(Command)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.commands = append(m.commands, fn)
}

// Announce records this instance's presence. It never asks for the screens: nobody else
// reads them.
func (m *Memory) Announce(_ context.Context, p Presence, _ func() json.RawMessage, _ time.Duration) error {
	p.Instance, p.Leader, p.Seen, p.Screens = m.id, true, time.Now(), nil
	m.mu.Lock()
	defer m.mu.Unlock()
	m.presence = &p
	return nil
}

// Presences is this instance, when it announced itself within.
func (m *Memory) Presences(_ context.Context, within time.Duration) ([]Presence, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.presence == nil || time.Since(m.presence.Seen) > within {
		return nil, nil
	}
	return []Presence{*m.presence}, nil
}

// MapSet sets an entry under the lock, writes the map to data_dir, and tells this
// instance's handlers.
func (m *Memory) MapSet(ctx context.Context, name, key string, value []byte, o MapOptions) error {
	if !mapName.MatchString(name) {
		return errMapName
	}
	now := time.Now()
	m.mu.Lock()
	entries, err := m.mapLocked(name)
	if err != nil {
		m.mu.Unlock()
		return err
	}
	dropExpired(entries, now)
	old, had := entries[key]
	if o.Limit > 0 && !had && len(entries) >= o.Limit {
		m.mu.Unlock()
		return ErrMapFull
	}
	e := mapEntry{value: slices.Clone(value)}
	if o.TTL > 0 {
		e.expires = now.Add(o.TTL)
	}
	entries[key] = e
	if err := m.files.saveMap(name, entries); err != nil {
		if had {
			entries[key] = old
		} else {
			delete(entries, key)
		}
		m.mu.Unlock()
		return err
	}
	m.mu.Unlock()
	return m.Send(ctx, Command{Kind: CommandChanged, Name: name})
}

// MapDelete removes an entry under the lock and writes the map to data_dir.
func (m *Memory) MapDelete(ctx context.Context, name, key string) (bool, error) {
	if !mapName.MatchString(name) {
		return false, errMapName
	}
	now := time.Now()
	m.mu.Lock()
	entries, err := m.mapLocked(name)
	if err != nil {
		m.mu.Unlock()
		return false, err
	}
	dropExpired(entries, now)
	old, had := entries[key]
	if !had {
		m.mu.Unlock()
		return false, nil
	}
	delete(entries, key)
	if err := m.files.saveMap(name, entries); err != nil {
		entries[key] = old
		m.mu.Unlock()
		return false, err
	}
	m.mu.Unlock()
	return true, m.Send(ctx, Command{Kind: CommandChanged, Name: name})
}

// MapAll is the whole map, less what expired.
func (m *Memory) MapAll(_ context.Context, name string) (map[string][]byte, error) {
	if !mapName.MatchString(name) {
		return nil, errMapName
	}
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	entries, err := m.mapLocked(name)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(entries))
	for k, e := range entries {
		if !e.expiredAt(now) {
			out[k] = slices.Clone(e.value)
		}
	}
	return out, nil
}

// mapLocked is the map name, read from data_dir the first time. A file that cannot be
// read as a map is logged and the map starts empty (the next write replaces the file),
// as a corrupt snapshot is skipped; one that cannot be read at all is an error, tried
// again at the next call.
func (m *Memory) mapLocked(name string) (map[string]mapEntry, error) {
	if entries, ok := m.maps[name]; ok {
		return entries, nil
	}
	entries, err := m.files.loadMap(name)
	if errCorrupt, ok := err.(corruptFileError); ok {
		m.log.Warn("shared map not loaded: starting with none", slog.String("map", name), slog.Any("error", errCorrupt))
		entries, err = map[string]mapEntry{}, nil
	}
	if err != nil {
		return nil, err
	}
	m.maps[name] = entries
	return entries, nil
}

// Secret is the key kept in data_dir, made once.
func (m *Memory) Secret(_ context.Context, name string, offer []byte) ([]byte, error) {
	if !mapName.MatchString(name) {
		return nil, errMapName
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.secrets == nil {
		s, err := m.files.loadSecrets()
		if err != nil {
			return nil, err
		}
		m.secrets = s
	}
	if v, ok := m.secrets[name]; ok {
		return slices.Clone(v), nil
	}
	v := slices.Clone(offer)
	if v == nil {
		v = make([]byte, secretSize)
		rand.Read(v) //nolint:errcheck // never fails
	}
	m.secrets[name] = v
	if err := m.files.saveSecrets(m.secrets); err != nil {
		delete(m.secrets, name)
		return nil, err
	}
	return slices.Clone(v), nil
}

// dropExpired takes out the entries whose TTL ran out by now.
func dropExpired(entries map[string]mapEntry, now time.Time) {
	for k, e := range entries {
		if e.expiredAt(now) {
			delete(entries, k)
		}
	}
}
