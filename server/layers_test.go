package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/spencer-signage/signage/server"
)

// clock is a time the test moves, for the quiet hours and the expiry of announcements.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// awaitType reads messages until one of type kind that satisfies ok, failing after timeout;
// it returns it and how long it took.
func awaitType(t *testing.T, conn *websocket.Conn, kind string, timeout time.Duration, ok func(wsMessage) bool) (wsMessage, time.Duration) {
	t.Helper()
	start := time.Now()
	deadline := start.Add(timeout)
	for {
		m := readAnyMessage(t, conn, time.Until(deadline))
		if m.Type == kind && (ok == nil || ok(m)) {
			return m, time.Since(start)
		}
	}
}

// TestAnnouncementsReachScreens: a posted announcement reaches the screens it is for within
// a second (pushed, not polled), a screen that connects later gets it at once, and the
// screens let go of it within a second of its end, deleted or expired.
func TestAnnouncementsReachScreens(t *testing.T) {
	clk := &clock{now: time.Now()}
	e := newEnv(t, time.Minute)
	e.stop()
	e.opts.Now = clk.Now
	e.start()
	lobbyScreen, canteenScreen := e.dial(lobby, ""), e.dial(canteen, "")
	defer lobbyScreen.Close()
	defer canteenScreen.Close()
	readMessage(t, lobbyScreen, 5*time.Second)
	readMessage(t, canteenScreen, 5*time.Second)

	expires := clk.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	resp, body := e.post(`{"title":"Fire drill","text":"Leave by the nearest exit.","severity":"urgent","expires_at":"` + expires + `"}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST: %d %s", resp.StatusCode, body)
	}
	var urgent server.Announcement
	json.Unmarshal([]byte(body), &urgent) //nolint:errcheck
	for name, conn := range map[string]*websocket.Conn{"lobby": lobbyScreen, "canteen": canteenScreen} {
		m, took := awaitType(t, conn, "announcements", 5*time.Second, func(m wsMessage) bool { return strings.Contains(m.HTML, "Fire drill") })
		if took > time.Second {
			t.Errorf("%s: the announcement took %v", name, took)
		}
		if !strings.Contains(m.HTML, "urgent-layer") || !strings.Contains(m.HTML, "Leave by the nearest exit.") {
			t.Errorf("%s: %s", name, m.HTML)
		}
	}

	// For the lobby only: the canteen does not get it.
	resp, body = e.post(`{"text":"Lobby coffee machine out of order.","severity":"info","userlists":["` + lobby + `"],"expires_at":"` + expires + `"}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST: %d %s", resp.StatusCode, body)
	}
	awaitType(t, lobbyScreen, "announcements", 5*time.Second, func(m wsMessage) bool { return strings.Contains(m.HTML, "coffee machine") })
	if _, body := e.get("/screens/" + canteen); strings.Contains(body, "coffee machine") {
		t.Errorf("the canteen's screen shows the lobby's announcement")
	}

	// A screen that connects later gets it with its page and at once.
	_, page := e.get("/screens/" + lobby)
	if !strings.Contains(page, "Fire drill") || !strings.Contains(page, "coffee machine") {
		t.Errorf("the screen page lacks the announcements")
	}
	late := e.dial(lobby, "")
	defer late.Close()
	awaitType(t, late, "announcements", 5*time.Second, func(m wsMessage) bool { return strings.Contains(m.HTML, "Fire drill") })
	// ... unless it shows them already.
	version := between(page, `data-version="`, `"`, strings.Index(page, `id="announcements"`))
	shows := e.dial(lobby, "a="+version)
	defer shows.Close()
	readMessage(t, shows, 5*time.Second)
	shows.SetReadDeadline(time.Now().Add(300 * time.Millisecond)) //nolint:errcheck
	if _, b, err := shows.ReadMessage(); err == nil {
		t.Errorf("a screen that shows the announcements got %s", b)
	}

	// The feed carries them.
	_, feed := e.get("/api/feed.json?userlist=" + canteen)
	if !strings.Contains(feed, `"announcements":[{"id":"`+urgent.ID) || strings.Contains(feed, "coffee machine") {
		t.Errorf("the canteen's feed: %s", feed)
	}

	// Ended by DELETE: the screens let go within a second.
	req, _ := http.NewRequest(http.MethodDelete, e.base+"/admin/announcements/"+urgent.ID, nil)
	if resp, err := http.DefaultTransport.RoundTrip(req); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %v %v", resp, err)
	}
	_, took := awaitType(t, canteenScreen, "announcements", 5*time.Second, func(m wsMessage) bool { return m.HTML == "" })
	if took > time.Second {
		t.Errorf("the end took %v to reach the screen", took)
	}

	// Expired: the lobby's banner goes when the clock passes its end.
	clk.set(clk.Now().Add(2 * time.Hour))
	_, took = awaitType(t, lobbyScreen, "announcements", 5*time.Second, func(m wsMessage) bool { return m.HTML == "" })
	if took > 3*time.Second { // the clock is read every second: a tick, and room for a slow machine
		t.Errorf("the expiry took %v to reach the screen", took)
	}
	if _, list := e.get("/admin/announcements"); strings.TrimSpace(list) != "[]" {
		t.Errorf("after the expiry: %s", list)
	}
}

// between is the text of s between after and before, looking from index from.
func between(s, after, before string, from int) string {
	if from < 0 {
		return ""
	}
	s = s[from:]
	i := strings.Index(s, after)
	if i < 0 {
		return ""
	}
	s = s[i+len(after):]
	j := strings.Index(s, before)
	if j < 0 {
		return ""
	}
	return s[:j]
}

// TestQuietHoursOnScreens: in the quiet hours screens are told to rest and wake at the end,
// driven by the server's clock; one that opted out (?quiet=off) is left alone; a page opened
// in the quiet hours is black from the start; the status page says quiet, not offline.
func TestQuietHoursOnScreens(t *testing.T) {
	clk := &clock{now: time.Date(2026, 12, 1, 18, 59, 58, 0, time.UTC)} // a Tuesday
	e := newEnv(t, time.Minute, func(c *server.Config) {
		c.Screens.QuietHours = []string{"Mon-Fri 19:00-07:00", "Sat-Sun"}
		c.Screens.TimeZone = "UTC"
	})
	e.stop()
	e.opts.Now = clk.Now
	e.start()
	screen, optedOut := e.dial(lobby, ""), e.dial(lobby, "quiet=off")
	defer screen.Close()
	defer optedOut.Close()
	readMessage(t, screen, 5*time.Second)
	readMessage(t, optedOut, 5*time.Second)

	clk.set(time.Date(2026, 12, 1, 19, 0, 1, 0, time.UTC))
	if _, took := awaitType(t, screen, "quiet", 5*time.Second, func(m wsMessage) bool { return m.Quiet }); took > 3*time.Second {
		t.Errorf("the quiet hours took %v to reach the screen", took)
	}
	if _, page := e.get("/screens/" + lobby); !strings.Contains(page, `data-quiet="1"`) {
		t.Errorf("a page opened in the quiet hours is not quiet")
	}
	if _, page := e.get("/screens/" + lobby + "?quiet=off"); strings.Contains(page, `data-quiet="1"`) {
		t.Errorf("a page that opted out is quiet")
	}
	waitFor(t, 5*time.Second, "the status page to say quiet", func() bool {
		_, page := e.get("/admin")
		return strings.Count(page, ">quiet</span>") == 1
	})

	clk.set(time.Date(2026, 12, 2, 7, 0, 1, 0, time.UTC))
	awaitType(t, screen, "quiet", 5*time.Second, func(m wsMessage) bool { return !m.Quiet })
	optedOut.SetReadDeadline(time.Now().Add(300 * time.Millisecond)) //nolint:errcheck
	if _, b, err := optedOut.ReadMessage(); err == nil {
		t.Errorf("the screen that opted out got %s", b)
	}
}

// TestQuietFridayNightOnASaturday: with "Fri 19:00-07:00", a screen opened on Saturday at
// 03:00 (the server's clock) is black; one opened on Friday at 03:00 is not.
func TestQuietFridayNightOnASaturday(t *testing.T) {
	clk := &clock{now: time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC)} // a Saturday
	e := newEnv(t, time.Minute, func(c *server.Config) {
		c.Screens.QuietHours = []string{"Fri 19:00-07:00"}
		c.Screens.TimeZone = "UTC"
	})
	e.stop()
	e.opts.Now = clk.Now
	e.start()
	if _, page := e.get("/screens/" + lobby); !strings.Contains(page, `data-quiet="1"`) {
		t.Errorf("Saturday 03:00, in Friday's night: the screen is not quiet")
	}
	e.stop()
	clk.set(time.Date(2026, 12, 4, 3, 0, 0, 0, time.UTC)) // the Friday before
	e.start()
	if _, page := e.get("/screens/" + lobby); strings.Contains(page, `data-quiet="1"`) {
		t.Errorf("Friday 03:00: the screen is quiet, before Friday's night began")
	}
}
