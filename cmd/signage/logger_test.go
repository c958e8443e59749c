package main

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestLogsWriteDurationsAsDurations: a duration in a log line reads as the config file
// writes it ("10s"), in both formats and inside groups, not as a count of nanoseconds.
func TestLogsWriteDurationsAsDurations(t *testing.T) {
	for _, tc := range []struct{ format, want string }{
		{"json", `"poll_interval":"10s","fetch":{"took":"1.5s"}`},
		{"text", `poll_interval=10s fetch.took=1.5s`},
	} {
		t.Run(tc.format, func(t *testing.T) {
			var b strings.Builder
			log := newLogger(tc.format, &b)
			log.Info("x", slog.Duration("poll_interval", 10*time.Second), slog.Group("fetch", slog.Duration("took", 1500*time.Millisecond)))
			if !strings.Contains(b.String(), tc.want) {
				t.Errorf("log line %q lacks %q", b.String(), tc.want)
			}
		})
	}
}
