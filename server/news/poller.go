package news

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
)

// unknownRetry is how long a userlist that upstream does not know waits before it is asked
// again, and maxBackoff the longest wait between retries after failures.
const (
	unknownRetry = 10 * time.Minute
	maxBackoff   = 5 * time.Minute
)

// ErrTooManyUserlists is Read's answer for a new on-demand userlist while MaxOnDemand of
// them are polled already.
var ErrTooManyUserlists = errors.New("too many on-demand userlists")

// ErrNoAnswerYet is why upstream has not answered when nothing failed yet.
var ErrNoAnswerYet = errors.New("no answer from Spencer yet")

// Config configures a Poller.
type Config struct {
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
// watch it or someone read it within IdleAfter. Every change goes out through the engine,
// and comes back from it to the subscribers.
type Poller struct {
	src      Source
	engine   Engine
	watchers Watchers
	log      *slog.Logger
	cfg      Config
	disk     snapshotDir
	now      func() time.Time

	activity *cache.Cache // on-demand userlist id -> last read, expiring after IdleAfter
	// unknownIDs remembers the on-demand userlists Spencer said it does not know, as a
	// userlist that shows so and is never polled: asking for one again does not cost an
	// upstream request per reader.
	unknownIDs *cache.Cache

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.RWMutex
	lists    map[string]*Userlist
	onDemand int // how many of lists are not configured

	subMu       sync.RWMutex
	subscribers []func(*Content)
	observe     func(err error, took time.Duration)

	answered atomic.Bool // upstream answered at least once
	lastErr  atomic.Pointer[error]
}

// NewPoller returns a poller that asks src and shares what it gets through engine;
// watchers tells which userlists screens show. Start begins polling.
func NewPoller(src Source, engine Engine, watchers Watchers, cfg Config, log *slog.Logger) *Poller {
	ctx, cancel := context.WithCancel(context.Background())
	p := &Poller{
		src:        src,
		engine:     engine,
		watchers:   watchers,
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
	engine.Receive(p.receive)
	return p
}

// Subscribe adds fn to those told of every change of content ("userlist U has content
// version V", or its stale flag changed). Call it before Start; fn must not block long.
func (p *Poller) Subscribe(fn func(*Content)) {
	p.subMu.Lock()
	defer p.subMu.Unlock()
	p.subscribers = append(p.subscribers, fn)
}

// ObserveFetches sets fn to hear of every fetch's outcome and duration (for metrics).
// Call it before Start.
func (p *Poller) ObserveFetches(fn func(err error, took time.Duration)) { p.observe = fn }

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

// Configured reports whether id is a userlist of the configuration, and its name.
func (p *Poller) Configured(id string) (string, bool) {
	name, ok := p.cfg.Names[id]
	return name, ok
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

// Watch makes sure an on-demand userlist that a screen has just joined is polled, even one
// remembered as unknown to Spencer: while a screen shows "unknown", it must hear when the
// userlist comes to exist. Call it after the screen is registered with the watchers, so
// that the userlist is never retired for want of screens in between.
func (p *Poller) Watch(id string) {
	if p.Get(id) != nil {
		return
	}
	name, configured := p.cfg.Names[id]
	p.activate(id, name, configured) //nolint:errcheck // at the limit the screen keeps what it shows
}

// Answered reports whether upstream has answered at least once, and else why not: the
// last error (whose text the client has cleared of credentials), or ErrNoAnswerYet.
func (p *Poller) Answered() (bool, error) {
	if p.answered.Load() {
		return true, nil
	}
	if e := p.lastErr.Load(); e != nil {
		return false, *e
	}
	return false, ErrNoAnswerYet
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
	c := NewContent(ul.ID, ul.Name, p.cfg.Locale, s.Items, StateItems, s.FetchedAt, p.now())
	ul.content.Store(c)
	ul.markReady()
	p.log.Info("snapshot loaded", slog.String("userlist", ul.ID), slog.Int("items", len(c.Items)),
		slog.Time("fetched_at", s.FetchedAt))
}

// publish sends a new content of ul out through the engine, which hands it back to every
// instance's receive, this one's included.
func (p *Poller) publish(c *Content) {
	if err := p.engine.Publish(p.ctx, c); err != nil {
		p.log.Error("content not published", slog.String("userlist", c.Userlist), slog.Any("error", err))
	}
}

// receive takes a content from the engine: it becomes what the userlist shows, and then
// the subscribers hear of it (store first: whoever hears of a change and asks, a feed or
// a page, already gets the new content).
func (p *Poller) receive(c *Content) {
	ul := p.Get(c.Userlist)
	if ul == nil {
		return
	}
	if old := ul.Content(); old == c {
		return
	}
	ul.content.Store(c)
	ul.markReady()
	p.subMu.RLock()
	subs := p.subscribers
	p.subMu.RUnlock()
	for _, fn := range subs {
		fn(c)
	}
}

func (p *Poller) run(ctx context.Context, ul *Userlist) {
	defer p.wg.Done()
	defer ul.markReady()
	if ul.Configured && len(p.cfg.Names) > 1 {
		// Spread the configured userlists' first requests a little.
		if !sleep(ctx, jitter(min(p.cfg.Interval, time.Second), 0, 1)) {
			return
		}
	}
	for {
		next := p.fetch(ctx, ul)
		if !ul.Configured && ul.Status().Unknown && p.watchers.Screens(ul.ID) == 0 {
			// Nobody watches: readers get the remembered answer; polling it on would
			// only hold a place among the on-demand userlists.
			p.retire(ul)
			return
		}
		ul.setStatus(func(s *Status) { s.NextFetch = p.now().Add(next) })
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
	if ul.Configured || p.watchers.Screens(ul.ID) > 0 {
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

// fetch asks upstream once, updates ul, publishes any change, and returns how long to
// wait before the next fetch.
func (p *Poller) fetch(ctx context.Context, ul *Userlist) time.Duration {
	fctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	start := time.Now()
	items, err := p.src.Publications(fctx, ul.ID)
	cancel()
	if ctx.Err() != nil {
		return time.Hour // shutting down
	}
	if p.observe != nil {
		p.observe(err, time.Since(start))
	}
	now := p.now()
	old := ul.Content()
	ul.setStatus(func(s *Status) {
		s.LastFetch = now
		s.Fetches++
	})

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
	wasFailing := false
	ul.setStatus(func(s *Status) {
		wasFailing = s.Failures > 0
		s.LastSuccess, s.LastError, s.Failures, s.StaleSince, s.Unknown = now, "", 0, time.Time{}, false
	})

	c := NewContent(ul.ID, ul.Name, p.cfg.Locale, items, StateItems, now, now)
	if old != nil && old.Version == c.Version {
		if old.Stale {
			p.publish(old.WithStale(false, time.Time{}, now))
			p.log.Info("upstream recovered", slog.String("userlist", ul.ID))
		}
		ul.markReady()
		return jitter(p.cfg.Interval, 0.9, 1.1)
	}
	p.publish(c)
	ul.markReady()
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

func (p *Poller) unknown(ul *Userlist, old *Content, err error, now time.Time) {
	first := false
	ul.setStatus(func(s *Status) {
		first = !s.Unknown
		s.Unknown, s.LastError, s.Failures = true, err.Error(), 0
	})
	c := old
	if old == nil || old.State != StateUnknown {
		c = NewContent(ul.ID, ul.Name, p.cfg.Locale, nil, StateUnknown, now, now)
		p.publish(c)
	}
	if !ul.Configured {
		ghost := newUserlist(ul.ID, ul.Name, false)
		ghost.content.Store(c)
		ghost.status = Status{LastFetch: now, Unknown: true, LastError: err.Error()}
		ghost.markReady()
		p.unknownIDs.SetDefault(ul.ID, ghost)
	}
	ul.markReady()
	if first {
		p.log.Warn("userlist unknown to Spencer", slog.String("userlist", ul.ID), slog.Any("error", err))
	}
}

func (p *Poller) failed(ul *Userlist, old *Content, err error, now time.Time) time.Duration {
	p.lastErr.Store(&err)
	var failures int
	var since time.Time
	ul.setStatus(func(s *Status) {
		s.Failures++
		s.LastError = err.Error()
		if s.StaleSince.IsZero() {
			s.StaleSince = now
		}
		failures, since = s.Failures, s.StaleSince
	})

	if old != nil && old.State != StateUnknown {
		// Keep serving the last good content, with what expired meanwhile taken out, and
		// say it is stale.
		c := old.Refiltered(now)
		if !c.Stale {
			c = c.WithStale(true, since, now)
		}
		if c != old {
			p.publish(c)
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
