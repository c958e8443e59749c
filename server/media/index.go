package media

import (
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"strings"
	"time"
)

// index is indexFile's content.
type index struct {
	Pictures map[string]indexPicture `json:"pictures"`
	URLs     map[string]indexURL     `json:"urls"`
	// Items maps "userlist/item" to the hash of the item's last picture.
	Items map[string]string `json:"items"`
}

type indexPicture struct {
	Width    int       `json:"width"`
	Height   int       `json:"height"`
	Used     time.Time `json:"used"`
	Variants []Variant `json:"variants"`
}

type indexURL struct {
	Hash string    `json:"hash"`
	Seen time.Time `json:"seen"`
}

// load reads the index and keeps what it lists and the shelf holds; a file the index
// does not list (a crash between a write and the index's) is removed.
func (l *Library) load() error {
	var idx index
	b, err := readAll(l.shelf, indexFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	default:
		if err := json.Unmarshal(b, &idx); err != nil {
			l.log.Warn("media index unreadable: starting empty", slog.Any("error", err))
			idx = index{}
		}
	}
	names, err := l.shelf.names()
	if err != nil {
		return err
	}
	present := map[string]bool{}
	for _, n := range names {
		present[n] = true
	}
	for hash, ip := range idx.Pictures {
		p := &picture{Picture: Picture{Hash: hash, Width: ip.Width, Height: ip.Height, Variants: ip.Variants}, used: ip.Used}
		whole := len(p.Variants) > 0 && len(hash) == hashLen
		for _, v := range p.Variants {
			whole = whole && present[v.Name] && isVariantName(v.Name) && strings.HasPrefix(v.Name, hash)
		}
		if !whole {
			continue
		}
		l.add(p)
		for _, v := range p.Variants {
			l.bytes += v.Size
		}
	}
	for u, iu := range idx.URLs {
		if l.pictures[iu.Hash] != nil {
			l.sources[u] = &source{hash: iu.Hash, seen: iu.Seen}
		}
	}
	for k, hash := range idx.Items {
		ul, item, ok := strings.Cut(k, "/")
		if ok && l.pictures[hash] != nil {
			l.items[itemKey{ul, item}] = hash
		}
	}
	for _, n := range names {
		if n != indexFile && l.byName[n] == nil {
			l.shelf.remove(n) //nolint:errcheck // a stray left again is removed at the next start
		}
	}
	if len(l.pictures) > 0 {
		l.log.Info("media loaded", slog.Int("pictures", len(l.pictures)), slog.Int("urls", len(l.sources)), slog.Int64("bytes", l.bytes))
	}
	return nil
}

// save writes the index, atomically; saves are one at a time, each of the state then.
func (l *Library) save() {
	if l.cfg.Dir == "" {
		return
	}
	l.saveMu.Lock()
	defer l.saveMu.Unlock()
	idx := index{Pictures: map[string]indexPicture{}, URLs: map[string]indexURL{}, Items: map[string]string{}}
	l.mu.RLock()
	for h, p := range l.pictures {
		idx.Pictures[h] = indexPicture{Width: p.Width, Height: p.Height, Used: p.used, Variants: p.Variants}
	}
	for u, s := range l.sources {
		if l.pictures[s.hash] != nil {
			idx.URLs[u] = indexURL{Hash: s.hash, Seen: s.seen}
		}
	}
	for k, h := range l.items {
		idx.Items[k.userlist+"/"+k.item] = h
	}
	l.mu.RUnlock()
	b, err := json.Marshal(idx)
	if err == nil {
		err = l.shelf.put(indexFile, b)
	}
	if err != nil {
		l.log.Error("media index not saved", slog.Any("error", err))
	}
}
