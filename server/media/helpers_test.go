package media_test

import (
	"testing"
	"time"

	"github.com/spencer-signage/signage/server/media"
	"github.com/spencer-signage/signage/server/media/mediatest"
)

func newHost(t *testing.T) *mediatest.Host {
	t.Helper()
	h := mediatest.NewHost()
	t.Cleanup(h.Close)
	return h
}

// open opens and starts a library with the product's limits and hosts allowed; mod may
// change its config first.
func open(t *testing.T, mod func(*media.Config), allowed ...*mediatest.Host) *media.Library {
	t.Helper()
	cfg := media.Config{
		MaxBytes:   20 << 20,
		MaxPixels:  50_000_000,
		CacheBytes: 2048 << 20,
		Timeout:    5 * time.Second,
	}
	for _, h := range allowed {
		cfg.AllowedHosts = append(cfg.AllowedHosts, h.Addr())
	}
	if mod != nil {
		mod(&cfg)
	}
	l, err := media.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l.Start()
	t.Cleanup(l.Close)
	return l
}

// settled waits until the library has answered for url, one way or the other.
func settled(t *testing.T, l *media.Library, userlist, url string) (media.Picture, bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		p, ok := l.Image(userlist, "item", url)
		if ok || l.Failures()[userlist].Count > 0 {
			return p, ok
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answer for %s", url)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
