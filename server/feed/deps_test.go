package feed_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestFeedKnowsNoHTTPNorScreens: the encoders take plain values; they import neither the
// server, echo, templ nor the views, nor the news of the userlists.
func TestFeedKnowsNoHTTPNorScreens(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, forbidden := range []string{"github.com/labstack/echo", "github.com/a-h/templ", "github.com/gorilla/websocket",
		"github.com/spencer-signage/signage/views", "github.com/spencer-signage/signage/server\n", "github.com/spencer-signage/signage/server/news"} {
		if strings.Contains(string(out)+"\n", forbidden) {
			t.Errorf("package feed depends on %s", strings.TrimSpace(forbidden))
		}
	}
}
