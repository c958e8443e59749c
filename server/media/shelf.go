package media

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/google/renameio/v2"
)

// indexFile is the shelf's record of what it holds: the pictures with their variants, and
// which URL gave which picture, so that a restart while an image host is down (or a
// signature expired) still shows the photos.
const indexFile = "index.json"

// shelf keeps files by name: in a directory, written atomically (a temporary file, then
// a rename, so that a crash never leaves half a file under a name), or in memory when the
// server has no data_dir.
type shelf interface {
	put(name string, data []byte) error
	// open returns the file's content and size; fs.ErrNotExist when it is not kept.
	open(name string) (io.ReadSeekCloser, int64, error)
	remove(name string) error
	names() ([]string, error)
}

type dirShelf struct{ dir string }

func newDirShelf(dir string) (*dirShelf, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return &dirShelf{dir: dir}, nil
}

func (d *dirShelf) put(name string, data []byte) error {
	return renameio.WriteFile(filepath.Join(d.dir, name), data, 0o644)
}

func (d *dirShelf) open(name string) (io.ReadSeekCloser, int64, error) {
	f, err := os.Open(filepath.Join(d.dir, name))
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

func (d *dirShelf) remove(name string) error {
	err := os.Remove(filepath.Join(d.dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

func (d *dirShelf) names() ([]string, error) {
	entries, err := os.ReadDir(d.dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

type memShelf struct {
	mu    sync.RWMutex
	files map[string][]byte
}

func newMemShelf() *memShelf { return &memShelf{files: map[string][]byte{}} }

func (m *memShelf) put(name string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.files[name] = bytes.Clone(data)
	return nil
}

func (m *memShelf) open(name string) (io.ReadSeekCloser, int64, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	b, ok := m.files[name]
	if !ok {
		return nil, 0, fs.ErrNotExist
	}
	return nopCloser{bytes.NewReader(b)}, int64(len(b)), nil
}

func (m *memShelf) remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.files, name)
	return nil
}

func (m *memShelf) names() ([]string, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]string, 0, len(m.files))
	for n := range m.files {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// readAll reads a whole file of the shelf.
func readAll(s shelf, name string) ([]byte, error) {
	f, _, err := s.open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// variantName is the file name of a variant: the picture's hash, its width and the
// format's extension, e.g. 3f2a…9c-1280.jpg.
func variantName(hash string, width int, ext string) string {
	return hash + "-" + itoa(width) + "." + ext
}

// isVariantName reports whether name could be one of ours, so that serving never opens
// anything else of the directory (the index, a temporary file).
func isVariantName(name string) bool {
	base, ext, ok := strings.Cut(name, ".")
	if !ok || (ext != "jpg" && ext != "png") {
		return false
	}
	hash, width, ok := strings.Cut(base, "-")
	if !ok || len(hash) != hashLen || width == "" {
		return false
	}
	for _, c := range hash {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	for _, c := range width {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
