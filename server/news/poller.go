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

// ErrNotSynced is why an instance of a cluster is not ready: it has not loaded the
// cluster's content yet (Redis does not answer).
var ErrNotSynced = errors.New("the cluster's content is not loaded yet")

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

// Poller keeps the news of every userlist this instance serves. On the leader (a single
// instance always is) it polls every active userlist: one goroutine per userlist, so there
// is exactly one publications request per userlist per interval whatever the number of
// readers and instances. The configured userlists are always active; an on-demand one
// stays active while screens watch it or someone read it within IdleAfter, on any
// instance. Every change goes out through the engine and comes back from it, on every
// instance, to the subscribers.
type Poller struct {
	src      Source
	engine   Engine
	self     string // this instance, in the engine
	watchers Watchers
	log      *slog.Logger
	cfg      Config
	disk     snapshotDir
	now      func() time.Time

	activity *cache.Cache // on-demand userlists read here, expiring after IdleAfter
	touched  *cache.Cache // interest told to the engine lately, so it is told not on every read
	// unknownIDs remembers the on-demand userlists Spencer said it does not know, as a
	// userlist that shows so and is never polled: asking for one again does not cost an
	// upstream request per reader.
	unknownIDs *cache.Cache

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.RWMutex
	lists    map[string]*Userlist // the userlists known here, polled or not
	leading  bool
	onDemand int // how many of lists are not configured

	subMu       sync.RWMutex
	subscribers []func(*Content)
	observe     func(err error, took time.Duration)

	answered atomic.Bool // upstream answered at least once (here, or another instance)
	synced   atomic.Bool // the content shared by the engine has been loaded
	lastErr  atomic.Pointer[error]
}

// NewPoller returns a poller that asks src and shares what it gets through engine;
// watchers tells which userlists this instance's screens show. Start begins (after the
// engine started, or it starts alone for a while).
func NewPoller(src Source, engine Engine, watchers Watchers, cfg Config, log *slog.Logger) *Poller {
	ctx, cancel := context.WithCancel(context.Background())
	p := &Poller{
		src:        src,
		engine:     engine,
		self:       engine.Instance(),
		watchers:   watchers,
		log:        log,
		cfg:        cfg,
		disk:       snapshotDir{dir: cfg.DataDir},
		now:        time.Now,
		activity:   cache.New(cfg.IdleAfter, time.Minute),
		touched:    cache.New(touchEvery(cfg.IdleAfter), time.Minute),
		unknownIDs: cache.New(unknownRetry, time.Minute),
		ctx:        ctx,
		cancel:     cancel,
		lists:      map[string]*Userlist{},
	}
	engine.Receive(p.receive)
	engine.OnCommand(p.command)
	engine.OnResync(func(bool) { p.Resync() })
	return p
}

// touchEvery is how often interest in a userlist is told to the engine: often enough that
// the leader never takes a userlist for idle, seldom enough that a busy feed does not
// cost a Redis write per request.
func touchEvery(idle time.Duration) time.Duration {
	return min(max(idle/4, 50*time.Millisecond), 30*time.Second)
}

// Engine is the engine the poller shares the news through.
func (p *Poller) Engine() Engine { return p.engine }

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

// Start loads what the other instances share and the configured userlists, and starts
// polling when this instance leads.
func (p *Poller) Start() {
	p.wg.Add(1)
	go p.tend()
	p.sync()
	for id, name := range p.cfg.Names {
		p.activate(id, name, true) //nolint:errcheck // configured userlists are never refused
	}
	p.engine.OnLeadership(p.setLeading)
}

// Stop stops every poll and waits for them to end.
func (p *Poller) Stop() {
	p.mu.Lock() // no poll starts after this
	p.cancel()
	p.mu.Unlock()
	p.wg.Wait()
	p.activity.Flush()
	p.touched.Flush()
	p.unknownIDs.Flush()
}

// Get returns the userlist if this instance knows it, else nil. It does not count as a read.
func (p *Poller) Get(id string) *Userlist {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.lists[id]
}

// Userlists returns the userlists this instance knows.
func (p *Poller) Userlists() []*Userlist {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]*Userlist, 0, len(p.lists))
	for _, ul := range p.lists {
		out = append(out, ul)
	}
	return out
}

// Leading reports whether this instance polls Spencer.
func (p *Poller) Leading() bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.leading
}

// Statuses is the polling state of every userlist as the leader knows it: from here when
// this instance leads, else as the leader recorded it through the engine (the last one
// known when the engine does not answer).
func (p *Poller) Statuses(ctx context.Context) map[string]Status {
	out := map[string]Status{}
	for _, ul := range p.Userlists() {
		out[ul.ID] = ul.Status()
	}
	if p.Leading() {
		return out
	}
	shared, err := p.engine.Statuses(ctx)
	if err != nil {
		return out
	}
	for id, st := range shared {
		if _, known := out[id]; known {
			out[id] = st
		}
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
			p.interest(id, false)
		}
		return ul, nil // the common case: a read lock and a cache lookup
	}
	if !configured {
		if ghost, ok := p.unknownIDs.Get(id); ok {
			return ghost.(*Userlist), nil
		}
	}
	ul, err := p.activate(id, name, configured)
	if err == nil && !configured {
		p.interest(id, false)
	}
	return ul, err
}

// Watch makes sure an on-demand userlist that a screen has just joined is polled, even one
// remembered as unknown to Spencer: while a screen shows "unknown", it must hear when the
// userlist comes to exist. Call it after the screen is registered with the watchers, so
// that the userlist is never retired for want of screens in between.
func (p *Poller) Watch(id string) {
	name, configured := p.cfg.Names[id]
	if p.Get(id) == nil {
		p.activate(id, name, configured) //nolint:errcheck // at the limit the screen keeps what it shows
	}
	if !configured {
		p.interest(id, true)
	}
}

// interest records a read (or a screen) of an on-demand userlist here, and tells the
// engine now and then so that the leader, whichever instance it is, keeps polling it.
func (p *Poller) interest(id string, watched bool) {
	if !watched {
		p.activity.SetDefault(id, struct{}{})
	}
	key := id
	if watched {
		key += "/watched"
	}
	if _, recent := p.touched.Get(key); recent {
		return
	}
	p.touched.SetDefault(key, struct{}{})
	// Never hold a request on the engine (Redis may be slow, or away): tell it in the
	// background, briefly.
	go func() {
		ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
		defer cancel()
		if err := p.engine.Touch(ctx, id, watched); err != nil {
			p.touched.Delete(key) // tell it again at the next read
		}
	}()
}

// Answered reports whether this instance has news to answer with: upstream answered it at
// least once, or it received content that another instance's poller made (the leader's,
// or one before a restart), and else why not: the last error (whose text the client has
// cleared of credentials), ErrNotSynced, or ErrNoAnswerYet.
func (p *Poller) Answered() (bool, error) {
	if p.answered.Load() {
		return true, nil
	}
	if e := p.lastErr.Load(); e != nil {
		return false, *e
	}
	if !p.synced.Load() {
		return false, ErrNotSynced
	}
	return false, ErrNoAnswerYet
}

// activate makes id known here, with the content the engine shares, else its snapshot,
// and polls it when this instance leads.
func (p *Poller) activate(id, name string, configured bool) (*Userlist, error) {
	p.mu.Lock()
	if ul, ok := p.lists[id]; ok {
		p.mu.Unlock()
		return ul, nil
	}
	if p.ctx.Err() != nil {
		p.mu.Unlock()
		// Shutting down: hand out a userlist that will never be polled.
		ul := newUserlist(id, name, configured)
		ul.markReady()
		return ul, nil
	}
	if !configured && p.cfg.MaxOnDemand > 0 && p.onDemand >= p.cfg.MaxOnDemand {
		p.mu.Unlock()
		return nil, ErrTooManyUserlists
	}
	ul := newUserlist(id, name, configured)
	p.lists[id] = ul
	if !configured {
		p.onDemand++
	}
	leading := p.leading
	p.mu.Unlock()

	p.load(ul)
	if leading {
		p.poll(ul)
	} else if ul.Content() == nil {
		// The leader does not poll it yet: ask it to, rather than wait for it to notice.
		ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
		defer cancel()
		if err := p.engine.Send(ctx, Command{Kind: CommandPoll, Userlist: id}); err != nil {
			p.log.Warn("cannot ask the leader to poll", slog.String("userlist", id), slog.Any("error", err))
			ul.markReady()
		}
	}
	return ul, nil
}

// load gives ul its last content: what the engine shares, else what this instance had on
// disk before a restart (and, on the leader, shares it: the first leader of a cluster
// seeds Redis from its data_dir), else what Spencer said lately of an unknown userlist.
func (p *Poller) load(ul *Userlist) {
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
	c, err := p.engine.Last(ctx, ul.ID)
	cancel()
	if err != nil {
		p.log.Warn("shared content not loaded", slog.String("userlist", ul.ID), slog.Any("error", err))
	}
	if c != nil {
		p.store(ul, c)
		p.heard(c)
		return
	}
	if c := p.loadSnapshot(ul); c != nil {
		p.store(ul, c)
		if p.Leading() {
			p.publish(c)
		}
		return
	}
	if g, ok := p.unknownIDs.Get(ul.ID); ok {
		// Start from what Spencer said last, so screens hear only of a real change.
		p.store(ul, g.(*Userlist).Content())
		ul.setStatus(func(s *Status) { *s = g.(*Userlist).Status() })
	}
}

// loadSnapshot reads the content ul had before a restart, so that screens show it before
// upstream answered, even during an outage.
func (p *Poller) loadSnapshot(ul *Userlist) *Content {
	s, ok, err := p.disk.load(ul.ID)
	if err != nil {
		p.log.Warn("snapshot ignored", slog.String("userlist", ul.ID), slog.Any("error", err))
		return nil
	}
	if !ok {
		return nil
	}
	c := p.newContent(ul, s.Items, StateItems, s.FetchedAt, p.now())
	p.log.Info("snapshot loaded", slog.String("userlist", ul.ID), slog.Int("items", len(c.Items)),
		slog.Time("fetched_at", s.FetchedAt))
	return c
}

// sync loads every userlist's content the engine shares (a cluster's other instances
// polled it), so that this instance answers with news at once.
func (p *Poller) sync() {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	all, err := p.engine.All(ctx)
	if err != nil {
		p.log.Warn("shared content not loaded yet", slog.Any("error", err))
		return
	}
	for _, c := range all {
		name, configured := p.cfg.Names[c.Userlist]
		p.mu.Lock()
		if _, ok := p.lists[c.Userlist]; !ok {
			p.lists[c.Userlist] = newUserlist(c.Userlist, name, configured)
			if !configured {
				p.onDemand++
			}
		}
		p.mu.Unlock()
		p.receive(c)
		p.heard(c)
	}
	p.synced.Store(true)
	if len(all) > 0 {
		p.log.Info("shared content loaded", slog.Int("userlists", len(all)))
	}
}

// Resync loads the shared content again: the engine calls it when it reconnects, for
// what was published while it could not hear.
func (p *Poller) Resync() {
	p.sync()
	if !p.Leading() {
		return
	}
	// Redis may have lost what it held (restarted without persistence): the leader
	// shares again what it has.
	for _, ul := range p.Userlists() {
		c := ul.Content()
		if c == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
		shared, err := p.engine.Last(ctx, ul.ID)
		cancel()
		if err == nil && !c.Same(shared) {
			p.publish(c)
		}
	}
}

// setLeading starts or stops this instance's polling.
func (p *Poller) setLeading(leader bool) {
	p.mu.Lock()
	if p.leading == leader || p.ctx.Err() != nil {
		p.mu.Unlock()
		return
	}
	p.leading = leader
	lists := make([]*Userlist, 0, len(p.lists))
	for _, ul := range p.lists {
		lists = append(lists, ul)
	}
	p.mu.Unlock()
	if !leader {
		p.log.Warn("no longer the leader: polling stopped")
		for _, ul := range lists {
			ul.stopPolling()
		}
		return
	}
	for _, ul := range lists {
		if ul.Configured || p.wanted(ul.ID) {
			p.poll(ul)
		}
	}
	// On-demand userlists that readers of other instances want.
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
	ids, err := p.engine.Interested(ctx, p.now().Add(-p.cfg.IdleAfter))
	cancel()
	if err == nil {
		for _, id := range ids {
			if _, configured := p.cfg.Names[id]; !configured {
				p.activate(id, "", false) //nolint:errcheck // at the limit, the others wait
			}
		}
	}
}

// command acts on what another instance asks of the news.
func (p *Poller) command(cmd Command) {
	if !p.Leading() || cmd.Userlist == "" {
		return
	}
	switch cmd.Kind {
	case CommandPoll:
		name, configured := p.cfg.Names[cmd.Userlist]
		if ul, err := p.activate(cmd.Userlist, name, configured); err == nil {
			p.poll(ul)
		}
	case CommandFetch:
		if ul := p.Get(cmd.Userlist); ul != nil {
			p.poll(ul)
			ul.FetchNow()
		}
	}
}

// FetchNow asks the leader, whichever instance it is, to fetch a userlist at once.
func (p *Poller) FetchNow(ctx context.Context, id string) error {
	if p.Leading() {
		ul := p.Get(id)
		if ul == nil {
			return errors.New("userlist not known")
		}
		ul.FetchNow()
		return nil
	}
	return p.engine.Send(ctx, Command{Kind: CommandFetch, Userlist: id})
}

// poll starts polling ul, unless it is polled already.
func (p *Poller) poll(ul *Userlist) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.leading || p.ctx.Err() != nil || p.lists[ul.ID] != ul || ul.polled() {
		return
	}
	ctx, cancel := context.WithCancel(p.ctx)
	ul.startPolling(cancel)
	p.wg.Add(1)
	go p.run(ctx, ul)
}

// publish sends a new content out through the engine, which hands it back to every
// instance's receive, this one's included.
func (p *Poller) publish(c *Content) {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	if err := p.engine.Publish(ctx, c); err != nil {
		p.log.Error("content not published", slog.String("userlist", c.Userlist), slog.Any("error", err))
		return
	}
	// This instance's own readers need not wait for the engine to hand it back.
	p.receive(c)
}

// receive takes a content from the engine: it becomes what the userlist shows here, it is
// kept on disk for a restart, and then the subscribers hear of it.
func (p *Poller) receive(c *Content) {
	ul := p.Get(c.Userlist)
	if ul == nil {
		return
	}
	old := ul.Content()
	if old == c || (old != nil && old.Same(c) && !c.Modified.After(old.Modified)) {
		return
	}
	p.store(ul, c)
	p.heard(c)
	p.subMu.RLock()
	subs := p.subscribers
	p.subMu.RUnlock()
	for _, fn := range subs {
		fn(c)
	}
	if c.State != StateUnknown && (old == nil || old.Version != c.Version) {
		// Every instance keeps the last good content, so that it restarts with news even
		// when Spencer, or Redis, is away.
		if err := p.disk.save(snapshot{UserlistID: c.Userlist, FetchedAt: c.FetchedAt, Items: c.All}); err != nil {
			p.log.Error("snapshot not saved", slog.String("userlist", c.Userlist), slog.Any("error", err))
		}
	}
}

// heard notes content that another instance's poller made: this instance has news to
// answer with, though Spencer has not answered it.
func (p *Poller) heard(c *Content) {
	if c.From != p.self {
		p.answered.Store(true)
	}
}

// newContent makes the content of ul, as this instance's.
func (p *Poller) newContent(ul *Userlist, items []spencerclient.Item, state State, fetchedAt, now time.Time) *Content {
	c := NewContent(ul.ID, ul.Name, p.cfg.Locale, items, state, fetchedAt, now)
	c.From = p.self
	return c
}

// store makes c what ul shows (store first, tell after: whoever hears of a change and
// asks, a feed or a page, already gets the new content).
func (p *Poller) store(ul *Userlist, c *Content) {
	ul.content.Store(c)
	ul.markReady()
}

// tend runs in the background for the life of the poller: it keeps telling the engine
// which on-demand userlists this instance's screens show, forgets the on-demand
// userlists that nobody here wants any more (when this instance does not poll them), and
// loads the shared content until it has.
func (p *Poller) tend() {
	defer p.wg.Done()
	every := touchEvery(p.cfg.IdleAfter)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-t.C:
		}
		if !p.synced.Load() {
			p.sync()
		}
		for _, ul := range p.Userlists() {
			if ul.Configured {
				continue
			}
			if p.watchers.Screens(ul.ID) > 0 {
				p.interest(ul.ID, true)
				continue
			}
			if _, read := p.activity.Get(ul.ID); !read && !ul.polled() {
				p.forget(ul)
			}
		}
	}
}

// wanted reports whether a reader or a screen of any instance wanted an on-demand userlist
// within IdleAfter.
func (p *Poller) wanted(id string) bool {
	if p.watchers.Screens(id) > 0 {
		return true
	}
	if _, read := p.activity.Get(id); read {
		return true
	}
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
	defer cancel()
	read, watched, err := p.engine.Interest(ctx, id, p.now().Add(-p.cfg.IdleAfter))
	if err != nil {
		return true // in doubt, keep it: a Redis hiccup must not blank a screen
	}
	return read || watched
}

// watchedAnywhere reports whether a screen of any instance shows a userlist.
func (p *Poller) watchedAnywhere(id string) bool {
	if p.watchers.Screens(id) > 0 {
		return true
	}
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
	defer cancel()
	_, watched, err := p.engine.Interest(ctx, id, p.now().Add(-p.cfg.IdleAfter))
	return err != nil || watched
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
		if ctx.Err() != nil {
			return
		}
		if !ul.Configured && ul.Status().Unknown && !p.watchedAnywhere(ul.ID) {
			// Nobody watches: readers get the remembered answer; polling it on would
			// only hold a place among the on-demand userlists.
			p.retire(ul)
			return
		}
		ul.setStatus(func(s *Status) { s.NextFetch = p.now().Add(next) })
		p.saveStatus(ul)
		timer := time.NewTimer(next)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		case <-ul.fetchNow:
			timer.Stop()
		}
		if !ul.Configured && !p.wanted(ul.ID) {
			p.retire(ul)
			return
		}
	}
}

// saveStatus shares ul's polling state with the other instances' status pages.
func (p *Poller) saveStatus(ul *Userlist) {
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
	defer cancel()
	p.engine.SaveStatus(ctx, ul.ID, ul.Status()) //nolint:errcheck // the status page is best effort
}

// retire stops polling an on-demand userlist nobody wants and forgets it.
func (p *Poller) retire(ul *Userlist) {
	ul.stopPolling()
	p.forget(ul)
	p.log.Info("userlist idle: polling stopped", slog.String("userlist", ul.ID))
}

func (p *Poller) forget(ul *Userlist) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lists[ul.ID] == ul {
		delete(p.lists, ul.ID)
		if !ul.Configured {
			p.onDemand--
		}
	}
}

// fetch asks upstream once, updates ul, publishes any change, and returns how long to
// wait before the next fetch.
func (p *Poller) fetch(ctx context.Context, ul *Userlist) time.Duration {
	fctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	start := time.Now()
	items, err := p.src.Publications(fctx, ul.ID)
	cancel()
	if ctx.Err() != nil {
		return time.Hour // shutting down, or no longer the leader
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

	c := p.newContent(ul, items, StateItems, now, now)
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
		c = p.newContent(ul, nil, StateUnknown, now, now)
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
