package server_test

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// TestDataDirThatFailsLaterIsNotReady: a data_dir that stops taking writes while the server
// runs (the volume gone, the disk full) makes /readyz not ready and is shown on /admin and
// in status.json, because what should survive a restart is no longer kept; once a write
// succeeds again, all is well again. The directory is replaced by a regular file: as root,
// a permission would not stop the server.
func TestDataDirThatFailsLaterIsNotReady(t *testing.T) {
	e := newEnv(t, 100*time.Millisecond)
	waitFor(t, 10*time.Second, "ready", func() bool { r, _ := e.get("/readyz"); return r.StatusCode == http.StatusOK })
	dir := e.cfg.Server.DataDir
	// The server may make the directory again between the two steps (a snapshot, a map of
	// the engine): try until the file takes its place.
	waitFor(t, 10*time.Second, "data_dir replaced by a file", func() bool {
		if os.RemoveAll(dir) != nil {
			return false // a file written meanwhile: "directory not empty"
		}
		return os.WriteFile(dir, []byte("not a directory"), 0o600) == nil
	})
	e.fake.SetPublications(lobby, []map[string]any{{"id": "n", "title": "Canteen closed on Monday"}})

	waitFor(t, 10*time.Second, "/readyz to say data_dir_unwritable", func() bool {
		r, body := e.get("/readyz")
		return r.StatusCode == http.StatusServiceUnavailable && body == "not ready: data_dir_unwritable\n"
	})
	if _, page := e.get("/admin"); !strings.Contains(page, `data-testid="data-dir" data-state="unwritable"`) {
		t.Error("/admin does not say that the data directory cannot be written")
	}
	_, body := e.get("/admin/status.json")
	var st struct {
		Error string     `json:"data_dir_error"`
		Since *time.Time `json:"data_dir_failing_since"`
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil || !strings.Contains(st.Error, "not a directory") || st.Since == nil {
		t.Errorf("status.json: %v %+v", err, st)
	}

	os.Remove(dir) //nolint:errcheck
	e.fake.SetPublications(lobby, []map[string]any{{"id": "o", "title": "Canteen open again"}})
	waitFor(t, 10*time.Second, "ready again once a write succeeds", func() bool { r, _ := e.get("/readyz"); return r.StatusCode == http.StatusOK })
	if _, page := e.get("/admin"); strings.Contains(page, `data-testid="data-dir"`) {
		t.Error("/admin still says the data directory cannot be written")
	}
}
