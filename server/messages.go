package server

import (
	"encoding/json"
	"log/slog"
	"time"

	"github.com/spencer-signage/signage/server/screens"
)

// NewHub returns the hub of screens with the limits of the config's server.max_screens and
// server.max_screens_per_address (0: none), and the messages it sends of its own accord.
func NewHub(maxScreens, maxPerAddr int, log *slog.Logger) *screens.Hub {
	return screens.NewHub(screens.Limits{MaxScreens: maxScreens, MaxPerAddress: maxPerAddr}, reloadMessage, log)
}

// reloadMessage tells a page to reload itself: its build changed, or the operator asked.
var reloadMessage = screens.NewMessage([]byte(`{"type":"reload"}`))

// statusMessageOf is the `status` message of c: whether upstream fails, and since when.
func statusMessageOf(c *Edition) *screens.Message {
	m := statusMessage{Type: "status", Stale: c.Stale}
	if c.Stale && !c.StaleSince.IsZero() {
		m.Since = c.StaleSince.UTC().Format(time.RFC3339)
	}
	b, _ := json.Marshal(m)
	return screens.NewMessage(b)
}
