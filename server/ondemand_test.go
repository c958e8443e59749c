package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spencer-signage/signage/server"
)

// TestOnDemandUserlistsAreCapped: beyond screens.max_on_demand_userlists a new on-demand
// userlist is refused (503, try again later: a kiosk page reloads by itself) and costs no
// upstream request; configured ones are never refused; a slot frees when one goes idle.
func TestOnDemandUserlistsAreCapped(t *testing.T) {
	e := newEnv(t, 100*time.Millisecond, func(c *server.Config) {
		c.Screens.MaxOnDemand = 3
		c.Screens.IdleAfter = server.Duration{Duration: 2 * time.Second} // longer than the three first reads take
	})
	ids := make([]string, 4)
	for i := range ids {
		ids[i] = fmt.Sprintf("7a7a7a7a-0000-4000-8000-%012d", i)
		e.fake.SetPublications(ids[i], []map[string]any{{"id": "x", "title": "News " + fmt.Sprint(i)}})
	}
	for _, id := range ids[:3] {
		if resp, _ := e.get("/api/feed.json?userlist=" + id); resp.StatusCode != http.StatusOK {
			t.Fatalf("on-demand userlist %s: %d", id, resp.StatusCode)
		}
	}
	resp, body := e.get("/api/feed.json?userlist=" + ids[3])
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, `"error"`) {
		t.Errorf("the fourth on the API: %d, Retry-After %q, %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	resp, _ = e.get("/screens/" + ids[3])
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Refresh") == "" {
		t.Errorf("the fourth's screen: %d, Refresh %q", resp.StatusCode, resp.Header.Get("Refresh"))
	}
	if n := e.fake.PublicationRequestsFor(ids[3]); n != 0 {
		t.Errorf("upstream asked %d times for a refused userlist", n)
	}
	if resp, _ := e.get("/screens/" + canteen); resp.StatusCode != http.StatusOK {
		t.Errorf("a configured userlist: %d", resp.StatusCode)
	}
	// Nobody reads the three: they go idle and make room.
	waitFor(t, 10*time.Second, "the on-demand userlists to go idle", func() bool { return e.srv.News().Get(ids[0]) == nil })
	if resp, _ := e.get("/api/feed.json?userlist=" + ids[3]); resp.StatusCode != http.StatusOK {
		t.Errorf("the fourth once the others went idle: %d", resp.StatusCode)
	}
}

// TestUnknownUserlistIsRemembered: a userlist Spencer does not know is asked once; after
// it went idle, readers still get the answer without a new upstream request.
func TestUnknownUserlistIsRemembered(t *testing.T) {
	e := newEnv(t, 100*time.Millisecond, func(c *server.Config) { c.Screens.IdleAfter = server.Duration{Duration: 300 * time.Millisecond} })
	const stranger = "8b8b8b8b-0000-4000-8000-000000000001"
	if resp, _ := e.get("/api/feed.json?userlist=" + stranger); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown userlist: %d", resp.StatusCode)
	}
	waitFor(t, 10*time.Second, "the unknown userlist to go idle", func() bool { return e.srv.News().Get(stranger) == nil })
	for range 20 {
		if resp, _ := e.get("/api/feed.json?userlist=" + stranger); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("unknown userlist, asked again: %d", resp.StatusCode)
		}
		if resp, body := e.get("/screens/" + stranger); resp.StatusCode != http.StatusOK || !strings.Contains(body, `data-state="unknown"`) {
			t.Fatalf("its screen: %d", resp.StatusCode)
		}
	}
	if n := e.fake.PublicationRequestsFor(stranger); n != 1 {
		t.Errorf("upstream asked %d times, want 1", n)
	}
}

// TestStartPageListsConfiguredUserlistsOnly: ids seen on demand (anyone can make the
// server see any UUID) do not grow the start page; with access keys on it lists none.
func TestStartPageListsConfiguredUserlistsOnly(t *testing.T) {
	e := newEnv(t, time.Minute)
	_, before := e.get("/")
	for i := range 40 {
		e.get(fmt.Sprintf("/api/feed.json?userlist=9c9c9c9c-0000-4000-8000-%012d", i))
	}
	_, after := e.get("/")
	if strings.Contains(after, "9c9c9c9c-") || len(after) != len(before) {
		t.Errorf("the start page grew from %d to %d bytes with ids seen on demand", len(before), len(after))
	}
	if !strings.Contains(after, lobby) || !strings.Contains(after, canteen) {
		t.Errorf("the start page lacks the configured userlists")
	}
	keyed := newEnv(t, time.Minute, func(c *server.Config) { c.Server.AccessKeys = []string{testKey} })
	if _, body := keyed.get("/"); strings.Contains(body, lobby) || strings.Contains(body, canteen) {
		t.Errorf("with access keys the start page lists userlists")
	}
}

// TestScreenOfUnknownUserlistHearsWhenItExists: a screen left on a userlist Spencer did not
// know (set up before the userlist was created) shows the news once it exists, the
// userlist being asked again only slowly.
func TestScreenOfUnknownUserlistHearsWhenItExists(t *testing.T) {
	e := newEnv(t, 100*time.Millisecond, func(c *server.Config) { c.Screens.IdleAfter = server.Duration{Duration: 300 * time.Millisecond} })
	const later = "8b8b8b8b-0000-4000-8000-000000000002"
	if resp, _ := e.get("/api/feed.json?userlist=" + later); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown userlist: %d", resp.StatusCode)
	}
	conn := e.dial(later, "")
	defer conn.Close()
	first := readMessage(t, conn, 5*time.Second)
	if m := first; m.Type != "deck" || !strings.Contains(m.HTML, "state-unknown") {
		t.Fatalf("first message: %s %q", m.Type, m.HTML)
	}
	ul := e.srv.News().Get(later)
	if ul == nil {
		t.Fatal("the userlist a screen watches is not polled")
	}
	e.fake.SetPublications(later, []map[string]any{{"id": "n", "title": "Now it exists"}})
	ul.FetchNow() // instead of waiting the slow retry of an unknown userlist
	if m := readMessage(t, conn, 5*time.Second); m.Type != "deck" || !strings.Contains(m.HTML, "Now it exists") {
		t.Errorf("after the userlist was created: %s %s %q (first %s)", m.Type, m.Version, m.HTML, first.Version)
	}
}
