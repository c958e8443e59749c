package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
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
	dir := t.TempDir()
	data, err := os.ReadFile("../../config.toml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(data), `data_dir = "data"`, `data_dir = "`+filepath.Join(dir, "data")+`"`, 1)
	path := filepath.Join(dir, "config.toml")
	os.WriteFile(path, []byte(cfg), 0o600) //nolint:errcheck
	env := map[string]string{"SIGNAGE_LISTEN": "127.0.0.1:0"}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logR, logW := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"-config", path}, func(k string) string { return env[k] }, io.Discard, logW)
		logW.Close()
	}()
	var base string
	var demoLogged bool
	sc := bufio.NewScanner(logR)
	for base == "" && sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		if msg, _ := line["msg"].(string); strings.HasPrefix(msg, "DEMO MODE") {
			demoLogged = true
		}
		if line["msg"] == "serving" {
			base = strings.TrimSuffix(line["url"].(string), "/")
		}
	}
	go io.Copy(io.Discard, logR) //nolint:errcheck
	if base == "" {
		t.Fatal("no serving line in the log")
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
