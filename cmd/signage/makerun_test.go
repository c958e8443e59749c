package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMakeRunStopsOnASignal: `make run` stops the server on Ctrl-C (the terminal sends
// SIGINT to the whole foreground process group) and on a SIGTERM to make's process alone
// (make passes SIGTERM on to its child: with `go run` as that child, go died and left the
// server running). Nothing of it is left.
func TestMakeRunStopsOnASignal(t *testing.T) {
	for _, tc := range []struct {
		name  string
		sig   syscall.Signal
		group bool
	}{
		{"Ctrl-C", syscall.SIGINT, true},
		{"SIGTERM to make", syscall.SIGTERM, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			data, err := os.ReadFile("../../config.toml")
			if err != nil {
				t.Fatal(err)
			}
			cfg := strings.Replace(string(data), `data_dir = "data"`, `data_dir = "`+filepath.Join(dir, "data")+`"`, 1)
			config := filepath.Join(dir, "config.toml")
			os.WriteFile(config, []byte(cfg), 0o600) //nolint:errcheck

			cmd := exec.Command("make", "--no-print-directory", "run", "CONFIG="+config, "BIN="+filepath.Join(dir, "signage"))
			cmd.Dir = "../.."
			cmd.Env = append(withoutMake(os.Environ()), "SIGNAGE_LISTEN=127.0.0.1:0")
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // a group of its own, as a terminal's job
			// A pipe of our own, not cmd's: cmd.Wait would close it when make ends, and a
			// server left behind would die of SIGPIPE at its next log line, unseen.
			out, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { out.Close() })
			cmd.Stdout, cmd.Stderr = w, w
			start := time.Now()
			err = cmd.Start()
			w.Close()
			if err != nil {
				t.Fatal(err)
			}
			pgid := cmd.Process.Pid
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			t.Cleanup(func() { syscall.Kill(-pgid, syscall.SIGKILL) }) //nolint:errcheck // whatever is left

			base := make(chan string, 1)
			logged := &syncBuffer{}
			go func() {
				sc := bufio.NewScanner(out)
				for sc.Scan() {
					logged.Write([]byte(sc.Text() + "\n")) //nolint:errcheck
					var line map[string]any
					if json.Unmarshal(sc.Bytes(), &line) == nil && line["msg"] == "serving" {
						base <- strings.TrimSuffix(line["url"].(string), "/")
					}
				}
				io.Copy(io.Discard, out) //nolint:errcheck
			}()
			var url string
			select {
			case url = <-base:
			case err := <-exited:
				t.Fatalf("make run ended (%v) before serving", err)
			case <-time.After(10 * time.Minute): // a cold build on a loaded machine
				t.Fatal("make run did not serve within 10 minutes")
			}
			resp, err := http.Get(url + "/healthz")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			t.Logf("make run: first answer after %v (build included)", time.Since(start).Round(100*time.Millisecond))

			target := pgid
			if tc.group {
				target = -pgid
			}
			if err := syscall.Kill(target, tc.sig); err != nil {
				t.Fatal(err)
			}
			select {
			case <-exited:
			case <-time.After(20 * time.Second):
				t.Fatal("make run still runs 20 s after the signal")
			}
			deadline := time.Now().Add(15 * time.Second)
			for syscall.Kill(-pgid, 0) == nil {
				if time.Now().After(deadline) {
					t.Fatalf("make has ended, but a process of its group still runs (the server, orphaned); its log:\n%s", logged.String())
				}
				time.Sleep(50 * time.Millisecond)
			}
			if resp, err := http.Get(url + "/healthz"); err == nil {
				resp.Body.Close()
				t.Errorf("the server still answers after make run ended")
			} else if !errors.Is(err, syscall.ECONNREFUSED) {
				t.Logf("after the end: %v", err)
			}
		})
	}
}

// withoutMake is the environment without the variables of a make that runs these tests
// (make test), which a make started here would take for its own jobserver.
func withoutMake(env []string) []string {
	var out []string
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k != "MAKEFLAGS" && k != "MFLAGS" && k != "MAKELEVEL" {
			out = append(out, kv)
		}
	}
	return out
}
