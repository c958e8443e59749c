package browsertest_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNotInTheProduct: the binary built from cmd/signage holds none of this package, nor
// the browser drivers it brings.
func TestNotInTheProduct(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "../../cmd/signage").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, forbidden := range []string{"github.com/spencer-signage/signage/server/browsertest", "github.com/chromedp/", "github.com/andybalholm/brotli"} {
		if strings.Contains(string(out), forbidden) {
			t.Errorf("cmd/signage depends on %s", forbidden)
		}
	}
}
