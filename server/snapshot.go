package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

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
}

func (d snapshotDir) path(id string) string {
	return filepath.Join(d.dir, "userlist-"+id+".json")
}

// save writes the snapshot atomically: a temporary file in the same directory, fsync,
// rename over the old one, fsync of the directory. A crash at any point leaves either the
// old file or the new one, never a torn one.
func (d snapshotDir) save(s snapshot) error {
	if d.dir == "" {
		return nil
	}
	s.Format = snapshotVersion
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(d.dir, 0o750); err != nil {
		return err
	}
	return writeFileAtomic(d.path(s.UserlistID), b)
}

// load reads the snapshot of id; a missing file is (zero, false, nil), a corrupt one an error.
func (d snapshotDir) load(id string) (snapshot, bool, error) {
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

// writeFileAtomic replaces path with data so that readers and a crash see either the old
// content or the new, never a part.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op once renamed
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() //nolint:errcheck // best effort: not every file system syncs directories
		d.Close()
	}
	return nil
}
