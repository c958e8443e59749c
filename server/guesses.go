package server

import (
	"net/netip"
	"sync"
	"time"
)

// Wrong admin tokens a client may send in a guessWindow before it must wait for the
// window's end. An operator who mistypes is not held up; someone who tries tokens one
// after another gets ten a minute, where 676 tries found a two-letter token in 3.9 s.
const (
	maxGuesses      = 10
	guessWindow     = time.Minute
	maxGuessClients = 10000 // clients tracked at once; see guesses.fail
)

// guesses counts the wrong admin tokens of each client, so that the token cannot be found
// by trying. Only this client waits: the right token from anyone else still opens /admin.
type guesses struct {
	now func() time.Time

	mu      sync.Mutex
	clients map[netip.Prefix]*guessCount
}

type guessCount struct {
	started time.Time
	wrong   int
}

func newGuesses(now func() time.Time) *guesses {
	return &guesses{now: now, clients: map[netip.Prefix]*guessCount{}}
}

// clientKey is whom the count is kept for: an IPv4 address, or the /64 of an IPv6 one,
// since one subscriber is given a whole /64 and could otherwise try from each address of it.
func clientKey(addr string) netip.Prefix {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return netip.Prefix{}
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.WithZone("").Prefix(64)
		return p
	}
	return netip.PrefixFrom(a, 32)
}

// wait is how long the client at addr must wait before it may try a token again; 0: it
// may now.
func (g *guesses) wait(addr string) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	w := g.clients[clientKey(addr)]
	if w == nil || w.wrong < maxGuesses {
		return 0
	}
	if left := w.started.Add(guessWindow).Sub(g.now()); left > 0 {
		return left
	}
	return 0
}

// fail counts a wrong token from addr and reports whether this one used up its tries.
// When the table is full of clients that all failed within the window, a new one is not
// counted: a wrong guess from it is still refused, and nobody is locked out for the
// others' doing.
func (g *guesses) fail(addr string) (throttled bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now, key := g.now(), clientKey(addr)
	w := g.clients[key]
	if w != nil && now.Sub(w.started) >= guessWindow {
		w = nil // a new window
	}
	if w == nil {
		if len(g.clients) >= maxGuessClients {
			for k, old := range g.clients {
				if now.Sub(old.started) >= guessWindow {
					delete(g.clients, k)
				}
			}
			if len(g.clients) >= maxGuessClients {
				return false
			}
		}
		w = &guessCount{started: now}
		g.clients[key] = w
	}
	w.wrong++
	return w.wrong == maxGuesses
}

// forget clears a client's count after it sent the right token.
func (g *guesses) forget(addr string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.clients, clientKey(addr))
}
