package server

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spencer-signage/signage/server/screens"
	"github.com/spencer-signage/signage/views"
)

// Alert is the JSON message posted to alerts.webhook_url: one when something has been
// wrong for longer than its threshold, and one when it is right again.
type Alert struct {
	Event    string    `json:"event"` // screen_offline, screen_recovered, upstream_failing, upstream_recovered
	Screen   string    `json:"screen,omitempty"`
	Address  string    `json:"address,omitempty"`
	Userlist string    `json:"userlist,omitempty"`
	Name     string    `json:"name,omitempty"` // a managed screen's name
	Since    time.Time `json:"since"`
	At       time.Time `json:"at"`
	Text     string    `json:"text"` // a line for people (Slack and Teams show "text")
}

// alerter watches screens and upstream and posts an alert per transition, never a storm:
// each problem is announced once when it passes its threshold and once when it ends. The
// webhook delivers them.
type alerter struct {
	status       func() adminStatus
	names        map[string]string // configured userlists: id -> name
	log          *slog.Logger
	hook         *webhook
	offlineAfter time.Duration
	failingAfter time.Duration
	every        time.Duration

	mu      sync.Mutex
	screens map[string]*screenSeen // by the screen's stable id
	failing bool                   // an upstream outage was announced
	stop    chan struct{}
	done    sync.WaitGroup

	checks     atomic.Int64 // checks done, for tests to await instead of sleeping
	maxTracked int          // maxTrackedScreens; tests lower it
	// active reports whether this instance sends the alerts (in a cluster, the leader
	// does); nil: always.
	active func() bool
	// quiet reports whether the quiet hours hold: a screen that follows them may be black
	// or switched off by the TV, and is not called offline for it.
	quiet func() bool
}

type screenSeen struct {
	quietOff          bool // it does not follow the quiet hours
	userlist, address string
	label             string // how alerts name it
	name              string // the name the operator gave it, for a managed screen
	lastOnline        time.Time
	announced         bool
}

// maxTrackedScreens bounds the memory of screens seen, should ids churn; the ones offline
// longest make way for new ones.
const maxTrackedScreens = 20000

func newAlerter(cfg AlertsConfig, status func() adminStatus, names map[string]string, log *slog.Logger, every time.Duration) *alerter {
	return &alerter{
		status:       status,
		names:        names,
		log:          log,
		hook:         newWebhook(cfg.WebhookURL, log),
		offlineAfter: cfg.ScreenOfflineAfter.Duration,
		failingAfter: cfg.UpstreamFailingAfter.Duration,
		every:        every,
		screens:      map[string]*screenSeen{},
		stop:         make(chan struct{}),
		maxTracked:   maxTrackedScreens,
	}
}

func (a *alerter) start() {
	a.done.Add(1)
	go a.watch()
	a.hook.start()
}

func (a *alerter) close() {
	close(a.stop)
	a.done.Wait()
	a.hook.close()
}

func (a *alerter) watch() {
	defer a.done.Done()
	t := time.NewTicker(a.every)
	defer t.Stop()
	for {
		select {
		case <-a.stop:
			return
		case <-t.C:
			if a.active == nil || a.active() {
				a.check(time.Now())
			}
		}
	}
}

// maxScreenAlertsPerCheck bounds the screen_offline messages of one check; beyond it one
// screens_offline message says how many more went, so a wall of screens that loses power
// (or a client that opened and dropped many sockets) is one burst, not a flood.
const maxScreenAlertsPerCheck = 10

// check compares what is online now with what was, and queues the transitions.
func (a *alerter) check(now time.Time) {
	st := a.status()
	a.mu.Lock()
	defer a.mu.Unlock()
	online := map[string]bool{}
	for _, sc := range st.Screens {
		key := screenKey(sc.ScreenInfo)
		if !sc.Online {
			continue
		}
		online[key] = true
		seen := a.screens[key]
		if seen == nil {
			if len(a.screens) >= a.maxTracked && !a.evictLocked(online) {
				continue
			}
			seen = &screenSeen{}
			a.screens[key] = seen
		}
		seen.userlist, seen.address, seen.label, seen.quietOff = sc.UserlistID, sc.Addr, describeScreen(sc.ScreenInfo, a.names), sc.QuietOff
		seen.name = sc.Name
		if seen.announced {
			a.enqueue(Alert{Event: "screen_recovered", Screen: sc.SID, Address: sc.Addr, Userlist: sc.UserlistID, Name: seen.name, Since: seen.lastOnline, At: now,
				Text: slackEscape(seen.label + " is back online.")})
			seen.announced = false
		}
		seen.lastOnline = now
	}
	var gone []string
	resting := a.quiet != nil && a.quiet()
	for key, seen := range a.screens {
		if resting && !seen.quietOff && !seen.announced {
			seen.lastOnline = now // its time to be missed starts when the quiet hours end
			continue
		}
		if online[key] || seen.announced || now.Sub(seen.lastOnline) < a.offlineAfter {
			continue
		}
		seen.announced = true
		if len(gone) < maxScreenAlertsPerCheck {
			sid := ""
			if IsUUID(key) {
				sid = key
			}
			a.enqueue(Alert{Event: "screen_offline", Screen: sid, Address: seen.address, Userlist: seen.userlist, Name: seen.name, Since: seen.lastOnline, At: now,
				Text: slackEscape(fmt.Sprintf("%s has been offline since %s.", seen.label, seen.lastOnline.Format(time.RFC3339)))})
		}
		gone = append(gone, key)
	}
	if more := len(gone) - maxScreenAlertsPerCheck; more > 0 {
		a.enqueue(Alert{Event: "screens_offline", At: now,
			Text: fmt.Sprintf("%d more screens went offline; /admin lists them.", more)})
	}
	// Upstream: one outage for the whole of Spencer, however many userlists it hits.
	var since time.Time
	var names []string
	lastErr := ""
	for _, u := range st.Userlists {
		if u.StaleSince == nil {
			continue
		}
		if since.IsZero() || u.StaleSince.Before(since) {
			since = *u.StaleSince
		}
		names = append(names, strings.TrimSpace(u.Name+" "+u.ID))
		lastErr = u.LastError
	}
	switch {
	case !since.IsZero() && now.Sub(since) >= a.failingAfter && !a.failing:
		a.failing = true
		a.enqueue(Alert{Event: "upstream_failing", Userlist: strings.Join(names, ", "), Since: since, At: now,
			Text: slackEscape(fmt.Sprintf("Spencer has been failing since %s for %s: %s. Screens show the last good news.", since.Format(time.RFC3339), strings.Join(names, ", "), lastErr))})
	case since.IsZero() && a.failing:
		a.failing = false
		a.enqueue(Alert{Event: "upstream_recovered", At: now, Text: "Spencer answers again; screens are up to date."})
	}
	a.checks.Add(1)
}

// evictLocked makes room for a new screen by forgetting the one that has been offline the
// longest; it reports false when every tracked screen is online. Ids that a client made up
// and dropped thus cannot crowd out the screens that are really there.
func (a *alerter) evictLocked(online map[string]bool) bool {
	oldest, at := "", time.Time{}
	for key, seen := range a.screens {
		if online[key] {
			continue
		}
		if oldest == "" || seen.lastOnline.Before(at) {
			oldest, at = key, seen.lastOnline
		}
	}
	if oldest == "" {
		return false
	}
	delete(a.screens, oldest)
	return true
}

// describeScreen names a screen in an alert from what the server checked, never from text
// a client chose: the name the operator gave a managed screen, the userlist's configured
// name (else its id), the address, and the browser as a label from a fixed vocabulary.
func describeScreen(info screens.ScreenInfo, names map[string]string) string {
	ul := names[info.UserlistID]
	if ul == "" {
		ul = info.UserlistID
	}
	browser := views.BrowserFamily(info.UserAgent)
	if browser == "" {
		browser = "unknown browser"
	}
	if info.Name != "" {
		return fmt.Sprintf("Screen “%s” (%s) at %s (%s)", info.Name, ul, info.Addr, browser)
	}
	return fmt.Sprintf("Screen of %s at %s (%s)", ul, info.Addr, browser)
}

// slackEscape escapes the three characters that Slack-style webhooks read as markup
// (https://api.slack.com/reference/surfaces/formatting#escaping): <!channel> would be a
// mention and <https://…|text> a disguised link. Teams shows the text as is.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func (a *alerter) enqueue(al Alert) { a.hook.send(al) }
