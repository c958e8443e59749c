package static

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func TestHashedURLsAndCaching(t *testing.T) {
	f := New()
	p := f.Path("screen.js")
	if !regexp.MustCompile(`^/static/screen\.[0-9a-f]{10}\.js$`).MatchString(p) {
		t.Fatalf("Path = %q", p)
	}
	rec := httptest.NewRecorder()
	f.ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
	if rec.Code != 200 || rec.Header().Get("Cache-Control") != "public, max-age=31536000, immutable" || rec.Header().Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Errorf("hashed: %d %v", rec.Code, rec.Header())
	}
	etag := rec.Header().Get("ETag")
	rec = httptest.NewRecorder()
	req := httptest.NewRequest("GET", p, nil)
	req.Header.Set("If-None-Match", etag)
	f.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", rec.Code)
	}
	// An old hash (a page from the previous build) still gets the file, uncached.
	rec = httptest.NewRecorder()
	f.ServeHTTP(rec, httptest.NewRequest("GET", "/static/screen.0000000000.js", nil))
	if rec.Code != 200 || rec.Header().Get("Cache-Control") != "no-cache" {
		t.Errorf("old hash: %d %q", rec.Code, rec.Header().Get("Cache-Control"))
	}
	rec = httptest.NewRecorder()
	f.ServeHTTP(rec, httptest.NewRequest("GET", "/static/nothing.js", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("unknown file: %d", rec.Code)
	}
	if len(f.ServiceWorker()) == 0 || f.Hash() == "" {
		t.Errorf("service worker or hash missing")
	}
}

// TestKioskPagesCarryTheSharedScript: the screen's, the embed's and the pairing view's
// scripts are each served with kiosk.js in front, as one file that still parses on
// Chromium 53, and name what kiosk.js defines only after it; kiosk.js itself is not a
// page's script.
func TestKioskPagesCarryTheSharedScript(t *testing.T) {
	f := New()
	shared, _ := files.ReadFile(kioskShared)
	for _, name := range []string{"screen.js", "embed.js", "pair.js"} {
		own, _ := files.ReadFile(name)
		rec := httptest.NewRecorder()
		f.ServeHTTP(rec, httptest.NewRequest("GET", f.Path(name), nil))
		served := rec.Body.String()
		if !strings.HasPrefix(served, string(shared)) || !strings.HasSuffix(served, string(own)) {
			t.Errorf("%s is not served as kiosk.js followed by its own script", name)
		}
		if !strings.Contains(string(own), "signageKiosk.cancelFrozenPageRefresh()") {
			t.Errorf("%s does not stop its frozen-page reload through kiosk.js", name)
		}
		for _, p := range lintScriptSyntax(name, served, scriptEngine) {
			t.Errorf("as served: %s", p)
		}
	}
}
