package browsertest_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spencer-signage/signage/server/browsertest"
)

// engines are those the server's tests drive (make browsers runs TestEngines to fetch and
// check them all).
var engines = []browsertest.Engine{
	browsertest.Chromium,
	browsertest.OldChromium(64), browsertest.OldChromium(78), browsertest.OldChromium(88),
	browsertest.Firefox, browsertest.WebKit,
}

// simplePage has a script that no engine can parse, one that runs, and a strict content
// security policy, as the product's pages have.
func simplePage(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'")
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<!DOCTYPE html><html><head><meta charset="utf-8"><title>simple</title>
<link rel="stylesheet" href="/style.css"></head>
<body><h1 id="h">Hello</h1><script src="/broken.js"></script><script src="/ok.js"></script></body></html>`)
		case "/style.css":
			w.Header().Set("Content-Type", "text/css")
			fmt.Fprint(w, "html, body { margin: 0; background: #123456; color: #fff; font: 40px sans-serif }\n")
		case "/favicon.ico":
			w.WriteHeader(http.StatusNoContent)
		case "/broken.js":
			w.Header().Set("Content-Type", "text/javascript")
			fmt.Fprint(w, "window.broken = function ( {;\n")
		case "/ok.js":
			w.Header().Set("Content-Type", "text/javascript")
			fmt.Fprint(w, "window.ran = true;\n")
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestEngines holds every driver to the interface on a simple page: the viewport is the
// size asked for (in the page and in the screenshot), values come back as JSON with
// promises awaited, large expressions go through, an exception in the page is an error, a script that does not parse
// and errors after the load are reported, and Close leaves no process and nothing in /tmp.
func TestEngines(t *testing.T) {
	if os.Getenv("SIGNAGE_SKIP_BROWSER") == "1" {
		t.Skip("SIGNAGE_SKIP_BROWSER=1: browser tests skipped on purpose")
	}
	srv := simplePage(t)
	for _, e := range engines {
		t.Run(e.Name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			// As long as a test's t.TempDir() gets: too long for a Unix socket's path inside.
			dir := filepath.Join(t.TempDir(), "TestAVeryLongNameOfATestAsTheyComeInThisProject1234567890", "001")
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			b, err := browsertest.Launch(ctx, e, dir)
			if err != nil {
				t.Fatal(err)
			}
			closed := false
			defer func() {
				if !closed {
					b.Close()
				}
			}()
			t.Logf("%s", b.Version())
			ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
			defer cancel()
			if err := b.Open(ctx, srv.URL+"/", 640, 480); err != nil {
				t.Fatal(err)
			}
			if got, err := browsertest.Eval[[]int](ctx, b, "[innerWidth, innerHeight]"); err != nil || len(got) != 2 || got[0] != 640 || got[1] != 480 {
				t.Errorf("viewport %v (%v), want [640 480]", got, err)
			}
			if ran, err := browsertest.Eval[bool](ctx, b, "window.ran === true && window.broken === undefined"); err != nil || !ran {
				t.Errorf("the page's scripts: ran %v (%v)", ran, err)
			}
			if got, err := browsertest.Eval[int](ctx, b, "new Promise((resolve) => setTimeout(() => resolve(42), 50))"); err != nil || got != 42 {
				t.Errorf("awaited promise: %v (%v), want 42", got, err)
			}
			if got, err := browsertest.Eval[map[string]any](ctx, b, "({ a: [1, 'two'], b: undefined })"); err != nil || fmt.Sprint(got) != "map[a:[1 two]]" {
				t.Errorf("object: %v (%v)", got, err)
			}
			// A test's scripts can be large (the layout audit is 12 KB).
			if got, err := browsertest.Eval[int](ctx, b, "'"+strings.Repeat("x", 200_000)+"'.length"); err != nil || got != 200_000 {
				t.Errorf("a 200 KB expression: %v (%v)", got, err)
			}
			if _, err := b.Eval(ctx, "nosuchname.x"); err == nil || !strings.Contains(err.Error(), "nosuchname") {
				t.Errorf("an exception in the page: %v, want an error that names it", err)
			}
			// A command whose time ran out (the last one of a wait) leaves the browser usable.
			short, stop := context.WithTimeout(ctx, time.Nanosecond)
			<-short.Done()
			if _, err := b.Eval(short, "1"); err == nil {
				t.Errorf("an evaluation after its deadline succeeded")
			}
			stop()
			if err := browsertest.WaitFor(ctx, b, "document.getElementById('h').textContent === 'Hello'"); err != nil {
				t.Error(err)
			}
			shot, err := b.Screenshot(ctx)
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(shot))
			if err != nil {
				t.Fatal(err)
			}
			if sz := img.Bounds().Size(); sz.X != 640 || sz.Y != 480 {
				t.Errorf("screenshot %v, want 640x480", sz)
			}
			if r, g, bl, _ := img.At(600, 400).RGBA(); r>>8 != 0x12 || g>>8 != 0x34 || bl>>8 != 0x56 {
				t.Errorf("screenshot pixel rgb(%d,%d,%d), want the page's #123456", r>>8, g>>8, bl>>8)
			}
			if err := b.Resize(ctx, 1080, 1920); err != nil {
				t.Fatal(err)
			}
			if got, err := browsertest.Eval[[]int](ctx, b, "[innerWidth, innerHeight]"); err != nil || len(got) != 2 || got[0] != 1080 || got[1] != 1920 {
				t.Errorf("viewport after Resize %v (%v), want [1080 1920]", got, err)
			}
			if _, err := b.Eval(ctx, "setTimeout(() => { console.error('later', 7); }, 0), setTimeout(() => { throw new Error('thrown in a timer'); }, 0)"); err != nil {
				t.Fatal(err)
			}
			want := []string{"SyntaxError", "later 7", "thrown in a timer"}
			var errs []string
			deadline := time.Now().Add(10 * time.Second)
			for {
				errs = append(errs, b.Errors()...)
				all := strings.Join(errs, "\n")
				missing := false
				for _, w := range want {
					missing = missing || !strings.Contains(all, w)
				}
				if !missing || time.Now().After(deadline) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			for _, w := range want {
				if !strings.Contains(strings.Join(errs, "\n"), w) {
					t.Errorf("errors lack %q: %q", w, errs)
				}
			}
			t.Logf("errors: %q", errs)

			tmp := tmpdirOf(t, dir)
			if tmp == "" || !strings.HasPrefix(tmp, os.TempDir()) || len(tmp) > 40 {
				t.Errorf("the browser's TMPDIR is %q: not a short directory of its own under %s", tmp, os.TempDir())
			}
			closed = true
			if err := b.Close(); err != nil {
				t.Error(err)
			}
			if left := processesIn(t, dir); len(left) > 0 {
				t.Errorf("processes left after Close: %v", left)
			}
			if _, err := os.Stat(filepath.Dir(tmp)); err == nil {
				t.Errorf("%s is left after Close", filepath.Dir(tmp))
			}
		})
	}
}

// processesIn lists the processes still running whose home is under dir: every process a
// driver starts, and every process those start, inherit it.
func processesIn(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for pid, env := range environs(dir) {
		cmd, _ := os.ReadFile(filepath.Join("/proc", pid, "cmdline"))
		out = append(out, pid+" "+strings.ReplaceAll(string(cmd), "\x00", " ")+" "+env["TMPDIR"])
	}
	return out
}

// tmpdirOf is the TMPDIR of the browser whose home is under dir.
func tmpdirOf(t *testing.T, dir string) string {
	t.Helper()
	for _, env := range environs(dir) {
		return env["TMPDIR"]
	}
	return ""
}

// environs are the environments of the running processes whose home is under dir, by pid.
func environs(dir string) map[string]map[string]string {
	out := map[string]map[string]string{}
	procs, _ := filepath.Glob("/proc/[0-9]*/environ")
	home := "HOME=" + filepath.Join(dir, "home")
	for _, p := range procs {
		raw, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		vars := strings.Split(string(raw), "\x00")
		if !slices.Contains(vars, home) {
			continue
		}
		env := map[string]string{}
		for _, kv := range vars {
			if k, v, ok := strings.Cut(kv, "="); ok {
				env[k] = v
			}
		}
		out[filepath.Base(filepath.Dir(p))] = env
	}
	return out
}
