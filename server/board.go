package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/google/renameio/v2"

	"github.com/spencer-signage/signage/server/news"
)

// Announcement is a message the operator puts on screens over the news: urgent ones take
// the whole screen, info ones are a banner. Title and Text are plain text.
type Announcement struct {
	ID        string    `json:"id"`
	Title     string    `json:"title,omitempty"`
	Text      string    `json:"text"`
	Severity  string    `json:"severity"`            // info or urgent
	Userlists []string  `json:"userlists,omitempty"` // empty: every screen
	ExpiresAt time.Time `json:"expires_at"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"` // "admin token" or "this machine": who may have posted it
}

// Urgent reports whether a takes over the screens.
func (a Announcement) Urgent() bool { return a.Severity == "urgent" }

// For reports whether a is shown with userlist's news.
func (a Announcement) For(userlist string) bool {
	if len(a.Userlists) == 0 {
		return true
	}
	for _, id := range a.Userlists {
		if id == userlist {
			return true
		}
	}
	return false
}

// board keeps the announcements: in a file of data_dir for one instance, in Redis for a
// cluster. Whoever changes it then tells the screens; a cluster's other instances hear of
// the change from the engine.
type board interface {
	list(ctx context.Context) ([]Announcement, error)
	put(ctx context.Context, a Announcement) error
	remove(ctx context.Context, id string) (bool, error)
}

// fileBoard is the board of a single instance: the announcements in memory, written to
// data_dir/announcements.json atomically on every change, read back at start.
type fileBoard struct {
	path string // "" without data_dir: in memory only

	mu  sync.Mutex
	all map[string]Announcement
}

func newFileBoard(dataDir string) (*fileBoard, error) {
	b := &fileBoard{all: map[string]Announcement{}}
	if dataDir == "" {
		return b, nil
	}
	b.path = filepath.Join(dataDir, "announcements.json")
	data, err := os.ReadFile(b.path)
	if errors.Is(err, fs.ErrNotExist) {
		return b, nil
	}
	if err != nil {
		return b, err
	}
	var list []Announcement
	if err := json.Unmarshal(data, &list); err != nil {
		return b, fmt.Errorf("%s is corrupt: %w", b.path, err)
	}
	for _, a := range list {
		b.all[a.ID] = a
	}
	return b, nil
}

func (b *fileBoard) list(context.Context) ([]Announcement, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]Announcement, 0, len(b.all))
	for _, a := range b.all {
		out = append(out, a)
	}
	sortAnnouncements(out)
	return out, nil
}

func (b *fileBoard) put(_ context.Context, a Announcement) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.all[a.ID] = a
	if err := b.saveLocked(); err != nil {
		delete(b.all, a.ID)
		return err
	}
	return nil
}

func (b *fileBoard) remove(_ context.Context, id string) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	a, ok := b.all[id]
	if !ok {
		return false, nil
	}
	delete(b.all, id)
	if err := b.saveLocked(); err != nil {
		b.all[id] = a
		return false, err
	}
	return true, nil
}

func (b *fileBoard) saveLocked() error {
	if b.path == "" {
		return nil
	}
	list := make([]Announcement, 0, len(b.all))
	for _, a := range b.all {
		list = append(list, a)
	}
	sortAnnouncements(list)
	data, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(b.path), 0o750); err != nil {
		return err
	}
	return renameio.WriteFile(b.path, data, 0o600)
}

// sharedMaps is what the cluster board needs of the Redis engine.
type sharedMaps interface {
	MapSet(ctx context.Context, name, key string, value []byte) error
	MapDelete(ctx context.Context, name, key string) (bool, error)
	MapAll(ctx context.Context, name string) (map[string][]byte, error)
}

var _ sharedMaps = (*news.Redis)(nil)

// announcementsMap is the shared map of a cluster's announcements.
const announcementsMap = "announcements"

// clusterBoard is the board of a cluster: a shared map in Redis, one entry per
// announcement, so that two operators posting on two instances never overwrite each other.
type clusterBoard struct{ maps sharedMaps }

func (b clusterBoard) list(ctx context.Context) ([]Announcement, error) {
	all, err := b.maps.MapAll(ctx, announcementsMap)
	if err != nil {
		return nil, err
	}
	out := make([]Announcement, 0, len(all))
	for _, v := range all {
		var a Announcement
		if json.Unmarshal(v, &a) == nil {
			out = append(out, a)
		}
	}
	sortAnnouncements(out)
	return out, nil
}

func (b clusterBoard) put(ctx context.Context, a Announcement) error {
	v, err := json.Marshal(a)
	if err != nil {
		return err
	}
	return b.maps.MapSet(ctx, announcementsMap, a.ID, v)
}

func (b clusterBoard) remove(ctx context.Context, id string) (bool, error) {
	return b.maps.MapDelete(ctx, announcementsMap, id)
}

// sortAnnouncements puts urgent ones first, then the newest.
func sortAnnouncements(list []Announcement) {
	sort.Slice(list, func(i, j int) bool {
		if list[i].Urgent() != list[j].Urgent() {
			return list[i].Urgent()
		}
		return list[i].CreatedAt.After(list[j].CreatedAt)
	})
}
