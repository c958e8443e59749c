package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestScreenHeartbeatsAsBrowsersSendThem: a heartbeat reaches /admin's list whether it
// comes plain, compressed (as Chromium sends it once permessage-deflate is negotiated) or
// in fragments, and a screen's ping is answered with its payload.
func TestScreenHeartbeatsAsBrowsersSendThem(t *testing.T) {
	e := newEnv(t, time.Minute)
	u := "ws" + strings.TrimPrefix(e.base, "http") + "/screens/" + lobby + "/ws"
	for i, c := range []struct {
		name   string
		dialer websocket.Dialer
	}{
		{"plain", websocket.Dialer{}},
		{"compressed", websocket.Dialer{EnableCompression: true}},
		{"fragmented", websocket.Dialer{WriteBufferSize: 16}}, // frames of 16 bytes
	} {
		t.Run(c.name, func(t *testing.T) {
			sid := fmt.Sprintf("0000000%d-0000-4000-8000-000000000000", i)
			conn, _, err := c.dialer.Dial(u+"?sid="+sid, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			readMessage(t, conn, 5*time.Second)
			viewport := fmt.Sprintf("%dx1080", 1000+i)
			if err := conn.WriteJSON(map[string]string{"type": "heartbeat", "version": "v-" + c.name, "viewport": viewport}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 5*time.Second, "the heartbeat on the list", func() bool {
				for _, s := range e.srv.Hub().List() {
					if s.SID == sid {
						return s.Viewport == viewport && s.Version == "v-"+c.name && s.Heartbeats == 1
					}
				}
				return false
			})
			pong := make(chan string, 1)
			conn.SetPongHandler(func(data string) error { pong <- data; return nil })
			if err := conn.WriteControl(websocket.PingMessage, []byte("are you there"), time.Now().Add(time.Second)); err != nil {
				t.Fatal(err)
			}
			go conn.ReadMessage() //nolint:errcheck // control frames are handled while reading
			select {
			case got := <-pong:
				if got != "are you there" {
					t.Errorf("pong %q", got)
				}
			case <-time.After(5 * time.Second):
				t.Errorf("no pong")
			}
		})
	}
}
