package server

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/patrickmn/go-cache"

	"github.com/spencer-signage/signage/spencerclient"
	"github.com/spencer-signage/signage/views"
)

// Source is what the poller needs of the Spencer client.
type Source interface {
	Publications(ctx context.Context, userListID string) ([]spencerclient.Item, error)
}

var _ Source = (*spencerclient.Client)(nil)

// Broadcaster is what the poller tells of changes: the hub of screens.
type Broadcaster interface {
	Deck(c *Content)
	Status(c *Content)
	Screens(userListID string) int
}

// unknownRetry is how long a userlist that upstream does not know waits before it is asked
// again, and maxBackoff the longest wait between retries after failures (SPEC 7).
const (
	unknownRetry = 10 * time.Minute
	maxBackoff   = 5 * time.Minute
)

// ErrTooManyUserlists is Read's answer for a new on-demand userlist while MaxOnDemand of
// them are polled already.
var ErrTooManyUserlists = errors.New("too many on-demand userlists")

// PollerConfig configures a Poller.
type PollerConfig struct {
	Interval    time.Duration
	IdleAfter   time.Duration
	MaxOnDemand int           // on-demand userlists polled at once; 0 for no limit
	Timeout     time.Duration // per fetch, token renewal and one retry included
	Locale      string
	Names       map[string]string // configured userlists: id -> name
	DataDir     string
}

// Poller keeps every active userlist fresh: one goroutine per userlist, so there is exactly
// one publications request per userlist per interval whatever the number of readers. The
// configured userlists are always active; an on-demand one stays active while screens
// watch it or someone read it within IdleAfter.
type Poller struct {
	src  Source
	hub  Broadcaster
	log  *slog.Logger
	cfg  PollerConfig
	disk snapshotDir
	now  func() time.Time

	activity *cache.Cache // on-demand userlist id -> last read, expiring after IdleAfter
	// unknown remembers the on-demand userlists Spencer said it does not know, as a
	// userlist that shows so and is never polled: asking for one again does not cost an
	// upstream request per reader.
	unknownIDs *cache.Cache

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.RWMutex
	lists    map[string]*Userlist
	onDemand int // how many of lists are not configured

	answered atomic.Bool // upstream answered at least once
	lastErr  atomic.Pointer[error]
}

// NewPoller returns a poller; Start begins polling.
func NewPoller(src Source, hub Broadcaster, cfg PollerConfig, log *slog.Logger) *Poller {
	ctx, cancel := context.WithCancel(context.Background())
	return &Poller{
		src:        src,
		hub:        hub,
		log:        log,
		cfg:        cfg,
		disk:       snapshotDir{dir: cfg.DataDir},
		now:        time.Now,
		activity:   cache.New(cfg.IdleAfter, time.Minute),
		unknownIDs: cache.New(unknownRetry, time.Minute),
		ctx:        ctx,
		cancel:     cancel,
		lists:      map[string]*Userlist{},
	}
}

// Start loads the snapshots of the configured userlists and starts polling them.
func (p *Poller) Start() {
	for id, name := range p.cfg.Names {
		p.activate(id, name, true) //nolint:errcheck // configured userlists are never refused
	}
}

// Stop stops every poll and waits for them to end.
func (p *Poller) Stop() {
	p.cancel()
	p.wg.Wait()
	p.activity.Flush()
	p.unknownIDs.Flush()
}

// Get returns the userlist if it is being polled, else nil. It does not count as a read.
func (p *Poller) Get(id string) *Userlist {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.lists[id]
}

// Userlists returns the active userlists.
func (p *Poller) Userlists() []*Userlist {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]*Userlist, 0, len(p.lists))
	for _, ul := range p.lists {
		out = append(out, ul)
	}
	return out
}

// Read returns the userlist id, starting to poll it when it is not yet, and records the
// read so that an on-demand userlist stays active. The caller has checked that id is a
// valid, allowed userlist. A new on-demand userlist beyond MaxOnDemand is refused with
// ErrTooManyUserlists; one that Spencer lately said it does not know is answered as such
// without asking again.
func (p *Poller) Read(id string) (*Userlist, error) {
	name, configured := p.cfg.Names[id]
	if ul := p.Get(id); ul != nil {
		if !configured {
			p.activity.SetDefault(id, struct{}{})
		}
		return ul, nil // the common case: a read lock only
	}
	if !configured {
		if ghost, ok := p.unknownIDs.Get(id); ok {
			return ghost.(*Userlist), nil
		}
	}
	ul, err := p.activate(id, name, configured)
	if err == nil && !configured {
		p.activity.SetDefault(id, struct{}{})
	}
	return ul, err
}

// errNoAnswerYet is why upstream has not answered when nothing failed yet.
var errNoAnswerYet = errors.New("no answer from Spencer yet")

// Watch makes sure an on-demand userlist that a screen has just joined is polled, even one
// remembered as unknown to Spencer: while a screen shows "unknown", it must hear when the
// userlist comes to exist. Call it after the screen is registered with the hub, so that
// the userlist is never retired for want of screens in between.
func (p *Poller) Watch(id string) {
	if p.Get(id) != nil {
		return
	}
	name, configured := p.cfg.Names[id]
	p.activate(id, name, configured) //nolint:errcheck // at the limit the screen keeps what it shows
}

// Answered reports whether upstream has answered at least once, and else why not: the
// last error (whose text the client has cleared of credentials), or errNoAnswerYet.
func (p *Poller) Answered() (bool, error) {
	if p.answered.Load() {
		return true, nil
	}
	if e := p.lastErr.Load(); e != nil {
		return false, *e
	}
	return false, errNoAnswerYet
}

func (p *Poller) activate(id, name string, configured bool) (*Userlist, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ul, ok := p.lists[id]; ok {
		return ul, nil
	}
	if p.ctx.Err() != nil {
		// Shutting down: hand out a userlist that will never be polled.
		ul := newUserlist(id, name, configured)
		ul.markReady()
		return ul, nil
	}
	if !configured && p.cfg.MaxOnDemand > 0 && p.onDemand >= p.cfg.MaxOnDemand {
		return nil, ErrTooManyUserlists
	}
	ul := newUserlist(id, name, configured)
	p.loadSnapshot(ul)
	if g, ok := p.unknownIDs.Get(id); ok && ul.Content() == nil {
		// Start from what Spencer said last, so screens hear only of a real change.
		ul.content.Store(g.(*Userlist).Content())
		ul.status = g.(*Userlist).Status()
	}
	ctx, cancel := context.WithCancel(p.ctx)
	ul.cancel = cancel
	p.lists[id] = ul
	if !configured {
		p.onDemand++
	}
	p.wg.Add(1)
	go p.run(ctx, ul)
	return ul, nil
}

// loadSnapshot gives ul the content it had before a restart, so that screens show it
// before upstream answered, even during an outage.
func (p *Poller) loadSnapshot(ul *Userlist) {
	s, ok, err := p.disk.load(ul.ID)
	if err != nil {
		p.log.Warn("snapshot ignored", slog.String("userlist", ul.ID), slog.Any("error", err))
		return
	}
	if !ok {
		return
	}
	c, err := buildContent(ul.ID, ul.Name, p.cfg.Locale, s.Items, views.DeckItems, s.FetchedAt, p.now())
	if err != nil {
		p.log.Warn("snapshot ignored", slog.String("userlist", ul.ID), slog.Any("error", err))
		return
	}
	ul.content.Store(c)
	ul.markReady()
	p.log.Info("snapshot loaded", slog.String("userlist", ul.ID), slog.Int("items", len(c.Items)),
		slog.Time("fetched_at", s.FetchedAt))
}

func (p *Poller) run(ctx context.Context, ul *Userlist) {
	defer p.wg.Done()
	defer close(ul.done)
	defer ul.markReady()
	if ul.Configured && len(p.cfg.Names) > 1 {
		// Spread the configured userlists' first requests a little.
		if !sleep(ctx, jitter(min(p.cfg.Interval, time.Second), 0, 1)) {
			return
		}
	}
	for {
		next := p.fetch(ctx, ul)
		if !ul.Configured && ul.Status().Unknown && p.hub.Screens(ul.ID) == 0 {
			// Nobody watches: readers get the remembered answer; polling it on would
			// only hold a place among the on-demand userlists.
			p.retire(ul)
			return
		}
		ul.mu.Lock()
		ul.status.NextFetch = p.now().Add(next)
		ul.mu.Unlock()
		timer := time.NewTimer(next)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		case <-ul.fetchNow:
			timer.Stop()
		}
		if !p.stillActive(ul) {
			p.retire(ul)
			return
		}
	}
}

// stillActive reports whether ul is configured, watched by a screen, or read recently.
func (p *Poller) stillActive(ul *Userlist) bool {
	if ul.Configured || p.hub.Screens(ul.ID) > 0 {
		return true
	}
	_, read := p.activity.Get(ul.ID)
	return read
}

func (p *Poller) retire(ul *Userlist) {
	p.mu.Lock()
	if p.lists[ul.ID] == ul {
		delete(p.lists, ul.ID)
		if !ul.Configured {
			p.onDemand--
		}
	}
	p.mu.Unlock()
	ul.cancel()
	p.log.Info("userlist idle: polling stopped", slog.String("userlist", ul.ID))
}

// fetch asks upstream once, updates ul, tells the hub of any change, and returns how long
// to wait before the next fetch.
func (p *Poller) fetch(ctx context.Context, ul *Userlist) time.Duration {
	fctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	items, err := p.src.Publications(fctx, ul.ID)
	cancel()
	if ctx.Err() != nil {
		return time.Hour // shutting down
	}
	now := p.now()
	old := ul.Content()

	ul.mu.Lock()
	ul.status.LastFetch = now
	ul.status.Fetches++
	ul.mu.Unlock()

	switch {
	case err == nil:
		p.answered.Store(true)
		return p.fetched(ul, old, items, now)
	case errors.Is(err, spencerclient.ErrNotFound):
		p.answered.Store(true)
		p.unknown(ul, old, err, now)
		return jitter(max(unknownRetry, p.cfg.Interval), 0.9, 1.1)
	default:
		return p.failed(ul, old, err, now)
	}
}

func (p *Poller) fetched(ul *Userlist, old *Content, items []spencerclient.Item, now time.Time) time.Duration {
	ul.mu.Lock()
	wasFailing := ul.status.Failures > 0
	ul.status.LastSuccess = now
	ul.status.LastError = ""
	ul.status.Failures = 0
	ul.status.StaleSince = time.Time{}
	ul.status.Unknown = false
	ul.mu.Unlock()

	shown := visible(items, now)
	state := views.DeckItems
	if len(shown) == 0 {
		state = views.DeckEmpty
	}
	if old != nil && old.Version == contentVersion(state, shown) {
		if old.Stale {
			c := old.withStale(false, time.Time{}, now)
			ul.content.Store(c)
			p.hub.Status(c)
			p.log.Info("upstream recovered", slog.String("userlist", ul.ID))
		}
		ul.markReady()
		return jitter(p.cfg.Interval, 0.9, 1.1)
	}
	c, err := buildContent(ul.ID, ul.Name, p.cfg.Locale, items, views.DeckItems, now, now)
	if err != nil {
		p.log.Error("render failed", slog.String("userlist", ul.ID), slog.Any("error", err))
		return jitter(p.cfg.Interval, 0.9, 1.1)
	}
	ul.content.Store(c)
	ul.markReady()
	p.hub.Deck(c)
	if old != nil && old.Stale {
		p.hub.Status(c)
	}
	if wasFailing {
		p.log.Info("upstream recovered", slog.String("userlist", ul.ID))
	}
	p.log.Info("userlist changed", slog.String("userlist", ul.ID), slog.String("version", c.Version),
		slog.Int("items", len(c.Items)))
	if err := p.disk.save(snapshot{UserlistID: ul.ID, FetchedAt: now, Items: items}); err != nil {
		p.log.Error("snapshot not saved", slog.String("userlist", ul.ID), slog.Any("error", err))
	}
	return jitter(p.cfg.Interval, 0.9, 1.1)
}

func visible(items []spencerclient.Item, now time.Time) []spencerclient.Item {
	var out []spencerclient.Item
	for _, it := range items {
		if !it.Expired(now) {
			out = append(out, it)
		}
	}
	return out
}

func (p *Poller) unknown(ul *Userlist, old *Content, err error, now time.Time) {
	ul.mu.Lock()
	first := !ul.status.Unknown
	ul.status.Unknown = true
	ul.status.LastError = err.Error()
	ul.status.Failures = 0
	ul.mu.Unlock()
	c := old
	if old == nil || old.State != views.DeckUnknown {
		var rerr error
		if c, rerr = buildContent(ul.ID, ul.Name, p.cfg.Locale, nil, views.DeckUnknown, now, now); rerr == nil {
			ul.content.Store(c)
			p.hub.Deck(c)
		}
	}
	if !ul.Configured && c != nil {
		ghost := newUserlist(ul.ID, ul.Name, false)
		ghost.content.Store(c)
		ghost.status = UserlistStatus{LastFetch: now, Unknown: true, LastError: err.Error()}
		ghost.markReady()
		p.unknownIDs.SetDefault(ul.ID, ghost)
	}
	ul.markReady()
	if first {
		p.log.Warn("userlist unknown to Spencer", slog.String("userlist", ul.ID), slog.Any("error", err))
	}
}

func (p *Poller) failed(ul *Userlist, old *Content, err error, now time.Time) time.Duration {
	msg := err.Error()
	p.lastErr.Store(&err)
	ul.mu.Lock()
	ul.status.Failures++
	failures := ul.status.Failures
	ul.status.LastError = msg
	if ul.status.StaleSince.IsZero() {
		ul.status.StaleSince = now
	}
	since := ul.status.StaleSince
	ul.mu.Unlock()

	if old != nil && old.State != views.DeckUnknown && old.State != views.DeckLoading {
		// Store before telling the screens, so that whoever hears of the change and
		// asks (a feed, a page) already gets the new content.
		c := old
		refreshed, rerr := old.refiltered(now)
		deckChanged := rerr == nil && refreshed != old
		if deckChanged {
			c = refreshed
		}
		becameStale := !c.Stale
		if becameStale {
			c = c.withStale(true, since, now)
		}
		if c != old {
			ul.content.Store(c)
		}
		if deckChanged {
			p.hub.Deck(c)
		}
		if becameStale {
			p.hub.Status(c)
		}
	}
	ul.markReady()
	p.log.Warn("upstream failed: serving last good content", slog.String("userlist", ul.ID),
		slog.Int("failures", failures), slog.Any("error", err))
	return backoff(p.cfg.Interval, failures)
}

// backoff is the wait after the n-th consecutive failure: the poll interval doubled per
// failure up to maxBackoff (or the interval if longer), with jitter so that many servers
// do not come back in step.
func backoff(interval time.Duration, failures int) time.Duration {
	limit := max(maxBackoff, interval)
	d := interval
	for i := 1; i < failures && d < limit; i++ {
		d *= 2
	}
	return jitter(min(d, limit), 0.75, 1.0)
}

// jitter returns d scaled by a random factor in [lo, hi).
func jitter(d time.Duration, lo, hi float64) time.Duration {
	return time.Duration(float64(d) * (lo + rand.Float64()*(hi-lo)))
}

// sleep waits d or until ctx ends; it reports whether the whole wait passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
