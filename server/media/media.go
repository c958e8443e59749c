// Package media fetches, keeps and serves the images of the news, so that screens and
// embeds load them from the signage server alone: each image is fetched once per
// instance under a policy (size, pixels, time, formats judged by their bytes, no
// loopback or private addresses but the API host and the operator's allowed hosts),
// kept on disk by the hash of its bytes in the widths screens need, upright and without
// metadata, and served as immutable files. It knows the news only as userlists whose
// items reference image URLs; it renders nothing.
package media

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// hashLen is the length of a picture's name: 128 bits of the SHA-256 of its bytes, in hex.
const hashLen = 32

// Defaults of the Config fields left zero.
const (
	DefaultTimeout    = 30 * time.Second
	DefaultKeepUnused = 7 * 24 * time.Hour
)

// Config configures a Library.
type Config struct {
	Dir        string // where the pictures are kept (data_dir/media); "" keeps them in memory
	MaxBytes   int64  // the largest image fetched, in bytes
	MaxPixels  int64  // the most pixels an image may have, read from its header
	CacheBytes int64  // what the kept pictures may take at most
	// AllowedHosts are fetched whatever their address: "host" (any port) or "host:port".
	AllowedHosts []string
	// APIURL is Spencer's API: its host:port is allowed, and images there are fetched
	// with the token through Authorize (when set).
	APIURL    string
	Authorize Authorizer
	Timeout   time.Duration // of one fetch, redirects included; 0 for DefaultTimeout
	// KeepUnused is how long a picture that no current item references is kept;
	// 0 for DefaultKeepUnused.
	KeepUnused time.Duration
	// Live reports whether a userlist's news is still shown; the references of the others
	// are forgotten at the next sweep. Nil: every userlist told of stays.
	Live      func(userlist string) bool
	UserAgent string
	Log       *slog.Logger
	Now       func() time.Time // nil: time.Now
	Fetchers  int              // fetches at once; 0 for 2
}

// Ref is one image an item of the news references.
type Ref struct {
	Item string // the item's id
	URL  string
}

// Picture is an image as kept: its upright size and its variants, narrowest first.
type Picture struct {
	Hash          string
	Width, Height int
	Variants      []Variant
}

// Variant is one width of a picture, served at /media/{Name}.
type Variant struct {
	Name        string `json:"name"`
	Width       int    `json:"width"`
	Height      int    `json:"height"`
	Size        int64  `json:"size"`
	ContentType string `json:"type"`
	ETag        string `json:"etag"` // strong: a hash of the bytes

	contentTypeHeader, etagHeader []string // built once, for serving
}

// picture is a Picture as the library keeps it.
type picture struct {
	Picture
	used time.Time // when current news last referenced it
}

// source is what the library knows of one image URL.
type source struct {
	hash     string    // of the picture it gave; "" until it gave one
	seen     time.Time // when news last referenced it
	pending  bool      // queued or being fetched
	failure  *Failure  // of the last attempt; nil after a success
	failedAt time.Time
	retryAt  time.Time // when a transient failure may be tried again
	failures int       // in a row
}

type itemKey struct{ userlist, item string }

// Library fetches, keeps and serves the pictures of the news. It is safe for concurrent
// use; Open starts its background work and Close stops it.
type Library struct {
	cfg   Config
	log   *slog.Logger
	fetch *fetcher
	shelf shelf
	now   func() time.Time

	mu       sync.RWMutex
	pictures map[string]*picture // by hash
	byName   map[string]*Variant // by file name, for serving
	sources  map[string]*source  // by URL
	items    map[itemKey]string  // each item's last picture, shown while its new URL cannot be had
	refs     map[string][]Ref    // what each userlist's news references now
	bytes    int64               // of every variant kept
	making   map[string]chan struct{}

	saveMu  sync.Mutex
	gen     atomic.Uint64
	queue   chan string
	decodes chan struct{} // one decode at a time: memory stays bounded by one picture
	ready   []func(userlists []string)

	hits, fetches atomic.Int64
	failMu        sync.Mutex
	failures      map[string]int64 // by reason

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Open loads what dir holds (its index and variants) and returns a library ready to
// serve them; Start begins fetching.
func Open(cfg Config) (*Library, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.KeepUnused <= 0 {
		cfg.KeepUnused = DefaultKeepUnused
	}
	if cfg.Fetchers <= 0 {
		cfg.Fetchers = 2
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "spencer-signage"
	}
	f, err := newFetcher(cfg)
	if err != nil {
		return nil, err
	}
	l := &Library{
		cfg:      cfg,
		log:      cfg.Log,
		fetch:    f,
		now:      cfg.Now,
		pictures: map[string]*picture{},
		byName:   map[string]*Variant{},
		sources:  map[string]*source{},
		items:    map[itemKey]string{},
		refs:     map[string][]Ref{},
		making:   map[string]chan struct{}{},
		queue:    make(chan string, 4096),
		decodes:  make(chan struct{}, 1),
		failures: map[string]int64{},
	}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	if cfg.Dir == "" {
		l.shelf = newMemShelf()
		return l, nil
	}
	if l.shelf, err = newDirShelf(cfg.Dir); err != nil {
		return nil, err
	}
	if err := l.load(); err != nil {
		return nil, err
	}
	return l, nil
}

// OnReady adds fn to those told, after a fetch ended, of the userlists whose news
// references the image: what they show may have changed. Call it before Start.
func (l *Library) OnReady(fn func(userlists []string)) { l.ready = append(l.ready, fn) }

// Start begins the background work: the fetches, the retries, and the sweeps that keep
// the shelf within its bounds.
func (l *Library) Start() {
	for range l.cfg.Fetchers {
		l.wg.Go(l.work)
	}
	l.wg.Go(l.tend)
}

// Close stops the background work and waits for it (a fetch under way is cancelled).
func (l *Library) Close() {
	l.cancel()
	l.wg.Wait()
}

// Generation changes whenever what Image answers may have changed: a renderer that
// keeps what it made can ask again only then.
func (l *Library) Generation() uint64 { return l.gen.Load() }

// Want tells the library what a userlist's news references now. The images not kept
// are fetched in the background; the kept ones count as used.
func (l *Library) Want(userlist string, refs []Ref) {
	now := l.now()
	l.mu.Lock()
	old := map[string]bool{}
	for _, r := range l.refs[userlist] {
		old[r.URL] = true
	}
	l.refs[userlist] = slices.Clone(refs)
	var queue []string
	for _, r := range refs {
		src := l.sources[r.URL]
		if src == nil {
			src = &source{}
			l.sources[r.URL] = src
		}
		src.seen = now
		if p := l.pictures[src.hash]; p != nil {
			p.used = now
			if !old[r.URL] {
				l.hits.Add(1)
			}
			continue
		}
		if l.due(src, now) {
			src.pending = true
			queue = append(queue, r.URL)
		}
	}
	l.mu.Unlock()
	for _, u := range queue {
		l.enqueue(u)
	}
}

// due reports whether src should be fetched now; l.mu is held.
func (l *Library) due(src *source, now time.Time) bool {
	if src.pending {
		return false
	}
	if src.failure == nil {
		return true
	}
	return !src.failure.Permanent && !now.Before(src.retryAt)
}

func (l *Library) enqueue(u string) {
	select {
	case l.queue <- u:
	default:
		// Full: the URL is asked for again by the next news, render or retry.
		l.mu.Lock()
		if src := l.sources[u]; src != nil {
			src.pending = false
		}
		l.mu.Unlock()
	}
}

// Image is the picture to show for the image at url of an item of userlist's news:
// the one that URL gave, else the item's previous picture while its new URL cannot be
// had (a signed URL renewed but not fetched yet, or expired; the host down), but not when
// the new URL turned out to hold no usable image. An URL never heard of is fetched.
func (l *Library) Image(userlist, item, url string) (Picture, bool) {
	if url == "" {
		return Picture{}, false
	}
	l.mu.RLock()
	src := l.sources[url]
	p, ok := l.show(src, userlist, item)
	l.mu.RUnlock()
	if src != nil {
		return p, ok
	}
	l.mu.Lock()
	if l.sources[url] == nil {
		l.sources[url] = &source{seen: l.now(), pending: true}
		l.mu.Unlock()
		l.enqueue(url)
	} else {
		l.mu.Unlock()
	}
	return p, ok
}

// show is Image's answer; l.mu is held.
func (l *Library) show(src *source, userlist, item string) (Picture, bool) {
	if src != nil {
		if p := l.pictures[src.hash]; p != nil {
			return p.Picture, true
		}
		if f := src.failure; f != nil && unusable(f) {
			return Picture{}, false
		}
	}
	if p := l.pictures[l.items[itemKey{userlist, item}]]; p != nil {
		return p.Picture, true
	}
	return Picture{}, false
}

// unusable failures say that the URL holds no image to show, as opposed to one that
// could not be had now or any more.
func unusable(f *Failure) bool {
	switch f.Reason {
	case ReasonFormat, ReasonDecode, ReasonTooLarge, ReasonTooManyPixels, ReasonAddress, ReasonURL:
		return true
	}
	return false
}

// Failures are the images of each userlist's current news that could not be had.
func (l *Library) Failures() map[string]UserlistFailures {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := map[string]UserlistFailures{}
	for ul, refs := range l.refs {
		var uf UserlistFailures
		for _, r := range refs {
			src := l.sources[r.URL]
			if src == nil || src.failure == nil || l.pictures[src.hash] != nil {
				continue
			}
			uf.Count++
			if src.failedAt.After(uf.At) {
				uf.At, uf.Reason, uf.Detail = src.failedAt, src.failure.Reason, src.failure.Detail
			}
		}
		if uf.Count > 0 {
			out[ul] = uf
		}
	}
	return out
}

// Stats are the library's counters, for the metrics.
type Stats struct {
	Hits     int64            // images of arriving news that were kept already
	Fetches  int64            // requests to image hosts
	Failures map[string]int64 // fetches (and keepings) that failed, by reason
	Bytes    int64            // of every variant kept
	Pictures int
}

// Stats returns the counters now.
func (l *Library) Stats() Stats {
	st := Stats{Hits: l.hits.Load(), Fetches: l.fetches.Load(), Failures: map[string]int64{}}
	l.failMu.Lock()
	for k, v := range l.failures {
		st.Failures[k] = v
	}
	l.failMu.Unlock()
	l.mu.RLock()
	st.Bytes, st.Pictures = l.bytes, len(l.pictures)
	l.mu.RUnlock()
	return st
}

// work fetches queued URLs until Close.
func (l *Library) work() {
	for {
		select {
		case <-l.ctx.Done():
			return
		case u := <-l.queue:
			l.get(u)
		}
	}
}

// get fetches one URL and keeps its picture, or notes why it could not.
func (l *Library) get(u string) {
	l.fetches.Add(1)
	o, err := l.fetch.fetch(l.ctx, u)
	if err == nil {
		err = l.keep(u, o)
	}
	if l.ctx.Err() != nil {
		return // closing: not a failure of the image
	}
	now := l.now()
	l.mu.Lock()
	src := l.source(u)
	src.pending = false
	if err != nil {
		var f *Failure
		if !errors.As(err, &f) {
			f = &Failure{Reason: ReasonDecode, Detail: err.Error()}
		}
		src.failure, src.failedAt = f, now
		src.failures++
		src.retryAt = now.Add(backoff(src.failures))
	} else {
		src.failure, src.failures = nil, 0
	}
	userlists := l.referencing(u)
	l.mu.Unlock()
	if err != nil {
		var f *Failure
		errors.As(err, &f)
		l.failMu.Lock()
		if f != nil {
			l.failures[f.Reason]++
		} else {
			l.failures[ReasonDecode]++
		}
		l.failMu.Unlock()
		l.log.Warn("image not kept", slog.Any("userlists", userlists), slog.String("host", hostOf(u)), slog.Any("error", err))
	}
	l.changed(userlists)
}

// referencing lists the userlists whose news references u, and notes the picture u gave
// as their items' last; l.mu is held.
func (l *Library) referencing(u string) []string {
	var out []string
	hash := l.sources[u].hash
	for ul, refs := range l.refs {
		found := false
		for _, r := range refs {
			if r.URL != u {
				continue
			}
			found = true
			if l.pictures[hash] != nil {
				l.items[itemKey{ul, r.Item}] = hash
			}
		}
		if found {
			out = append(out, ul)
		}
	}
	slices.Sort(out)
	return out
}

// changed says that what Image answers for these userlists may have changed.
func (l *Library) changed(userlists []string) {
	l.gen.Add(1)
	if len(userlists) == 0 {
		return
	}
	for _, fn := range l.ready {
		fn(userlists)
	}
}

// keep stores the picture of o, fetched from u: once for the same bytes from any URL.
func (l *Library) keep(u string, o *original) error {
	sum := sha256.Sum256(o.body)
	hash := hex.EncodeToString(sum[:])[:hashLen]
	for {
		l.mu.Lock()
		if l.pictures[hash] != nil {
			l.source(u).hash = hash
			l.mu.Unlock()
			l.save()
			return nil
		}
		wait, busy := l.making[hash]
		if !busy {
			l.making[hash] = make(chan struct{})
			l.mu.Unlock()
			break
		}
		l.mu.Unlock()
		select {
		case <-wait:
		case <-l.ctx.Done():
			return l.ctx.Err()
		}
	}
	defer func() {
		l.mu.Lock()
		close(l.making[hash])
		delete(l.making, hash)
		l.mu.Unlock()
	}()
	select {
	case l.decodes <- struct{}{}:
	case <-l.ctx.Done():
		return l.ctx.Err()
	}
	w, h, made, err := makeVariants(o)
	<-l.decodes
	if err != nil {
		return err
	}
	p := &picture{Picture: Picture{Hash: hash, Width: w, Height: h}, used: l.now()}
	var size int64
	for _, v := range made {
		sum := sha256.Sum256(v.data)
		p.Variants = append(p.Variants, Variant{
			Name: variantName(hash, v.width, v.ext), Width: v.width, Height: v.height,
			Size: int64(len(v.data)), ContentType: v.contentType, ETag: `"` + hex.EncodeToString(sum[:12]) + `"`,
		})
		size += int64(len(v.data))
	}
	if err := l.makeRoom(size); err != nil {
		return err
	}
	for i, v := range made {
		if err := l.shelf.put(p.Variants[i].Name, v.data); err != nil {
			l.unreserve(size)
			for _, done := range p.Variants[:i] {
				l.shelf.remove(done.Name) //nolint:errcheck // best effort; the next load removes strays
			}
			return &Failure{Reason: ReasonFull, Detail: "not written: " + err.Error()}
		}
	}
	l.mu.Lock()
	l.add(p)
	l.source(u).hash = hash
	l.mu.Unlock()
	l.save()
	return nil
}

// source is what the library knows of u, made when it knows nothing; l.mu is held.
func (l *Library) source(u string) *source {
	src := l.sources[u]
	if src == nil {
		src = &source{seen: l.now()}
		l.sources[u] = src
	}
	return src
}

// add puts p on the shelf's records; l.mu is held and its bytes are counted already.
func (l *Library) add(p *picture) {
	for i := range p.Variants {
		v := &p.Variants[i]
		v.contentTypeHeader, v.etagHeader = []string{v.ContentType}, []string{v.ETag}
		l.byName[v.Name] = v
	}
	l.pictures[p.Hash] = p
}

// backoff is how long a transient failure waits before the URL is tried again.
func backoff(failures int) time.Duration {
	d := time.Minute << min(failures-1, 6)
	return min(d, time.Hour)
}

func hostOf(u string) string {
	for _, p := range []string{"https://", "http://"} {
		if len(u) > len(p) && u[:len(p)] == p {
			u = u[len(p):]
			break
		}
	}
	for i, c := range u {
		if c == '/' || c == '?' || c == '#' {
			return u[:i]
		}
	}
	return u
}

func itoa(n int) string { return strconv.Itoa(n) }

// immutable is how long a variant may be kept by browsers and caches: its name changes
// with its bytes, so forever.
var (
	immutable = []string{"public, max-age=31536000, immutable"}
	nosniff   = []string{"nosniff"}
)

// ServeHTTP serves a variant at /media/{name} (the last element of the path): 404 for a
// name not kept; HEAD, ranges and If-None-Match as net/http serves files.
func (l *Library) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if name == "" {
		name = lastElement(r.URL.Path)
	}
	var v *Variant
	if isVariantName(name) {
		l.mu.RLock()
		v = l.byName[name]
		l.mu.RUnlock()
	}
	if v == nil {
		http.NotFound(w, r)
		return
	}
	f, _, err := l.shelf.open(name)
	if err != nil {
		http.NotFound(w, r) // removed since: the page that named it is older than a week
		return
	}
	defer f.Close()
	h := w.Header()
	h["Content-Type"] = v.contentTypeHeader
	h["Etag"] = v.etagHeader
	h["Cache-Control"] = immutable
	h["X-Content-Type-Options"] = nosniff
	http.ServeContent(w, r, "", time.Time{}, f)
}

func lastElement(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[i+1:]
		}
	}
	return p
}
