package screens

import (
	"log/slog"
	"testing"

	"github.com/gorilla/websocket"
)

// FuzzScreenMessage feeds arbitrary frames to a screen's message reader: it never panics
// and keeps only bounded values.
func FuzzScreenMessage(f *testing.F) {
	for _, seed := range []string{
		`{"type":"heartbeat","version":"abc","viewport":"1920x1080"}`,
		`{"type":"heartbeat","version":` + `"` + string(make([]byte, 100)) + `"}`,
		`{"type":"reload"}`, `[]`, `null`, `{"type":1}`, "\xff\xfe", `{"type":"heartbeat","viewport":{"a":1}}`,
	} {
		f.Add(websocket.TextMessage, []byte(seed))
	}
	f.Add(websocket.BinaryMessage, []byte{0, 1, 2})
	f.Fuzz(func(t *testing.T, kind int, msg []byte) {
		s := NewHub(Limits{}, NewMessage([]byte(`{"type":"reload"}`)), slog.Default()).NewScreen(nil, Params{ID: "s1", Userlist: "u", Addr: "127.0.0.1", UserAgent: "ua", Version: "v0"})
		s.receive(kind, msg)
		info := s.Info()
		if len(info.Version) > 64 || len(info.Viewport) > 32 {
			t.Fatalf("unbounded values kept: %d, %d", len(info.Version), len(info.Viewport))
		}
	})
}
