package news

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Userlist is one Spencer userlist this instance knows: its current Content and the state
// of its polling. The poll goroutine of the userlist is its only writer.
type Userlist struct {
	ID         string
	Name       string
	Configured bool

	content  atomic.Pointer[Content]
	ready    chan struct{} // closed once there is something to show or the first fetch ended
	readyOne sync.Once
	fetchNow chan struct{}

	mu     sync.Mutex
	status Status
	cancel context.CancelFunc // stops its polling; nil when this instance does not poll it
}

// Status is the polling state of a userlist, for the status page and readiness.
type Status struct {
	LastFetch   time.Time `json:"last_fetch"`   // last attempt
	LastSuccess time.Time `json:"last_success"` // last answer with publications
	NextFetch   time.Time `json:"next_fetch"`
	LastError   string    `json:"last_error,omitempty"`
	Failures    int       `json:"failures"` // consecutive
	StaleSince  time.Time `json:"stale_since"`
	Unknown     bool      `json:"unknown"` // upstream answered 404 or 403
	Fetches     int64     `json:"fetches"`
}

func newUserlist(id, name string, configured bool) *Userlist {
	return &Userlist{
		ID:         id,
		Name:       name,
		Configured: configured,
		ready:      make(chan struct{}),
		fetchNow:   make(chan struct{}, 1),
	}
}

// Content is what the userlist shows now, or nil before anything was fetched or loaded.
func (u *Userlist) Content() *Content { return u.content.Load() }

// Status is a copy of the polling state.
func (u *Userlist) Status() Status {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.status
}

func (u *Userlist) setStatus(f func(*Status)) {
	u.mu.Lock()
	defer u.mu.Unlock()
	f(&u.status)
}

// Ready is closed once the userlist has content or its first fetch ended.
func (u *Userlist) Ready() <-chan struct{} { return u.ready }

func (u *Userlist) markReady() { u.readyOne.Do(func() { close(u.ready) }) }

func (u *Userlist) startPolling(cancel context.CancelFunc) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.cancel = cancel
}

func (u *Userlist) stopPolling() {
	u.mu.Lock()
	cancel := u.cancel
	u.cancel = nil
	u.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// polled reports whether this instance polls the userlist.
func (u *Userlist) polled() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.cancel != nil
}

// FetchNow asks the poller to fetch at once instead of waiting for the next tick.
func (u *Userlist) FetchNow() {
	select {
	case u.fetchNow <- struct{}{}:
	default:
	}
}
