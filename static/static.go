// Package static holds the screen's own CSS, scripts and service worker, embedded in the
// binary and served under content-hashed names with long cache lifetimes.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"sort"
	"strings"
)

//go:embed *.css *.js *.svg
var files embed.FS

// kioskPages are the scripts of the pages a kiosk shows. Each is served with kiosk.js (what
// they all do alike) in front of it, as one file: a TV loads one script per page, and the
// scripts run as they are written, with no build step (kiosk.js defines signageKiosk).
var kioskPages = map[string]bool{"screen.js": true, "embed.js": true, "pair.js": true}

// kioskShared is the file served in front of each of kioskPages.
const kioskShared = "kiosk.js"

// asset is one embedded file with its hashed URL.
type asset struct {
	name        string
	hashedName  string
	contentType string
	body        []byte
	etag        string
}

// Files serves the embedded files at /static/<name>.<hash>.<ext>.
type Files struct {
	byHashed map[string]*asset
	byName   map[string]*asset
	hash     string
}

// New hashes the embedded files.
func New() *Files {
	f := &Files{byHashed: map[string]*asset{}, byName: map[string]*asset{}}
	entries, _ := fs.ReadDir(files, ".")
	all := sha256.New()
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	shared, _ := files.ReadFile(kioskShared)
	for _, name := range names {
		body, _ := files.ReadFile(name)
		if kioskPages[name] {
			body = append(append(append([]byte{}, shared...), '\n'), body...)
		}
		sum := sha256.Sum256(body)
		h := hex.EncodeToString(sum[:])[:10]
		ext := path.Ext(name)
		a := &asset{
			name:        name,
			hashedName:  strings.TrimSuffix(name, ext) + "." + h + ext,
			contentType: mime.TypeByExtension(ext),
			body:        body,
			etag:        `"` + h + `"`,
		}
		if a.contentType == "" {
			a.contentType = "application/octet-stream"
		}
		f.byHashed[a.hashedName] = a
		f.byName[name] = a
		all.Write([]byte(name))
		all.Write(sum[:])
	}
	f.hash = hex.EncodeToString(all.Sum(nil))[:10]
	return f
}

// Path is the URL of the named file, with its content hash in the name.
func (f *Files) Path(name string) string {
	if a, ok := f.byName[name]; ok {
		return "/static/" + a.hashedName
	}
	return "/static/" + name
}

// Hash identifies the set of files: it changes whenever any of them does.
func (f *Files) Hash() string { return f.hash }

// ServiceWorker is the service worker's script, served by the server at /sw.js so that its
// scope covers the whole site.
func (f *Files) ServiceWorker() []byte { return f.byName["sw.js"].body }

// ServeHTTP serves /static/<hashed name> as immutable. A name whose hash is not current
// (a page from an older build) gets the current file uncached, so that page still works
// until it reloads.
func (f *Files) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := path.Base(r.URL.Path)
	a, ok := f.byHashed[name]
	cache := "public, max-age=31536000, immutable"
	if !ok {
		a, ok = f.byName[unhashed(name)]
		cache = "no-cache"
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", cache)
	h.Set("ETag", a.etag)
	if r.Header.Get("If-None-Match") == a.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(a.body) //nolint:errcheck // the client went away
}

// unhashed turns "screen.0123456789.js" into "screen.js".
func unhashed(name string) string {
	ext := path.Ext(name)
	base := strings.TrimSuffix(name, ext)
	if i := strings.LastIndexByte(base, '.'); i >= 0 {
		return base[:i] + ext
	}
	return name
}
