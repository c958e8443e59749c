package browsertest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/andybalholm/brotli"
)

// fakeBuild is a chrome-aws-lambda tarball as the registry serves it: chromium.br, a
// swiftshader.tar.br (with a name that tries to leave its directory) and files that are
// not needed.
func fakeBuild(t *testing.T) []byte {
	t.Helper()
	br := func(b []byte) []byte {
		var buf bytes.Buffer
		w := brotli.NewWriter(&buf)
		w.Write(b)
		w.Close()
		return buf.Bytes()
	}
	tarOf := func(files map[string][]byte) []byte {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for name, body := range files {
			tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
			tw.Write(body)
		}
		tw.Close()
		return buf.Bytes()
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(tarOf(map[string][]byte{
		"package/package.json":           []byte(`{"name":"chrome-aws-lambda"}`),
		"package/bin/chromium.br":        br([]byte("#!/bin/sh\necho chromium\n")),
		"package/bin/swiftshader.tar.br": br(tarOf(map[string][]byte{"libEGL.so": []byte("egl"), "../../libGLESv2.so": []byte("gles")})),
		"package/bin/aws.tar.br":         br(tarOf(map[string][]byte{"lib/libnss3.so": []byte("nss")})),
	}))
	zw.Close()
	return gz.Bytes()
}

func integrity(b []byte) string {
	sum := sha512.Sum512(b)
	return "sha512-" + base64.StdEncoding.EncodeToString(sum[:])
}

// fakeRegistry serves tgz for every tarball and counts the downloads.
func fakeRegistry(t *testing.T, tgz []byte) *atomic.Int32 {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/chrome-aws-lambda/-/chrome-aws-lambda-0.0.1.tgz" {
			http.NotFound(w, r)
			return
		}
		n.Add(1)
		w.Write(tgz)
	}))
	t.Cleanup(srv.Close)
	old := registry
	registry = srv.URL
	t.Cleanup(func() { registry = old })
	return &n
}

// TestFetchOldChromiumUnpacksOnceAndWhole: two fetches at once both end with the same
// complete build in the cache (the browser, its SwiftShader libraries inside their own
// directory, nothing else), no half-unpacked directory is left beside it, and a later
// fetch uses the cache without downloading.
func TestFetchOldChromiumUnpacksOnceAndWhole(t *testing.T) {
	tgz := fakeBuild(t)
	downloads := fakeRegistry(t, tgz)
	cache := t.TempDir()
	t.Setenv(CacheEnv, cache)
	e := Engine{Name: "chromium-0", kind: kindOldChromium, build: build{major: 0, version: "0.0.1", integrity: integrity(tgz)}}

	var wg sync.WaitGroup
	dirs := make([]string, 2)
	errs := make([]error, 2)
	for i := range dirs {
		wg.Go(func() { dirs[i], errs[i] = oldChromiumDir(context.Background(), e) })
	}
	wg.Wait()
	for i := range dirs {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
	}
	want := filepath.Join(cache, "chromium-0.0.1")
	if dirs[0] != want || dirs[1] != want {
		t.Fatalf("fetched into %q, want %q", dirs, want)
	}
	var files []string
	filepath.Walk(cache, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			rel, _ := filepath.Rel(cache, p)
			files = append(files, rel)
		}
		return err
	})
	if got := filepath.Join(files...); got != filepath.Join("chromium-0.0.1/chromium", "chromium-0.0.1/swiftshader/libEGL.so", "chromium-0.0.1/swiftshader/libGLESv2.so") {
		t.Errorf("the cache holds %q", files)
	}
	if b, _ := os.ReadFile(filepath.Join(want, "chromium")); string(b) != "#!/bin/sh\necho chromium\n" {
		t.Errorf("chromium is %q", b)
	}
	if info, err := os.Stat(filepath.Join(want, "chromium")); err != nil || info.Mode().Perm()&0o100 == 0 {
		t.Errorf("chromium is not executable: %v %v", info.Mode(), err)
	}
	before := downloads.Load()
	if _, err := oldChromiumDir(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	if downloads.Load() != before {
		t.Errorf("a cached build was downloaded again")
	}
}

// TestFetchOldChromiumRefusesAnotherTarball: a tarball that is not the one whose integrity
// was written down is refused, and nothing of it is kept.
func TestFetchOldChromiumRefusesAnotherTarball(t *testing.T) {
	fakeRegistry(t, fakeBuild(t))
	cache := t.TempDir()
	t.Setenv(CacheEnv, cache)
	e := Engine{Name: "chromium-0", kind: kindOldChromium, build: build{major: 0, version: "0.0.1", integrity: integrity([]byte("another"))}}
	if _, err := oldChromiumDir(context.Background(), e); err == nil {
		t.Fatal("a tarball with another sha512 was accepted")
	}
	if left, _ := os.ReadDir(cache); len(left) != 0 {
		t.Errorf("the cache keeps %v", left)
	}
}
