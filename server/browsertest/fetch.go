package browsertest

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/andybalholm/brotli"
)

// CacheEnv names the environment variable that moves the cache of old Chromium builds.
const CacheEnv = "SIGNAGE_BROWSER_CACHE"

// registry is where the old builds come from (a test points it at a fake).
var registry = "https://registry.npmjs.org"

// CacheDir is where old Chromium builds are kept between runs, outside the repository:
// $SIGNAGE_BROWSER_CACHE, else spencer-signage in the user's cache directory
// ($XDG_CACHE_HOME, or ~/.cache).
func CacheDir() (string, error) {
	if d := os.Getenv(CacheEnv); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory for the old Chromium builds (set %s): %w", CacheEnv, err)
	}
	return filepath.Join(d, "spencer-signage"), nil
}

// Fetch brings what engine e needs beyond Debian's packages onto this machine: the build of
// an old Chromium, into the cache. For the other engines there is nothing to fetch. Launch
// fetches too; this is for fetching once before launching several browsers at once, or
// ahead of the tests.
func Fetch(ctx context.Context, e Engine) error {
	if e.kind != kindOldChromium {
		return nil
	}
	_, err := oldChromiumDir(ctx, e)
	return err
}

// oldChromiumDir returns the directory of the old Chromium build of e, fetching it from
// the npm registry the first time: the tarball is checked against the integrity written in
// builds, unpacked into a directory of its own next to its final place, and renamed into
// place whole. Two test processes fetching at once each unpack their own copy; the first
// rename wins and the other copy is thrown away, so that a directory in the cache is
// always complete.
func oldChromiumDir(ctx context.Context, e Engine) (string, error) {
	if e.kind != kindOldChromium {
		return "", fmt.Errorf("browsertest: %s is not an old Chromium build", e.Name)
	}
	root, err := CacheDir()
	if err != nil {
		return "", err
	}
	final := filepath.Join(root, "chromium-"+e.build.version)
	if _, err := os.Stat(filepath.Join(final, "chromium")); err == nil {
		return final, nil
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	work, err := os.MkdirTemp(root, ".chromium-"+e.build.version+"-*")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work) // what is left of it when it was not renamed into place
	if err := fetchBuild(ctx, e.build, work); err != nil {
		return "", fmt.Errorf("fetching Chromium %d (chrome-aws-lambda@%s) from %s: %w", e.build.major, e.build.version, registry, err)
	}
	if err := os.Rename(work, final); err != nil {
		if _, serr := os.Stat(filepath.Join(final, "chromium")); serr == nil {
			return final, nil // another process put its copy there first
		}
		return "", err
	}
	return final, nil
}

// fetchBuild downloads b's tarball into dir, checks it, and unpacks what the browser needs:
// chromium, and where the build has them the SwiftShader libraries (swiftshader/) that it
// loads from beside itself for software rendering. The tarball's aws.tar.br (libraries and
// fonts for AWS Lambda's Amazon Linux) is not used: on Debian, the system's libraries (the
// ones Debian's chromium package installs) serve, and are newer.
func fetchBuild(ctx context.Context, b build, dir string) error {
	algo, want, ok := strings.Cut(b.integrity, "-")
	if !ok || algo != "sha512" {
		return fmt.Errorf("integrity %q is not sha512", b.integrity)
	}
	tgz, err := os.CreateTemp(dir, "package-*.tgz")
	if err != nil {
		return err
	}
	defer tgz.Close()
	url := fmt.Sprintf("%s/chrome-aws-lambda/-/chrome-aws-lambda-%s.tgz", registry, b.version)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	sum := sha512.New()
	if _, err := io.Copy(io.MultiWriter(tgz, sum), io.LimitReader(resp.Body, 200<<20)); err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	if got := base64.StdEncoding.EncodeToString(sum.Sum(nil)); got != want {
		return fmt.Errorf("%s: sha512 %s, want %s: not the tarball that was chosen", url, got, want)
	}
	if _, err := tgz.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if err := unpackBuild(tgz, dir); err != nil {
		return fmt.Errorf("unpacking %s: %w", url, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "chromium")); err != nil {
		return fmt.Errorf("%s holds no package/bin/chromium.br", url)
	}
	return os.Remove(tgz.Name())
}

// unpackBuild takes package/bin/chromium.br and package/bin/swiftshader.tar.br out of the
// package's tarball into dir.
func unpackBuild(tgz io.Reader, dir string) error {
	gz, err := gzip.NewReader(tgz)
	if err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch h.Name {
		case "package/bin/chromium.br":
			if err := writeFile(filepath.Join(dir, "chromium"), brotli.NewReader(tr), 0o755); err != nil {
				return err
			}
		case "package/bin/swiftshader.tar.br":
			if err := unpackLibraries(brotli.NewReader(tr), filepath.Join(dir, "swiftshader")); err != nil {
				return fmt.Errorf("swiftshader.tar.br: %w", err)
			}
		}
	}
}

// unpackLibraries writes the shared libraries of a tar stream into dir, by their base
// names (nothing is written outside dir, whatever the names in the archive).
func unpackLibraries(r io.Reader, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := path.Base(h.Name)
		if h.Typeflag != tar.TypeReg || !strings.HasSuffix(name, ".so") {
			continue
		}
		if err := writeFile(filepath.Join(dir, name), tr, 0o755); err != nil {
			return err
		}
	}
}

func writeFile(name string, r io.Reader, mode os.FileMode) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, io.LimitReader(r, 1<<30)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
