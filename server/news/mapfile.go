package news

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
	"unicode/utf8"

	"github.com/google/renameio/v2"
)

// mapEntry is one entry of a shared map in memory.
type mapEntry struct {
	value   []byte
	expires time.Time // zero: never
}

func (e mapEntry) expiredAt(now time.Time) bool { return !e.expires.IsZero() && !now.Before(e.expires) }

// mapFiles keeps the memory engine's shared maps and secrets in data_dir, one file per
// map (map-NAME.json) and one for the secrets (secrets.json), each written atomically
// (renameio: a temporary file, fsync, rename), readable only by the server's user.
type mapFiles struct {
	dir string // "": nothing is kept
}

// mapFile is a map as written: a value that is text is kept as text, so that an operator
// can read the file, and byte for byte, as Redis keeps it.
type mapFile struct {
	Entries map[string]mapFileEntry `json:"entries"`
}

type mapFileEntry struct {
	Text      *string    `json:"text,omitempty"`
	Bytes     []byte     `json:"bytes,omitempty"` // a value that is not UTF-8
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// corruptFileError is a file that is there and cannot be read as what it should hold.
type corruptFileError struct{ error }

func (f mapFiles) mapPath(name string) string { return filepath.Join(f.dir, "map-"+name+".json") }

func (f mapFiles) loadMap(name string) (map[string]mapEntry, error) {
	out := map[string]mapEntry{}
	var file mapFile
	if ok, err := f.read(f.mapPath(name), &file); !ok || err != nil {
		return out, err
	}
	for k, e := range file.Entries {
		me := mapEntry{value: e.Bytes}
		if e.Text != nil {
			me.value = []byte(*e.Text)
		}
		if e.ExpiresAt != nil {
			me.expires = *e.ExpiresAt
		}
		out[k] = me
	}
	return out, nil
}

func (f mapFiles) saveMap(name string, entries map[string]mapEntry) error {
	file := mapFile{Entries: make(map[string]mapFileEntry, len(entries))}
	for k, e := range entries {
		var fe mapFileEntry
		if utf8.Valid(e.value) {
			text := string(e.value)
			fe.Text = &text
		} else {
			fe.Bytes = e.value
		}
		if !e.expires.IsZero() {
			t := e.expires.UTC()
			fe.ExpiresAt = &t
		}
		file.Entries[k] = fe
	}
	return f.write(f.mapPath(name), file)
}

func (f mapFiles) secretsPath() string { return filepath.Join(f.dir, "secrets.json") }

func (f mapFiles) loadSecrets() (map[string][]byte, error) {
	out := map[string][]byte{}
	ok, err := f.read(f.secretsPath(), &out)
	if _, corrupt := err.(corruptFileError); corrupt {
		// A secret must never change silently: refuse rather than make a new one.
		return nil, err
	}
	if !ok || err != nil {
		return map[string][]byte{}, err
	}
	return out, nil
}

func (f mapFiles) saveSecrets(s map[string][]byte) error { return f.write(f.secretsPath(), s) }

// read decodes the file at path into v; a missing file (or no data_dir) is (false, nil).
func (f mapFiles) read(path string, v any) (bool, error) {
	if f.dir == "" {
		return false, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, corruptFileError{fmt.Errorf("%s is corrupt: %w", path, err)}
	}
	return true, nil
}

func (f mapFiles) write(path string, v any) error {
	if f.dir == "" {
		return nil
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(f.dir, 0o750); err != nil {
		return err
	}
	return renameio.WriteFile(path, b, 0o600)
}
