package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"time"

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

// sharedMaps is what the board needs of the engine.
type sharedMaps interface {
	MapSet(ctx context.Context, name, key string, value []byte, o news.MapOptions) error
	MapDelete(ctx context.Context, name, key string) (bool, error)
	MapAll(ctx context.Context, name string) (map[string][]byte, error)
}

// announcementsMap is the shared map of the announcements.
const announcementsMap = "announcements"

// errBoardFull is add's answer when maxAnnouncements are on the board.
var errBoardFull = fmt.Errorf("%d announcements are active already", maxAnnouncements)

// board keeps the announcements in a shared map of the engine (in Redis for a cluster,
// in data_dir for one instance), one entry per announcement, so that two operators
// posting on two instances never overwrite each other. Whoever changes it then tells the
// screens; every instance hears of the change from the engine.
type board struct{ maps sharedMaps }

func (b board) list(ctx context.Context) ([]Announcement, error) {
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

// add puts a new announcement on the board unless maxAnnouncements are there already,
// counted in the same step as the write, so that operators posting on several instances
// at once never pass the cap together.
func (b board) add(ctx context.Context, a Announcement) error {
	err := b.set(ctx, a, news.MapOptions{Limit: maxAnnouncements})
	if errors.Is(err, news.ErrMapFull) {
		return errBoardFull
	}
	return err
}

// put puts an announcement (back) on the board, whatever the count.
func (b board) put(ctx context.Context, a Announcement) error {
	return b.set(ctx, a, news.MapOptions{})
}

func (b board) set(ctx context.Context, a Announcement, o news.MapOptions) error {
	v, err := json.Marshal(a)
	if err != nil {
		return err
	}
	return b.maps.MapSet(ctx, announcementsMap, a.ID, v, o)
}

func (b board) remove(ctx context.Context, id string) (bool, error) {
	return b.maps.MapDelete(ctx, announcementsMap, id)
}

// legacyBoardFile is where the releases before kept a single instance's announcements: a
// JSON array in data_dir.
const legacyBoardFile = "announcements.json"

// importFile moves the announcements of data_dir/announcements.json, as the releases
// before kept them, onto the board, expired ones included (loading the board ends those
// and tells the webhook, as a start did then), and removes the file once they are all
// on it. It reports how many it moved.
func (b board) importFile(ctx context.Context, dataDir string) (int, error) {
	if dataDir == "" {
		return 0, nil
	}
	path := filepath.Join(dataDir, legacyBoardFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var list []Announcement
	if err := json.Unmarshal(data, &list); err != nil {
		return 0, fmt.Errorf("%s is corrupt: %w", path, err)
	}
	for _, a := range list {
		if err := b.put(ctx, a); err != nil {
			return 0, err
		}
	}
	return len(list), os.Remove(path)
}

// importAnnouncements moves the announcements a release before kept in data_dir onto the
// board; what cannot be moved now (the store does not answer) is tried again at the next
// resync.
func (s *Server) importAnnouncements(ctx context.Context) {
	n, err := s.announcements.board.importFile(ctx, s.cfg.Server.DataDir)
	if err != nil {
		s.log.Warn("announcements of the release before not loaded", slog.Any("error", err))
		return
	}
	if n > 0 {
		s.log.Info("announcements moved onto the board", slog.String("from", filepath.Join(s.cfg.Server.DataDir, legacyBoardFile)), slog.Int("announcements", n))
	}
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
