package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spencer-signage/signage/server/news/redistest"
	"github.com/spencer-signage/signage/spencerclient/spencertest"
)

// TestPairingAcrossInstances: two instances on one real Redis. A kiosk waits on instance A
// and is paired on instance B: A's WebSocket tells it to reload within a second, and /s on
// either instance is now its screen. A PATCH, an Identify and a DELETE made on B reach it
// on A within a second. Redis restarting empty loses no managed screen: the instances put
// back what they know.
func TestPairingAcrossInstances(t *testing.T) {
	redistest.Require(t)
	rs, err := redistest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rs.Stop)
	fake := spencertest.NewServer()
	t.Cleanup(fake.Close)
	fake.SetPublications(lobby, []map[string]any{{"id": "l1", "title": "Town hall on Friday", "publishedAt": "2026-11-20T09:00:00Z"}})
	kind := clusterKinds[1]
	a := startNode(t, kind, rs.URL(0), t.TempDir(), fake)
	b := startNode(t, kind, rs.URL(0), t.TempDir(), fake)
	waitFor(t, 10*time.Second, "both instances ready", func() bool {
		for _, n := range []*node{a, b} {
			if resp, err := http.Get(n.base + "/readyz"); err != nil || resp.Body.Close() != nil || resp.StatusCode != http.StatusOK {
				return false
			}
		}
		return true
	})

	k := newKiosk(t, a.base)
	p := k.open("/s")
	ws := k.dial("/s/ws", p)
	// The waiting kiosk is listed on B too.
	waitFor(t, 5*time.Second, "the waiting kiosk listed on B", func() bool { return len(listScreens(t, b.base).Waiting) == 1 })
	posted := time.Now()
	m := pairKiosk(t, b.base, strings.ToLower(p.code()), "Lobby TV")
	waitType(t, ws, "reload", time.Second)
	t.Logf("A's kiosk was told to reload %v after B took the POST", time.Since(posted).Round(time.Millisecond))
	for name, base := range map[string]string{"A": a.base, "B": b.base} {
		if p := k.on(base).open("/s"); p.headline() != "Town hall on Friday" {
			t.Errorf("/s on %s after the pairing: %q", name, p.headline())
		}
	}

	p = k.open("/s")
	ws = k.dial("/s/ws", p)
	waitFor(t, 5*time.Second, "the screen on A's hub", func() bool {
		for _, sc := range a.srv.Hub().List() {
			if sc.Managed == m.ID {
				return true
			}
		}
		return false
	})
	if status, body := adminRequest(t, b.base, "", http.MethodPost, "/admin/screens/"+m.ID+"/identify", ""); status != http.StatusOK {
		t.Fatalf("identify on B: %d %s", status, body)
	}
	if id := waitType(t, ws, "identify", time.Second); !strings.Contains(id.raw, "Lobby TV") {
		t.Errorf("identify: %s", id.raw)
	}
	patched := time.Now()
	if status, body := adminRequest(t, b.base, "", http.MethodPatch, "/admin/screens/"+m.ID, `{"theme":"light"}`); status != http.StatusOK {
		t.Fatalf("PATCH on B: %d %s", status, body)
	}
	waitType(t, ws, "reload", time.Second)
	t.Logf("A's kiosk was told to reload %v after B took the PATCH", time.Since(patched).Round(time.Millisecond))
	if p := k.open("/s"); !strings.Contains(p.doc.Find("html").AttrOr("class", ""), "theme-light") {
		t.Errorf("after the PATCH on B, A's page is %q", p.doc.Find("html").AttrOr("class", ""))
	}

	// Redis restarts empty: the managed screen is put back.
	if err := rs.Restart(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the managed screen back in Redis", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		all, err := a.engine.MapAll(ctx, "screens")
		return err == nil && all[m.ID] != nil
	})
	if p := k.on(b.base).open("/s"); p.headline() != "Town hall on Friday" {
		t.Errorf("/s on B after Redis restarted: %q", p.headline())
	}
	// Once both hear again (a change on B reaches A), a DELETE on B reaches A's kiosk.
	waitFor(t, 20*time.Second, "a change on B heard on A", func() bool {
		adminRequest(t, b.base, "", http.MethodPatch, "/admin/screens/"+m.ID, `{"name":"Lobby TV north"}`)
		return strings.Contains(listScreensBody(t, a.base), "Lobby TV north")
	})

	p = k.open("/s")
	ws = k.dial("/s/ws", p)
	waitFor(t, 5*time.Second, "the screen on A's hub again", func() bool {
		for _, sc := range a.srv.Hub().List() {
			if sc.Managed == m.ID {
				return true
			}
		}
		return false
	})
	deleted := time.Now()
	if status, body := adminRequest(t, b.base, "", http.MethodDelete, "/admin/screens/"+m.ID, ""); status != http.StatusNoContent {
		t.Fatalf("DELETE on B: %d %s", status, body)
	}
	waitType(t, ws, "reload", time.Second)
	t.Logf("A's kiosk was told to reload %v after B took the DELETE", time.Since(deleted).Round(time.Millisecond))
	if p := k.open("/s"); !codePattern.MatchString(p.code()) {
		t.Errorf("after the DELETE on B, A's /s shows no code")
	}
}

func listScreensBody(t *testing.T, base string) string {
	t.Helper()
	_, body := adminRequest(t, base, "", http.MethodGet, "/admin/screens", "")
	return body
}
