package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestBadConfigExitsTwoNamingEveryProblem: a misspelled key and a missing secret are
// both reported, one line each, and the exit status is 2.
func TestBadConfigExitsTwoNamingEveryProblem(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(path, []byte("[spencer]\ndemo = false\ncustomer = \"acme\"\nclient_id = \"id\"\npol_interval = \"30s\"\n"), 0o600) //nolint:errcheck
	var stderr strings.Builder
	status := Run(context.Background(), []string{"-config", path}, func(string) string { return "" }, io.Discard, &stderr)
	if status != 2 {
		t.Errorf("exit status %d, want 2", status)
	}
	out := stderr.String()
	for _, want := range []string{"config: unknown key spencer.pol_interval", "config: spencer.client_secret is empty: set it, or SPENCER_CLIENT_SECRET"} {
		if !strings.Contains(out, want) {
			t.Errorf("stderr lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(strings.TrimSpace(out), "\n") + 1; n != 2 {
		t.Errorf("%d lines, want one per problem:\n%s", n, out)
	}
}

// TestShortAdminTokenRefusedAtStart: an admin token of two characters, from the file or
// from SIGNAGE_ADMIN_TOKEN, stops the start with a line that names both and not the value.
func TestShortAdminTokenRefusedAtStart(t *testing.T) {
	for name, tc := range map[string]struct{ token, env string }{
		"in the file":            {token: "ab"},
		"in SIGNAGE_ADMIN_TOKEN": {env: "ab"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "config.toml")
			// Should the token pass, the server starts on a port of its own, and the
			// context ends it.
			file := fmt.Sprintf("[server]\nlisten = \"127.0.0.1:0\"\ndata_dir = %q\nadmin_token = %q\n", filepath.Join(dir, "data"), tc.token)
			os.WriteFile(path, []byte(file), 0o600) //nolint:errcheck
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			getenv := func(k string) string {
				if k == "SIGNAGE_ADMIN_TOKEN" {
					return tc.env
				}
				return ""
			}
			var stderr strings.Builder
			status := Run(ctx, []string{"-config", path}, getenv, io.Discard, &stderr)
			out := stderr.String()
			if status != 2 || !strings.Contains(out, "config: server.admin_token is shorter than 16 characters") || !strings.Contains(out, "SIGNAGE_ADMIN_TOKEN") {
				t.Errorf("exit status %d, stderr %q: want 2 and a line naming server.admin_token and SIGNAGE_ADMIN_TOKEN", status, out)
			}
			if strings.Contains(out, `"ab"`) {
				t.Errorf("the token is shown: %q", out)
			}
		})
	}
}

func TestMissingConfigFile(t *testing.T) {
	var stderr strings.Builder
	status := Run(context.Background(), []string{"-config", "/nonexistent/config.toml"}, func(string) string { return "" }, io.Discard, &stderr)
	if status != 2 || !strings.Contains(stderr.String(), "/nonexistent/config.toml") {
		t.Errorf("status %d, stderr %q", status, stderr.String())
	}
}

// TestContainerWithoutConfigSaysWhatToMount: the image bakes in no config (the shipped one
// is the demo), so a container started without one runs the Dockerfile's entrypoint with
// nothing at its -config path: it exits 2 and says what to mount.
func TestContainerWithoutConfigSaysWhatToMount(t *testing.T) {
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	dockerfile := string(b)
	for _, line := range strings.Split(dockerfile, "\n") {
		if strings.HasPrefix(line, "COPY") && strings.Contains(line, ".toml") {
			t.Errorf("the image bakes in a config: %s", line)
		}
	}
	var args []string
	for _, line := range strings.Split(dockerfile, "\n") {
		if rest, ok := strings.CutPrefix(line, "ENTRYPOINT "); ok {
			if err := json.Unmarshal([]byte(rest), &args); err != nil {
				t.Fatalf("ENTRYPOINT %s: %v", rest, err)
			}
		}
	}
	if len(args) < 3 || args[1] != "-config" {
		t.Fatalf("ENTRYPOINT %v does not name its config", args)
	}
	// The container's file system, without the mount.
	missing := filepath.Join(t.TempDir(), strings.TrimPrefix(args[2], "/"))
	var stderr strings.Builder
	status := Run(context.Background(), append(args[1:2], missing), func(string) string { return "" }, io.Discard, &stderr)
	if status != 2 || !strings.Contains(stderr.String(), "mount it there") {
		t.Errorf("status %d, stderr %q", status, stderr.String())
	}
}

// TestDemoModeServesTheShippedConfig runs the product as `make run` does (the shipped
// config, demo mode, no credentials) on a random port, reads a screen and a feed, and
// shuts it down with its context as SIGTERM would.
func TestDemoModeServesTheShippedConfig(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, logged, done := startShippedConfig(t, ctx)
	var demoLogged bool
	for _, line := range logged {
		if msg, _ := line["msg"].(string); strings.HasPrefix(msg, "DEMO MODE") {
			demoLogged = true
			if line["poll_interval"] != "10s" {
				t.Errorf("the demo line's poll_interval is %#v, want \"10s\" as the config writes it", line["poll_interval"])
			}
		}
	}
	if !demoLogged {
		t.Error("the log does not say loudly that this is demo mode")
	}
	for _, tc := range []struct{ path, want string }{
		{"/", "3f0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3f"},
		{"/screens/3f0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3f", "Town hall on Friday"},
		{"/screens/9b2d7c41-5e8a-4f3b-a6c1-0d2e4f6a8b9c", "vegan curry"},
		{"/api/feed.json", "visitors signed in"},
		{"/readyz", "ready"},
	} {
		resp, err := http.Get(base + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), tc.want) {
			t.Errorf("%s: status %d, holds %q: %v", tc.path, resp.StatusCode, tc.want, strings.Contains(string(b), tc.want))
		}
	}
	// The demo's images, shipped in the binary, go the way of real news's: fetched by the
	// server from the fake, and served from our own origin in the widths screens take.
	media := regexp.MustCompile(`srcset="(/media/[0-9a-f]{32}-640\.jpg) 640w`)
	var image string
	deadline := time.Now().Add(30 * time.Second)
	for image == "" && time.Now().Before(deadline) {
		resp, err := http.Get(base + "/screens/3f0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3f")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if m := media.FindSubmatch(b); m != nil {
			image = string(m[1])
		} else {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if image == "" {
		t.Fatal("the demo screen shows no image from /media/")
	}
	resp, err := http.Get(base + image)
	if err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/jpeg" {
		t.Errorf("demo image %s: %v %v", image, err, resp)
	}
	if resp != nil {
		resp.Body.Close()
	}

	start := time.Now()
	cancel()
	select {
	case status := <-done:
		if status != 0 {
			t.Errorf("exit status %d after shutdown, want 0", status)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("shutdown took %v", d)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no exit within 15 s of shutdown")
	}
}

// startShippedConfig runs the product in this process as `make run` does: the shipped
// config (demo mode), on a random loopback port, its data_dir in a t.TempDir. It returns the
// base URL, the log lines up to the "serving" one, and the exit status once ctx ends.
func startShippedConfig(t *testing.T, ctx context.Context) (string, []map[string]any, <-chan int) {
	t.Helper()
	dir := t.TempDir()
	data, err := os.ReadFile("../../config.toml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(data), `data_dir = "data"`, `data_dir = "`+filepath.Join(dir, "data")+`"`, 1)
	path := filepath.Join(dir, "config.toml")
	os.WriteFile(path, []byte(cfg), 0o600) //nolint:errcheck
	env := map[string]string{"SIGNAGE_LISTEN": "127.0.0.1:0"}

	logR, logW := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"-config", path}, func(k string) string { return env[k] }, io.Discard, logW)
		logW.Close()
	}()
	var base string
	var lines []map[string]any
	sc := bufio.NewScanner(logR)
	for base == "" && sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		lines = append(lines, line)
		if line["msg"] == "serving" {
			base = strings.TrimSuffix(line["url"].(string), "/")
		}
	}
	go io.Copy(io.Discard, logR) //nolint:errcheck
	if base == "" {
		t.Fatal("no serving line in the log")
	}
	return base, lines, done
}

// TestPortInUseSaysHowToPickAnother: a port another process holds (the usual first-hour
// stumble: something else on 8080) is said with the two ways to choose another.
func TestPortInUseSaysHowToPickAnother(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	env := map[string]string{"SIGNAGE_LISTEN": taken.Addr().String()}
	var stderr strings.Builder
	status := Run(startOnly(t), []string{"-config", dataDirConfig(t, filepath.Join(t.TempDir(), "data"))}, func(k string) string { return env[k] }, io.Discard, &stderr)
	if status == 0 || !strings.Contains(stderr.String(), "set server.listen or SIGNAGE_LISTEN") || !strings.Contains(stderr.String(), taken.Addr().String()) {
		t.Errorf("status %d, stderr %q", status, stderr.String())
	}
}
