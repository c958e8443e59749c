package news

import (
	"context"
	"sync"
	"time"

	"github.com/patrickmn/go-cache"
)

// Engine shares the news of every userlist between the instances that serve it, after
// Centrifugo's engines: one in memory for a single instance (the default, nothing to
// install), one in Redis for several. Through it the instances agree on one leader, the
// only one that asks Spencer; the leader publishes each change and every instance, the
// leader included, receives it; the others tell the leader which on-demand userlists
// their readers and screens want.
type Engine interface {
	// Publish makes c the last good content of its userlist and hands it to the receiver
	// of every instance. Only the leader publishes; a Redis engine refuses the
	// publication of an instance that is no longer the leader.
	Publish(ctx context.Context, c *Content) error
	// Last is the content last published for a userlist; nil when there is none.
	Last(ctx context.Context, userlist string) (*Content, error)
	// All is the last content of every userlist that has one.
	All(ctx context.Context) ([]*Content, error)
	// Receive sets the function that takes every published content. It is called for
	// one userlist at a time, in the order published; set it before the engine runs.
	Receive(fn func(*Content))
	// Shared reports whether other instances share the content (a new instance then has
	// news to show before Spencer answers it).
	Shared() bool

	// Touch records that a reader (watched false) or a screen (watched true) of some
	// instance wants a userlist now.
	Touch(ctx context.Context, userlist string, watched bool) error
	// Interest reports whether a userlist was read, and whether it was watched, since.
	Interest(ctx context.Context, userlist string, since time.Time) (read, watched bool, err error)
	// Interested lists the userlists read or watched since.
	Interested(ctx context.Context, since time.Time) ([]string, error)

	// Leader reports whether this instance is the one that polls Spencer now.
	Leader() bool
	// OnLeadership sets the function told when this instance becomes or stops being the
	// leader; a memory engine is the leader from the start.
	OnLeadership(fn func(leader bool))

	// SaveStatus records the polling state of a userlist, for the status page of every
	// instance; Statuses returns what the leader recorded (nil for a single instance,
	// whose poller has it).
	SaveStatus(ctx context.Context, userlist string, st Status) error
	Statuses(ctx context.Context) (map[string]Status, error)

	// Send hands a command to every instance's command handlers, this one's included.
	Send(ctx context.Context, cmd Command) error
	// OnCommand adds a command handler; set it before the engine runs.
	OnCommand(fn func(Command))

	// Close stops the engine.
	Close() error
}

// Command is what one instance asks of the others: the leader to poll or fetch a
// userlist now, the holders of screens to reload them.
type Command struct {
	From     string `json:"from"` // the instance that sent it
	Kind     string `json:"kind"` // CommandPoll, CommandFetch or CommandReload
	Userlist string `json:"userlist,omitempty"`
	Screen   string `json:"screen,omitempty"`
	All      bool   `json:"all,omitempty"`
	Name     string `json:"name,omitempty"` // CommandChanged: the shared map that changed
}

// The kinds of Command.
const (
	CommandPoll   = "poll"   // the leader starts polling an on-demand userlist (a reader of another instance wants it)
	CommandFetch  = "fetch"  // the leader fetches a userlist now
	CommandReload = "reload" // the instance holding them reloads a screen, the screens of a userlist, or all
	// CommandChanged says that a shared map (Redis.MapSet) changed, for every instance to
	// load it again.
	CommandChanged = "changed"
)

// Memory is the engine of a single instance: it is the leader, it delivers each content at
// once to this instance's receiver, and it remembers interest in its own process. It
// keeps no content itself: the poller's userlists hold it, and the snapshots on disk what
// there was before a restart.
type Memory struct {
	mu       sync.Mutex
	receive  func(*Content)
	commands []func(Command)
	read     *cache.Cache // userlist -> time of the last read
	watched  *cache.Cache // userlist -> time a screen last showed it
}

var _ Engine = (*Memory)(nil)

// NewMemory returns an in-memory engine that remembers interest for keep: the poller's
// IdleAfter or longer (an hour when keep is 0).
func NewMemory(keep time.Duration) *Memory {
	if keep <= 0 {
		keep = time.Hour
	}
	return &Memory{read: cache.New(keep, time.Minute), watched: cache.New(keep, time.Minute)}
}

// Publish hands c to the receiver before it returns.
func (m *Memory) Publish(_ context.Context, c *Content) error {
	m.mu.Lock()
	fn := m.receive
	m.mu.Unlock()
	if fn != nil {
		fn(c)
	}
	return nil
}

// Last is always nil: nothing is shared with another instance.
func (m *Memory) Last(context.Context, string) (*Content, error) { return nil, nil }

// All is always empty, as Last.
func (m *Memory) All(context.Context) ([]*Content, error) { return nil, nil }

// Receive sets the receiver.
func (m *Memory) Receive(fn func(*Content)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.receive = fn
}

// Shared is false: this instance is alone.
func (m *Memory) Shared() bool { return false }

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

// Leader is always true.
func (m *Memory) Leader() bool { return true }

// OnLeadership tells fn at once that this instance leads.
func (m *Memory) OnLeadership(fn func(bool)) { fn(true) }

// SaveStatus does nothing: the poller has the status.
func (m *Memory) SaveStatus(context.Context, string, Status) error { return nil }

// Statuses is nil: the poller has them.
func (m *Memory) Statuses(context.Context) (map[string]Status, error) { return nil, nil }

// Send hands cmd to this instance's handlers.
func (m *Memory) Send(_ context.Context, cmd Command) error {
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

// Close forgets the interest recorded.
func (m *Memory) Close() error {
	m.read.Flush()
	m.watched.Flush()
	return nil
}
