package media

import (
	"log/slog"
	"slices"
	"time"
)

// Bounds of the shelf's records besides its bytes.
const (
	// urlsPerPicture bounds the URLs remembered for one picture: a CDN that signs every
	// answer anew hands out a URL per poll, and only the latest few are ever asked again.
	urlsPerPicture = 16
	sweepEvery     = time.Hour
	retryEvery     = time.Minute
)

// tend runs in the background: it retries the transient failures of current news when
// they are due, and sweeps the shelf at start and every hour.
func (l *Library) tend() {
	l.Sweep()
	retry := time.NewTicker(retryEvery)
	defer retry.Stop()
	sweep := time.NewTicker(sweepEvery)
	defer sweep.Stop()
	for {
		select {
		case <-l.ctx.Done():
			return
		case <-retry.C:
			l.retry()
		case <-sweep.C:
			l.Sweep()
		}
	}
}

// retry fetches again the URLs of current news whose transient failure is due.
func (l *Library) retry() {
	now := l.now()
	var due []string
	l.mu.Lock()
	for _, refs := range l.refs {
		for _, r := range refs {
			if src := l.sources[r.URL]; src != nil && src.failure != nil && l.due(src, now) {
				src.pending = true
				due = append(due, r.URL)
			}
		}
	}
	l.mu.Unlock()
	for _, u := range due {
		l.enqueue(u)
	}
}

// inUse are the pictures current news shows: those its URLs gave, and the items' last
// ones while their new URLs cannot be had; l.mu is held.
func (l *Library) inUse() map[string]bool {
	use := map[string]bool{}
	for ul, refs := range l.refs {
		for _, r := range refs {
			if src := l.sources[r.URL]; src != nil && l.pictures[src.hash] != nil {
				use[src.hash] = true
				continue
			}
			if h := l.items[itemKey{ul, r.Item}]; h != "" {
				use[h] = true
			}
		}
	}
	return use
}

// Sweep keeps the shelf within its bounds: it forgets the news of userlists no longer
// shown, removes the pictures that no current item has referenced for KeepUnused, and
// then, while the shelf holds more than CacheBytes, the pictures not in use, least
// recently used first. The URLs remembered for each picture are bounded too.
func (l *Library) Sweep() {
	now := l.now()
	var live map[string]bool
	if l.cfg.Live != nil {
		l.mu.RLock()
		uls := make([]string, 0, len(l.refs))
		for ul := range l.refs {
			uls = append(uls, ul)
		}
		l.mu.RUnlock()
		live = map[string]bool{}
		for _, ul := range uls {
			live[ul] = l.cfg.Live(ul) // outside the lock: it asks the news
		}
	}
	l.mu.Lock()
	for ul := range l.refs {
		if live != nil && !live[ul] {
			delete(l.refs, ul)
		}
	}
	use := l.inUse()
	removed := 0
	for h, p := range l.pictures {
		switch {
		case use[h]:
			p.used = now
		case now.Sub(p.used) > l.cfg.KeepUnused:
			l.evict(p)
			removed++
		}
	}
	removed += l.shrink(0, use)
	l.forgetSources(now)
	for k, h := range l.items {
		if l.pictures[h] == nil || l.refs[k.userlist] == nil {
			delete(l.items, k)
		}
	}
	l.mu.Unlock()
	if removed > 0 {
		l.log.Info("media swept", slog.Int("removed", removed))
		l.gen.Add(1)
	}
	l.save()
}

// forgetSources drops what is known of URLs that current news does not reference and
// that gave no picture kept, or were last referenced longer ago than KeepUnused, and
// keeps at most urlsPerPicture URLs of each picture, the latest seen; l.mu is held.
func (l *Library) forgetSources(now time.Time) {
	current := map[string]bool{}
	for _, refs := range l.refs {
		for _, r := range refs {
			current[r.URL] = true
		}
	}
	byPicture := map[string][]string{}
	for u, src := range l.sources {
		if current[u] || src.pending {
			continue
		}
		if l.pictures[src.hash] == nil || now.Sub(src.seen) > l.cfg.KeepUnused {
			delete(l.sources, u)
			continue
		}
		byPicture[src.hash] = append(byPicture[src.hash], u)
	}
	for _, urls := range byPicture {
		if len(urls) <= urlsPerPicture {
			continue
		}
		slices.SortFunc(urls, func(a, b string) int { return l.sources[b].seen.Compare(l.sources[a].seen) })
		for _, u := range urls[urlsPerPicture:] {
			delete(l.sources, u)
		}
	}
}

// makeRoom reserves size bytes for a new picture, removing pictures not in use (least
// recently used first) when the shelf would hold more than CacheBytes. When the pictures
// in use leave no room, the new one is not kept.
func (l *Library) makeRoom(size int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.shrink(size, l.inUse()) > 0 {
		l.gen.Add(1)
	}
	if l.bytes+size > l.cfg.CacheBytes {
		return &Failure{Reason: ReasonFull, Detail: "media.cache_mb is taken by the images the news shows"}
	}
	l.bytes += size
	return nil
}

func (l *Library) unreserve(size int64) {
	l.mu.Lock()
	l.bytes -= size
	l.mu.Unlock()
}

// shrink removes pictures not in use, least recently used first, until room bytes more
// fit within CacheBytes; it returns how many it removed. l.mu is held.
func (l *Library) shrink(room int64, use map[string]bool) int {
	if l.bytes+room <= l.cfg.CacheBytes {
		return 0
	}
	var idle []*picture
	for h, p := range l.pictures {
		if !use[h] {
			idle = append(idle, p)
		}
	}
	slices.SortFunc(idle, func(a, b *picture) int { return a.used.Compare(b.used) })
	n := 0
	for _, p := range idle {
		if l.bytes+room <= l.cfg.CacheBytes {
			break
		}
		l.evict(p)
		n++
	}
	return n
}

// evict removes p from the shelf and the records; l.mu is held.
func (l *Library) evict(p *picture) {
	for _, v := range p.Variants {
		if err := l.shelf.remove(v.Name); err != nil {
			l.log.Warn("media file not removed", slog.String("name", v.Name), slog.Any("error", err))
		}
		delete(l.byName, v.Name)
		l.bytes -= v.Size
	}
	delete(l.pictures, p.Hash)
	for u, src := range l.sources {
		if src.hash == p.Hash {
			src.hash = ""
			if !src.pending {
				delete(l.sources, u)
			}
		}
	}
	for k, h := range l.items {
		if h == p.Hash {
			delete(l.items, k)
		}
	}
}
