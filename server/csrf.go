package server

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"slices"
	"sync"
)

// csrfKeyName names the engine's secret that the admin pages' CSRF token is derived from.
const csrfKeyName = "csrf"

// csrfTokens are the tokens an admin action may carry. The cluster's is derived from a
// random key that the engine keeps (in Redis for a cluster, in data_dir for one
// instance), so that a page of one instance works on another (a load balancer without
// sticky sessions) and after a restart. It is a key of its own rather than an HMAC of the
// admin token, because without an admin token (the status page open to this machine only)
// there would be nothing secret to derive it from. Until the key is loaded (Redis does not
// answer yet), the pages carry this process's own token, which stays good here.
type csrfTokens struct {
	mu     sync.RWMutex
	key    []byte // the cluster's key, nil until loaded
	shared string // derived from key
	own    string
}

func (t *csrfTokens) init() {
	b := make([]byte, 16)
	rand.Read(b) //nolint:errcheck // never fails
	t.own = hex.EncodeToString(b)
}

// current is the token a page carries.
func (t *csrfTokens) current() string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.shared != "" {
		return t.shared
	}
	return t.own
}

// valid reports whether tok is the cluster's token or this process's.
func (t *csrfTokens) valid(tok string) bool {
	if tok == "" {
		return false
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	return (t.shared != "" && equal(tok, t.shared)) || equal(tok, t.own)
}

func (t *csrfTokens) knownKey() []byte {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return slices.Clone(t.key)
}

func (t *csrfTokens) setKey(key []byte) {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("spencer-signage admin csrf v1"))
	t.mu.Lock()
	defer t.mu.Unlock()
	t.key, t.shared = key, hex.EncodeToString(mac.Sum(nil))
}

// loadCSRFKey loads the cluster's key, offering the one this instance knows, so that a
// Redis that lost it gets it back rather than a new one that would break open pages.
func (s *Server) loadCSRFKey(ctx context.Context) {
	key, err := s.cluster.Secret(ctx, csrfKeyName, s.csrf.knownKey())
	if err != nil {
		s.log.Warn("the cluster's key of the admin pages is not loaded: this instance's own serves meanwhile", slog.Any("error", err))
		return
	}
	s.csrf.setKey(key)
}
