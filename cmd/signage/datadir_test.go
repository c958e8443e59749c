package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// dataDirConfig is a demo config whose data_dir is dir; the file is readable by anyone, for
// a server run as another user.
func dataDirConfig(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(openTempDir(t), "config.toml")
	cfg := fmt.Sprintf("[server]\nlisten = \"127.0.0.1:0\"\ndata_dir = %q\n", dir)
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestDataDirThatCannotBeWrittenStopsTheStart: a data_dir the server cannot write is said
// at start, in one line naming server.data_dir and the path, with exit status 2, instead of
// a server that says ready and then loses every snapshot and announcement.
func TestDataDirThatCannotBeWrittenStopsTheStart(t *testing.T) {
	t.Run("under a regular file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "file")
		os.WriteFile(file, nil, 0o600) //nolint:errcheck
		dir := filepath.Join(file, "data")
		var stderr strings.Builder
		status := Run(startOnly(t), []string{"-config", dataDirConfig(t, dir)}, func(string) string { return "" }, io.Discard, &stderr)
		checkDataDirLine(t, status, stderr.String(), dir)
	})

	// The mistake of a volume: the directory exists, owned by root, and the server runs as
	// another user. Root passes every permission check, so as root the server runs as
	// nobody (65534), as a container's non-root user would; otherwise the directory is
	// made read-only to us.
	t.Run("a directory of another user", func(t *testing.T) {
		parent := openTempDir(t)
		dir := filepath.Join(parent, "data")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		config := dataDirConfig(t, dir)
		if os.Geteuid() != 0 {
			os.Chmod(dir, 0o555) //nolint:errcheck
			var stderr strings.Builder
			status := Run(startOnly(t), []string{"-config", config}, func(string) string { return "" }, io.Discard, &stderr)
			checkDataDirLine(t, status, stderr.String(), dir)
			return
		}
		bin := binary(t)
		cmd := exec.CommandContext(startOnly(t), bin, "-config", config)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		status := 0
		if ee, ok := err.(*exec.ExitError); ok {
			status = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		checkDataDirLine(t, status, string(out), dir)
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("%s holds %v", dir, entries)
		}
	})
}

// startOnly is the context of a server expected to stop at start: should it serve, it is
// stopped after a while, and the test fails rather than hangs.
func startOnly(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// openTempDir is a t.TempDir that another user may enter (the testing package makes the
// test's directories 0700).
func openTempDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func checkDataDirLine(t *testing.T, status int, out, dir string) {
	t.Helper()
	if status != 2 {
		t.Errorf("exit status %d, want 2", status)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "config: server.data_dir: "+dir+" cannot be written") {
		t.Errorf("want one line naming server.data_dir and %s, got:\n%s", dir, out)
	}
}

// TestDataDirIsCreatedAndLeftClean: a data_dir that does not exist yet is created, and the
// probe that proves it can be written is not left in it.
func TestDataDirIsCreatedAndLeftClean(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "var", "lib", "signage")
	if err := ensureDataDir(dir); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 0 {
		t.Errorf("data_dir after the check: %v %v", entries, err)
	}
}
