package news_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNewsRendersNothing: the news of each userlist is kept apart from how it is shown and
// served. The package imports neither echo, templ nor gorilla/websocket, nor the views.
func TestNewsRendersNothing(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, forbidden := range []string{"github.com/labstack/echo", "github.com/a-h/templ", "github.com/gorilla/websocket", "github.com/spencer-signage/signage/views"} {
		if strings.Contains(string(out), forbidden) {
			t.Errorf("package news depends on %s", forbidden)
		}
	}
}
