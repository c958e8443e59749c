package news

import (
	"context"
	"sync"
)

// Engine shares the news of every userlist between the instances that serve it, after
// Centrifugo's engines: one in memory for a single instance (the default, nothing to
// install), one in Redis for several. The poller publishes each change through it, and
// every instance, this one included, receives it from it.
type Engine interface {
	// Publish makes c the last good content of its userlist and hands it to the receiver
	// of every instance.
	Publish(ctx context.Context, c *Content) error
	// Last is the content last published for a userlist; nil when there is none.
	Last(ctx context.Context, userlist string) (*Content, error)
	// Receive sets the function that takes every published content; set it before the
	// first Publish. It is called for one userlist at a time, in the order published.
	Receive(fn func(*Content))
	// Close stops the engine.
	Close() error
}

// Memory is the engine of a single instance: it delivers each content at once to this
// instance's receiver. It keeps nothing itself: the poller's userlists hold the content,
// and the snapshots on disk what there was before a restart.
type Memory struct {
	mu      sync.Mutex
	receive func(*Content)
}

var _ Engine = (*Memory)(nil)

// NewMemory returns an in-memory engine.
func NewMemory() *Memory { return &Memory{} }

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

// Receive sets the receiver.
func (m *Memory) Receive(fn func(*Content)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.receive = fn
}

// Close does nothing: there is nothing to stop.
func (m *Memory) Close() error { return nil }
