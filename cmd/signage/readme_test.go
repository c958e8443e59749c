package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// exampleMarker, on the line before a README's ```sh fence, says that the block runs as
// pasted against the demo server (`make run`): TestReadmeExamples runs it.
const exampleMarker = "<!-- example: run by TestReadmeExamples against the demo server -->"

// readmeBlock is one fenced sh block of the README.
type readmeBlock struct {
	line   int // of the fence, 1-based
	marked bool
	text   string
}

func readmeShellBlocks(t *testing.T) []readmeBlock {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	var blocks []readmeBlock
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "```sh" {
			continue
		}
		blk := readmeBlock{line: i + 1, marked: i > 0 && strings.TrimSpace(lines[i-1]) == exampleMarker}
		var body []string
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			body = append(body, lines[i])
		}
		blk.text = strings.Join(body, "\n") + "\n"
		blocks = append(blocks, blk)
	}
	return blocks
}

// TestReadmeExamples runs the README's marked shell examples as pasted, with real bash and
// curl, against the demo server, so that the documentation cannot drift from the product:
// every curl to the demo's address must be in a marked block, and every curl in one must
// get a 2xx (a curl that sees 400 prints the error and exits 0: here it fails the block).
func TestReadmeExamples(t *testing.T) {
	realCurl, err := exec.LookPath("curl")
	if err != nil {
		t.Fatal("curl not found: install it (apt-get install curl)")
	}
	var examples []readmeBlock
	for _, b := range readmeShellBlocks(t) {
		switch {
		case b.marked:
			examples = append(examples, b)
		case strings.Contains(b.text, "curl ") && strings.Contains(b.text, "localhost:8080"):
			t.Errorf("README.md:%d: a curl example of the demo server without the marker line %q before it", b.line, exampleMarker)
		}
	}
	if len(examples) == 0 {
		t.Fatalf("README.md has no block marked %q", exampleMarker)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, _, done := startShippedConfig(t, ctx)
	defer func() { cancel(); <-done }()
	addr := strings.TrimPrefix(base, "http://")

	// curl as the reader's, but failing on an HTTP error as a reader would notice one.
	shims := t.TempDir()
	shim := "#!/bin/sh\nexec " + realCurl + " --fail-with-body -sS \"$@\"\n"
	if err := os.WriteFile(filepath.Join(shims, "curl"), []byte(shim), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, ex := range examples {
		script := strings.ReplaceAll(ex.text, "localhost:8080", addr)
		rctx, rcancel := context.WithTimeout(ctx, time.Minute)
		cmd := exec.CommandContext(rctx, "bash", "-e", "-o", "pipefail", "-c", script)
		cmd.Env = append(os.Environ(), "PATH="+shims+":"+os.Getenv("PATH"))
		cmd.Dir = t.TempDir()
		out, err := cmd.CombinedOutput()
		rcancel()
		if err != nil {
			t.Errorf("README.md:%d: the example fails (%v):\n%s\n--- its output ---\n%s", ex.line, err, ex.text, out)
		} else {
			t.Logf("README.md:%d:\n%s", ex.line, out)
		}
	}

	// What the announcements example leaves: the one it posted, ended.
	resp, err := http.Get(base + "/admin/announcements")
	if err != nil {
		t.Fatal(err)
	}
	var list []map[string]any
	decodeJSON(t, resp, &list)
	if len(list) != 0 {
		t.Errorf("active announcements after the examples: %v", list)
	}
}

func decodeJSON(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("%s: %v", resp.Request.URL, err)
	}
}
