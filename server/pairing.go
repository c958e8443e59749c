package server

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spencer-signage/signage/server/news"
)

// pairingAlphabet is what a pairing code is written with: capitals and digits without 0,
// O, 1, I and L, which a TV's font and the operator's eye confuse. Six of them make 887
// million codes, of which a thousand at most are waiting at once, and a client may try ten
// a minute.
const pairingAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

const codeLength = 6

// The waiting kiosks are a shared map of the engine, by code, each entry with the code's
// lifetime as its TTL, so that any instance can pair a kiosk that waits on another.
const (
	pairingMap            = "pairing"
	defaultCodeTTL        = 15 * time.Minute
	maxWaiting            = 1000 // kiosks waiting at once, in the cluster
	maxWaitingPerAddress  = 50   // of them from one address: a site sets up its TVs, a client cannot fill the map
	waitingRefreshEvery   = 30 * time.Second
	waitingRefreshTimeout = 5 * time.Second
)

// newPairingCode draws a code from crypto/rand, each character uniform over the alphabet
// (bytes of 248 and above are drawn again: 248 is the largest multiple of 31 in a byte).
func newPairingCode() string {
	out := make([]byte, 0, codeLength)
	buf := make([]byte, 16)
	for len(out) < codeLength {
		rand.Read(buf) //nolint:errcheck // never fails
		for _, b := range buf {
			if b < 248 && len(out) < codeLength {
				out = append(out, pairingAlphabet[int(b)%len(pairingAlphabet)])
			}
		}
	}
	return string(out)
}

// normalizeCode reads a code as an operator types it: in any case, with or without the
// grouping space (K7M 3Q9) or a dash. It is "" when what is left is not a code.
func normalizeCode(s string) string {
	s = strings.ToUpper(strings.NewReplacer(" ", "", "-", "", "\u00a0", "").Replace(strings.TrimSpace(s)))
	if len(s) != codeLength {
		return ""
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(pairingAlphabet, s[i]) < 0 {
			return ""
		}
	}
	return s
}

// waitingKiosk is a kiosk that shows the pairing view: its code, and what the operator
// sees of it before pairing it.
type waitingKiosk struct {
	Code      string    `json:"code"`
	Device    string    `json:"device"` // deviceKey of its id
	SeenAt    time.Time `json:"seen_at"`
	UserAgent string    `json:"user_agent"`
	Address   string    `json:"address"`
	Viewport  string    `json:"viewport,omitempty"`
	ExpiresAt time.Time `json:"expires_at"`
}

// errTooManyWaiting is issueCode's answer when the map of waiting kiosks is full, for
// everyone or for the client's address.
var errTooManyWaiting = errors.New("too many screens are waiting to be paired")

// pairing is the server's side of the waiting kiosks: how long a code lasts, and a guard
// against two refreshes at once.
type pairing struct {
	ttl        time.Duration
	refreshing atomic.Bool
	refreshed  time.Time // by the tick only
}

// renewMargin is how long before its end a code is replaced: the view shows the new one
// while the old one still pairs, so that a code typed just as it changes still works.
func (p *pairing) renewMargin() time.Duration { return p.ttl / 15 }

// waitingKiosks is the map of waiting kiosks, by code.
func (s *Server) waitingKiosks(ctx context.Context) (map[string]waitingKiosk, error) {
	all, err := s.cluster.MapAll(ctx, pairingMap)
	if err != nil {
		return nil, err
	}
	out := make(map[string]waitingKiosk, len(all))
	for code, v := range all {
		var w waitingKiosk
		if json.Unmarshal(v, &w) == nil && w.Code == code {
			out[code] = w
		}
	}
	return out, nil
}

// putWaiting writes w for the rest of its code's life.
func (s *Server) putWaiting(ctx context.Context, w waitingKiosk, limit int) error {
	left := time.Until(w.ExpiresAt)
	if left <= 0 {
		return nil
	}
	v, err := json.Marshal(w)
	if err != nil {
		return err
	}
	return s.cluster.MapSet(ctx, pairingMap, w.Code, v, news.MapOptions{TTL: left, Limit: limit})
}

// codeFor is the code device waits with: the one it has while that lasts longer than two
// renewal margins, else a new one. seen is what the request says of the kiosk.
func (s *Server) codeFor(ctx context.Context, device string, seen waitingKiosk) (waitingKiosk, error) {
	all, err := s.waitingKiosks(ctx)
	if err != nil {
		return waitingKiosk{}, err
	}
	now := time.Now()
	var best *waitingKiosk
	fromAddr := 0
	for _, w := range all {
		if w.Address == seen.Address {
			fromAddr++
		}
		if w.Device == device && (best == nil || w.ExpiresAt.After(best.ExpiresAt)) {
			best = &w
		}
	}
	if best != nil && best.ExpiresAt.Sub(now) > 2*s.pairing.renewMargin() {
		w := *best
		if seen.Viewport == "" {
			seen.Viewport = w.Viewport
		}
		if now.Sub(w.SeenAt) < waitingRefreshEvery/2 && seen.UserAgent == w.UserAgent && seen.Address == w.Address && seen.Viewport == w.Viewport {
			return w, nil // nothing new to say of it: no write (a file's fsync, or a Redis round trip and a message to every instance)
		}
		w.SeenAt, w.UserAgent, w.Address, w.Viewport = now, seen.UserAgent, seen.Address, seen.Viewport
		return w, s.putWaiting(ctx, w, 0)
	}
	if fromAddr >= maxWaitingPerAddress {
		return waitingKiosk{}, errTooManyWaiting
	}
	w := seen
	w.Device, w.SeenAt, w.ExpiresAt = device, now, now.Add(s.pairing.ttl)
	for {
		// A code is drawn again rather than given twice: the map holds a thousand at most
		// of 887 million, so this loops once in a million draws. Two instances drawing the
		// same code at the same instant is rarer still, and costs one kiosk a new code.
		if w.Code = newPairingCode(); all[w.Code].Code == "" {
			break
		}
	}
	if err := s.putWaiting(ctx, w, maxWaiting); errors.Is(err, news.ErrMapFull) {
		return waitingKiosk{}, errTooManyWaiting
	} else if err != nil {
		return waitingKiosk{}, err
	}
	s.log.Info("pairing code issued", slog.String("code", w.Code), slog.String("address", w.Address),
		slog.Time("expires_at", w.ExpiresAt))
	return w, nil
}

// waitingError is the answer of a kiosk's page that could not get a code: it tries again
// by itself.
func waitingError(err error) error {
	if errors.Is(err, errTooManyWaiting) {
		return &httpError{status: http.StatusTooManyRequests, retryAfter: 60,
			message: "Too many screens are waiting to be paired. This page tries again by itself in a minute; pair or switch off the others."}
	}
	return &httpError{status: http.StatusServiceUnavailable, retryAfter: 15,
		message: "The server cannot give this screen a pairing code right now. This page tries again by itself."}
}

// refreshWaiting writes what this instance's waiting kiosks said lately (their heartbeats,
// their viewport) into their entries, so that /admin on any instance sees when each was
// last heard of. One read of the map, and a write per kiosk that has news.
func (s *Server) refreshWaiting() {
	local := s.waiting.List()
	if len(local) == 0 || !s.pairing.refreshing.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer s.pairing.refreshing.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), waitingRefreshTimeout)
		defer cancel()
		all, err := s.waitingKiosks(ctx)
		if err != nil {
			return
		}
		byDevice := map[string]waitingKiosk{}
		for _, w := range all {
			if w.ExpiresAt.After(byDevice[w.Device].ExpiresAt) {
				byDevice[w.Device] = w
			}
		}
		for _, info := range local {
			w, ok := byDevice[info.UserlistID] // a waiting kiosk's roster is its device
			if !ok {
				continue
			}
			seen := info.LastHeartbeat
			if seen.IsZero() {
				seen = info.ConnectedAt
			}
			if seen.Sub(w.SeenAt) < waitingRefreshEvery/2 && (info.Viewport == "" || info.Viewport == w.Viewport) {
				continue
			}
			w.SeenAt = seen
			if info.Viewport != "" {
				w.Viewport = info.Viewport
			}
			s.putWaiting(ctx, w, 0) //nolint:errcheck // tried again at the next refresh
		}
	}()
}

// restoreWaiting puts this instance's waiting kiosks back in the map after Redis lost it,
// each with its code (the one its page shows) for a whole lifetime again.
func (s *Server) restoreWaiting(ctx context.Context) int {
	n := 0
	for _, info := range s.waiting.List() {
		if normalizeCode(info.Version) == "" {
			continue
		}
		now := time.Now()
		w := waitingKiosk{Code: info.Version, Device: info.UserlistID, SeenAt: now, UserAgent: info.UserAgent,
			Address: info.Addr, Viewport: info.Viewport, ExpiresAt: now.Add(s.pairing.ttl)}
		if s.putWaiting(ctx, w, 0) == nil {
			n++
		}
	}
	return n
}
