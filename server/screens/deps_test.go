package screens_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestScreensKnowNoServer: the transport of the screens knows nothing of pages, routes or
// news. It imports neither echo, templ, the views, the news nor the server, so that the
// arrows point one way (server → screens).
func TestScreensKnowNoServer(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		switch {
		case strings.HasPrefix(dep, "github.com/labstack/echo"), strings.HasPrefix(dep, "github.com/a-h/templ"),
			dep == "github.com/spencer-signage/signage/views", dep == "github.com/spencer-signage/signage/server",
			strings.HasPrefix(dep, "github.com/spencer-signage/signage/server/news"):
			t.Errorf("package screens depends on %s", dep)
		}
	}
}
