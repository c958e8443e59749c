package server_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/spencer-signage/signage/server"
	"github.com/spencer-signage/signage/spencerclient/spencertest"
)

// webhook records the alerts it takes; it refuses the first attempt to prove retries.
type webhook struct {
	mu       sync.Mutex
	attempts int
	alerts   []server.Alert
}

func (w *webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.attempts++
	if w.attempts == 1 {
		rw.WriteHeader(http.StatusBadGateway)
		return
	}
	var a server.Alert
	if err := json.NewDecoder(r.Body).Decode(&a); err != nil {
		rw.WriteHeader(http.StatusBadRequest)
		return
	}
	w.alerts = append(w.alerts, a)
}

func (w *webhook) events() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, a := range w.alerts {
		out = append(out, a.Event)
	}
	return out
}

// TestAlerts: one message per outage and one per recovery, for a screen that goes away
// and comes back and for Spencer failing and answering again; a webhook that fails once
// gets the message again.
func TestAlerts(t *testing.T) {
	hook := &webhook{}
	hs := httptest.NewServer(hook)
	defer hs.Close()
	const beat = 200 * time.Millisecond
	e := newEnv(t, 100*time.Millisecond, func(c *server.Config) {
		c.Alerts.WebhookURL = hs.URL
		c.Alerts.ScreenOfflineAfter = server.Duration{Duration: 600 * time.Millisecond}
		c.Alerts.UpstreamFailingAfter = server.Duration{Duration: 600 * time.Millisecond}
	})
	e.stop()
	e.opts.HeartbeatInterval = beat
	e.opts.AlertCheckInterval = 50 * time.Millisecond
	e.start()

	connect := func() (*websocket.Conn, chan struct{}) {
		c := e.dial(lobby, "sid=0a1b2c3d-0000-4000-8000-00000000f001")
		stop := make(chan struct{})
		go func() {
			tk := time.NewTicker(beat / 2)
			defer tk.Stop()
			for {
				c.WriteJSON(map[string]string{"type": "heartbeat", "viewport": "1920x1080"}) //nolint:errcheck
				select {
				case <-stop:
					return
				case <-tk.C:
				}
			}
		}()
		return c, stop
	}
	c, stop := connect()
	waitFor(t, 5*time.Second, "the screen online", func() bool {
		st := e.status()
		return len(st.Screens) == 1 && st.Screens[0].Online
	})
	// checksPass waits until the alerter has checked n more times: what it saw by then,
	// it has acted on.
	checksPass := func(n int64, what string) {
		t.Helper()
		target := e.srv.AlertChecks() + n
		waitFor(t, 10*time.Second, what, func() bool { return e.srv.AlertChecks() >= target })
	}
	checksPass(2, "the alerter to see the screen online")
	close(stop)
	c.Close()
	waitFor(t, 10*time.Second, "screen_offline", func() bool { return strings.Join(hook.events(), ",") == "screen_offline" })
	checksPass(20, "a second of checks") // no storm: nothing more while it stays away
	if got := hook.events(); len(got) != 1 {
		t.Fatalf("alerts while the screen stays away: %v", got)
	}
	c, stop = connect()
	defer func() { close(stop); c.Close() }()
	waitFor(t, 10*time.Second, "screen_recovered", func() bool { return strings.Join(hook.events(), ",") == "screen_offline,screen_recovered" })

	e.fake.SetFault(spencertest.Fault{Status: 503})
	waitFor(t, 10*time.Second, "upstream_failing", func() bool { return len(hook.events()) == 3 })
	checksPass(20, "a second of checks during the outage")
	if got := hook.events(); len(got) != 3 || got[2] != "upstream_failing" {
		t.Fatalf("alerts during the outage: %v, want one upstream_failing for both userlists", got)
	}
	e.fake.SetFault(spencertest.Fault{})
	waitFor(t, 10*time.Second, "upstream_recovered", func() bool { return len(hook.events()) == 4 })
	checksPass(10, "checks after the recovery")
	got := hook.events()
	want := "screen_offline,screen_recovered,upstream_failing,upstream_recovered"
	if strings.Join(got, ",") != want {
		t.Errorf("alerts = %v, want %s", got, want)
	}
	hook.mu.Lock()
	defer hook.mu.Unlock()
	if hook.attempts != 5 {
		t.Errorf("webhook attempts = %d, want 5 (the first refused and retried)", hook.attempts)
	}
	if a := hook.alerts[2]; !strings.Contains(a.Userlist, lobby) || !strings.Contains(a.Userlist, canteen) || a.Text == "" {
		t.Errorf("upstream alert = %+v", a)
	}
}

// TestAlertWebhookURLStaysSecret: a webhook URL carries its secret (Slack, Teams); a post
// that fails is logged with its cause, never with the URL.
func TestAlertWebhookURLStaysSecret(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close() // nothing listens there now: every post is refused
	const secret = "T000-B000-hook-secret-4711"
	e := newEnv(t, 100*time.Millisecond, func(c *server.Config) {
		c.Alerts.WebhookURL = "http://" + dead + "/services/" + secret
		c.Alerts.UpstreamFailingAfter = server.Duration{Duration: 200 * time.Millisecond}
	})
	e.stop()
	e.opts.AlertCheckInterval = 50 * time.Millisecond
	e.start()
	e.fake.SetFault(spencertest.Fault{Status: 503})
	waitFor(t, 10*time.Second, "a failed delivery", func() bool { return strings.Contains(e.logs.String(), "alert not delivered") })
	if logs := e.logs.String(); strings.Contains(logs, secret) {
		t.Errorf("the webhook URL is in the logs:\n%s", logs)
	}
}

// TestAlertsFromHostileClients: what a client sends (its User-Agent, a made-up screen id)
// never reaches the webhook as markup, and screens that a client opened and dropped by
// the hundred cannot stop the alerts of a real screen.
func TestAlertsFromHostileClients(t *testing.T) {
	hook := &webhook{attempts: 1} // accept at once
	hs := httptest.NewServer(hook)
	defer hs.Close()
	const beat = 200 * time.Millisecond
	e := newEnv(t, time.Minute, func(c *server.Config) {
		c.Alerts.WebhookURL = hs.URL
		c.Alerts.ScreenOfflineAfter = server.Duration{Duration: 500 * time.Millisecond}
	})
	e.stop()
	e.opts.HeartbeatInterval = beat
	e.opts.AlertCheckInterval = 50 * time.Millisecond
	e.start()
	e.srv.LimitAlertTracking(5)
	checksPass := func(n int64) {
		t.Helper()
		target := e.srv.AlertChecks() + n
		waitFor(t, 10*time.Second, "alert checks", func() bool { return e.srv.AlertChecks() >= target })
	}
	const hostileUA = "<!channel> <https://evil.example.com|Click to fix the screen> &amp; Chrome/130"
	screen := func(sid string) func() {
		u := "ws" + strings.TrimPrefix(e.base, "http") + "/screens/" + lobby + "/ws?sid=" + url.QueryEscape(sid)
		c, _, err := websocket.DefaultDialer.Dial(u, http.Header{"User-Agent": {hostileUA}})
		if err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			tk := time.NewTicker(beat / 2)
			defer tk.Stop()
			for {
				c.WriteJSON(map[string]string{"type": "heartbeat"}) //nolint:errcheck
				select {
				case <-stop:
					c.Close()
					return
				case <-tk.C:
				}
			}
		}()
		return func() { close(stop); <-done }
	}
	// Junk: eight screens with made-up ids (well-formed ones, and one that is markup),
	// seen online, then gone.
	junk := []func(){screen("junk-<!here>")}
	for i := range 8 {
		junk = append(junk, screen(fmt.Sprintf("00000000-0000-4000-8000-%012d", i)))
	}
	checksPass(3)
	for _, stop := range junk {
		stop()
	}
	waitFor(t, 10*time.Second, "the junk offline", func() bool { return len(hook.events()) >= 1 })
	checksPass(5)
	// The real screen, with a proper id, comes after them and goes away.
	stop := screen("5f0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3f")
	checksPass(3)
	stop()
	waitFor(t, 10*time.Second, "the real screen's alert", func() bool {
		hook.mu.Lock()
		defer hook.mu.Unlock()
		for _, a := range hook.alerts {
			if a.Screen == "5f0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3f" && a.Event == "screen_offline" {
				return true
			}
		}
		return false
	})
	hook.mu.Lock()
	defer hook.mu.Unlock()
	for _, a := range hook.alerts {
		b, _ := json.Marshal(a)
		if strings.ContainsAny(a.Text, "<>") || strings.Contains(a.Text, "evil.example.com") || strings.Contains(string(b), "junk") || strings.Contains(string(b), "here") {
			t.Errorf("alert carries what a client sent: %s", b)
		}
		if a.Screen != "" && !server.IsUUID(a.Screen) {
			t.Errorf("alert names screen %q", a.Screen)
		}
	}
}

// TestNoOfflineAlertsInQuietHours: a screen that goes dark in its quiet hours (the TV's eco
// mode switched it off) is not reported offline; if it is still away once they end, it is.
func TestNoOfflineAlertsInQuietHours(t *testing.T) {
	hook := &webhook{attempts: 1}
	hs := httptest.NewServer(hook)
	defer hs.Close()
	clk := &clock{now: time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC)}
	const beat = 200 * time.Millisecond
	e := newEnv(t, time.Minute, func(c *server.Config) {
		c.Alerts.WebhookURL = hs.URL
		c.Alerts.ScreenOfflineAfter = server.Duration{Duration: 500 * time.Millisecond}
		c.Screens.QuietHours = []string{"19:00-07:00"}
		c.Screens.TimeZone = "UTC"
	})
	e.stop()
	e.opts.HeartbeatInterval, e.opts.AlertCheckInterval, e.opts.Now = beat, 50*time.Millisecond, clk.Now
	e.start()
	checksPass := func(n int64) {
		t.Helper()
		target := e.srv.AlertChecks() + n
		waitFor(t, 10*time.Second, "alert checks", func() bool { return e.srv.AlertChecks() >= target })
	}
	c := e.dial(lobby, "sid=0a1b2c3d-0000-4000-8000-00000000f0f0")
	c.WriteJSON(map[string]string{"type": "heartbeat"}) //nolint:errcheck
	waitFor(t, 5*time.Second, "the screen online", func() bool {
		st := e.status()
		return len(st.Screens) == 1 && st.Screens[0].Online
	})
	checksPass(3)
	c.Close()
	checksPass(40) // two seconds, four times the offline threshold
	if got := hook.events(); len(got) != 0 {
		t.Fatalf("alerts in the quiet hours: %v", got)
	}
	clk.set(time.Date(2026, 12, 2, 7, 30, 0, 0, time.UTC))
	waitFor(t, 10*time.Second, "screen_offline after the quiet hours", func() bool { return strings.Join(hook.events(), ",") == "screen_offline" })
}

// receiver is a webhook that answers each alert as its text asks: "refuse" gets 400,
// "busy" 429 with Retry-After: 2 the first time, "hang" is held until the test lets go;
// every other alert is taken, unless the receiver is down (503).
type receiver struct {
	mu       sync.Mutex
	down     bool
	attempts map[string][]time.Time // by the announcement's text
	taken    []string
	holding  chan struct{} // a "hang" request arrived
	release  chan struct{}
	gone     chan struct{} // the "hang" request was cancelled by its sender
}

func newReceiver() *receiver {
	return &receiver{attempts: map[string][]time.Time{}, holding: make(chan struct{}, 1), release: make(chan struct{}), gone: make(chan struct{}, 1)}
}

// announced is the text of the announcement an alert is about ("" for other alerts).
func announced(a server.Alert) string {
	_, after, _ := strings.Cut(a.Text, "): ")
	return after
}

func (rv *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var a server.Alert
	if err := json.NewDecoder(r.Body).Decode(&a); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	text := announced(a)
	rv.mu.Lock()
	rv.attempts[text] = append(rv.attempts[text], time.Now())
	n, down := len(rv.attempts[text]), rv.down
	rv.mu.Unlock()
	switch {
	case strings.Contains(text, "refuse"):
		w.WriteHeader(http.StatusBadRequest)
		return
	case strings.Contains(text, "busy") && n == 1:
		w.Header().Set("Retry-After", "2")
		w.WriteHeader(http.StatusTooManyRequests)
		return
	case strings.Contains(text, "hang"):
		rv.holding <- struct{}{}
		select {
		case <-rv.release:
		case <-r.Context().Done():
			rv.gone <- struct{}{}
		}
		return
	case down:
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	rv.mu.Lock()
	rv.taken = append(rv.taken, a.Event+" "+text)
	rv.mu.Unlock()
}

func (rv *receiver) tries(text string) []time.Time {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return append([]time.Time(nil), rv.attempts[text]...)
}

func (rv *receiver) took() []string {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return append([]string(nil), rv.taken...)
}

// announce posts an info announcement, whose alert carries text.
func (e *env) announce(text string) string {
	e.t.Helper()
	resp, body := e.post(`{"text":"` + text + `","severity":"info","expires_at":"` + inAnHour() + `"}`)
	if resp.StatusCode != http.StatusCreated {
		e.t.Fatalf("POST %q: %d %s", text, resp.StatusCode, body)
	}
	var a server.Announcement
	json.Unmarshal([]byte(body), &a) //nolint:errcheck
	return a.ID
}

// alertsDropped sums signage_alerts_dropped_total over its reasons.
func (e *env) alertsDropped() (total float64, byReason map[string]float64) {
	e.t.Helper()
	_, body := e.get("/metrics")
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	byReason = map[string]float64{}
	for _, m := range families["signage_alerts_dropped_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "reason" {
				byReason[l.GetValue()] = m.GetCounter().GetValue()
				total += m.GetCounter().GetValue()
			}
		}
	}
	return total, byReason
}

// TestAlertRefusedDoesNotBlockTheNext: an alert the webhook answers 400 is dropped after
// that one try (logged and counted), and the next alert is delivered at once; it used to
// be retried for ever while every later alert waited behind it. A 429 is retried, after
// the Retry-After the receiver asked for, and the alerts after it do not wait for that.
func TestAlertRefusedDoesNotBlockTheNext(t *testing.T) {
	rv := newReceiver()
	hs := httptest.NewServer(rv)
	defer hs.Close()
	e := newEnv(t, time.Minute, func(c *server.Config) { c.Alerts.WebhookURL = hs.URL })

	e.announce("Please refuse this one.")
	e.announce("The next one.")
	waitFor(t, 5*time.Second, "the next alert", func() bool { return slices.Contains(rv.took(), "announcement_posted The next one.") })
	waitFor(t, 5*time.Second, "the refused alert dropped", func() bool { _, r := e.alertsDropped(); return r["refused"] == 1 })
	if n := len(rv.tries("Please refuse this one.")); n != 1 {
		t.Errorf("the refused alert was tried %d times, want once", n)
	}
	if !strings.Contains(e.logs.String(), "alert dropped: the webhook refused it") {
		t.Errorf("the dropped alert is not logged")
	}

	e.announce("The receiver is busy.")
	e.announce("Right after it.")
	waitFor(t, 10*time.Second, "the busy alert, retried", func() bool {
		return slices.Contains(rv.took(), "announcement_posted The receiver is busy.")
	})
	tries := rv.tries("The receiver is busy.")
	if len(tries) != 2 || tries[1].Sub(tries[0]) < 1900*time.Millisecond {
		t.Errorf("the 429 was tried at %v, want twice, 2 s apart (Retry-After: 2)", tries)
	}
	after := rv.tries("Right after it.")
	if len(after) != 1 || !after[0].Before(tries[1]) {
		t.Errorf("the alert after the busy one waited for its retry: tried at %v, the retry at %v", after, tries[1])
	}
}

// TestAlertHangingWebhookDoesNotDelayClose: a receiver that takes an alert and never
// answers does not hold up the server's shutdown: the post in flight is cancelled (it
// delayed shutdown by 6 s).
func TestAlertHangingWebhookDoesNotDelayClose(t *testing.T) {
	rv := newReceiver()
	hs := httptest.NewServer(rv)
	defer hs.Close()
	defer close(rv.release)
	e := newEnv(t, time.Minute, func(c *server.Config) { c.Alerts.WebhookURL = hs.URL })
	e.announce("The receiver will hang on this one.")
	select {
	case <-rv.holding:
	case <-time.After(5 * time.Second):
		t.Fatal("the alert did not reach the receiver")
	}
	closed := make(chan struct{})
	go func() { e.stop(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second): // the post's own timeout is 10 s
		t.Fatal("Close waits for the hanging webhook")
	}
	select {
	case <-rv.gone:
	case <-time.After(5 * time.Second):
		t.Error("the post in flight was not cancelled")
	}
}

// TestAlertsAfterAnOutageAreNotStale: 300 alerts raised while the webhook answers 503 are
// retried within their bounds (attempts and age), then dropped and counted; when the
// receiver comes back it gets the alert of the moment, not the 300 stale ones (257 arrived
// within a second before these bounds).
func TestAlertsAfterAnOutageAreNotStale(t *testing.T) {
	rv := newReceiver()
	rv.down = true
	hs := httptest.NewServer(rv)
	defer hs.Close()
	e := newEnv(t, time.Minute, func(c *server.Config) { c.Alerts.WebhookURL = hs.URL })
	// The bounds, shortened: 3 tries, 20 ms then 40 ms apart, 300 ms at most.
	e.srv.ShortenAlertRetries(3, 20*time.Millisecond, 40*time.Millisecond, 300*time.Millisecond)

	const n = 300 // alerts: 150 announcements posted and ended
	for i := range n / 2 {
		id := e.announce(fmt.Sprintf("Stale %d.", i))
		if resp, _ := e.request(http.MethodDelete, "/admin/announcements/"+id, ""); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("DELETE: %d", resp.StatusCode)
		}
	}
	waitFor(t, 30*time.Second, "every alert of the outage given up", func() bool { total, _ := e.alertsDropped(); return total == n })
	if _, byReason := e.alertsDropped(); byReason["expired"] == 0 {
		t.Errorf("dropped %v: none for failing too long", byReason)
	}
	rv.mu.Lock()
	rv.down = false
	rv.mu.Unlock()
	e.announce("Back to normal.")
	waitFor(t, 5*time.Second, "the alert of the moment", func() bool { return len(rv.took()) > 0 })
	if got := rv.took(); len(got) != 1 || got[0] != "announcement_posted Back to normal." {
		t.Errorf("after the outage the receiver got %d alerts (%.3q), want the one of the moment", len(got), got)
	}
}
