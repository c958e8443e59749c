package news

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/google/renameio/v2"

	"github.com/spencer-signage/signage/spencerclient"
)

// snapshotVersion is written into every snapshot so a future format change can tell.
const snapshotVersion = 1

// snapshot is the last good answer of a userlist as kept on disk across restarts.
type snapshot struct {
	Format     int                  `json:"format"`
	UserlistID string               `json:"userlist"`
	FetchedAt  time.Time            `json:"fetched_at"`
	Items      []spencerclient.Item `json:"items"`
}

// snapshotDir keeps one snapshot file per userlist in data_dir.
type snapshotDir struct {
	dir string

	mu      sync.Mutex
	failing error     // the last save's error, until a save succeeds
	since   time.Time // of the first save that failed in a row
}

// DataDirProblem is why data_dir cannot be written and since when, while the snapshots'
// saves fail (a full disk, a volume made read-only); nil once one succeeds. Meanwhile what
// should survive a restart is not kept, which /readyz and /admin say.
func (p *Poller) DataDirProblem() (time.Time, error) {
	p.disk.mu.Lock()
	defer p.disk.mu.Unlock()
	return p.disk.since, p.disk.failing
}

func (d *snapshotDir) path(id string) string {
	return filepath.Join(d.dir, "userlist-"+id+".json")
}

// save writes the snapshot atomically (renameio: a temporary file in the same directory,
// fsync, rename over the old one): a crash leaves the old file or the new one, never a
// torn one.
func (d *snapshotDir) save(s snapshot) error {
	if d.dir == "" {
		return nil
	}
	err := d.write(s)
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil && d.failing == nil {
		d.since = time.Now()
	}
	d.failing = err
	return err
}

func (d *snapshotDir) write(s snapshot) error {
	s.Format = snapshotVersion
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(d.dir, 0o750); err != nil {
		return err
	}
	return renameio.WriteFile(d.path(s.UserlistID), b, 0o600)
}

// load reads the snapshot of id; a missing file is (zero, false, nil), a corrupt one an error.
func (d *snapshotDir) load(id string) (snapshot, bool, error) {
	if d.dir == "" {
		return snapshot{}, false, nil
	}
	b, err := os.ReadFile(d.path(id))
	if errors.Is(err, fs.ErrNotExist) {
		return snapshot{}, false, nil
	}
	if err != nil {
		return snapshot{}, false, err
	}
	var s snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return snapshot{}, false, fmt.Errorf("snapshot %s is corrupt: %w", d.path(id), err)
	}
	if s.Format != snapshotVersion || s.UserlistID != id {
		return snapshot{}, false, fmt.Errorf("snapshot %s is not a format-%d snapshot of %s", d.path(id), snapshotVersion, id)
	}
	return s, true, nil
}
