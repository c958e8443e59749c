package server

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Userlist is one Spencer userlist the server keeps fresh: its current Content and the
// state of its polling. The poller goroutine of the userlist is its only writer.
type Userlist struct {
	ID         string
	Name       string
	Configured bool

	content  atomic.Pointer[Content]
	ready    chan struct{} // closed once there is something to show or the first fetch ended
	readyOne sync.Once
	fetchNow chan struct{}
	cancel   context.CancelFunc
	done     chan struct{}

	mu     sync.Mutex
	status UserlistStatus
}

// UserlistStatus is the polling state of a userlist, for /admin and /readyz.
type UserlistStatus struct {
	LastFetch   time.Time // last attempt
	LastSuccess time.Time // last answer with publications
	NextFetch   time.Time
	LastError   string
	Failures    int // consecutive
	StaleSince  time.Time
	Unknown     bool // upstream answered 404 or 403
	Fetches     int64
}

func newUserlist(id, name string, configured bool) *Userlist {
	return &Userlist{
		ID:         id,
		Name:       name,
		Configured: configured,
		ready:      make(chan struct{}),
		fetchNow:   make(chan struct{}, 1),
		done:       make(chan struct{}),
	}
}

// Content is what the userlist shows now, or nil before anything was fetched or loaded.
func (u *Userlist) Content() *Content { return u.content.Load() }

// Status is a copy of the polling state.
func (u *Userlist) Status() UserlistStatus {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.status
}

// Ready is closed once the userlist has content or its first fetch ended.
func (u *Userlist) Ready() <-chan struct{} { return u.ready }

func (u *Userlist) markReady() { u.readyOne.Do(func() { close(u.ready) }) }

// FetchNow asks the poller to fetch at once instead of waiting for the next tick.
func (u *Userlist) FetchNow() {
	select {
	case u.fetchNow <- struct{}{}:
	default:
	}
}
