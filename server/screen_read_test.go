package server_test

import (
	"errors"
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

// TestScreenProtocolErrors: a frame a client may not send closes the socket with 1002, a
// polite close is answered with the same code, and the screen leaves the hub each time.
// Each frame is cut where the server decides, so that no unread byte turns the server's
// close into a reset.
func TestScreenProtocolErrors(t *testing.T) {
	e := newEnv(t, time.Minute)
	for _, c := range []struct {
		name  string
		frame []byte
		want  int
	}{
		{"unmasked text", []byte("\x81\x05"), websocket.CloseProtocolError},
		{"reserved bit", []byte("\xa1\x80"), websocket.CloseProtocolError},
		{"compressed without negotiation", []byte("\xc1\x80"), websocket.CloseProtocolError},
		{"continuation first", []byte("\x80\x80"), websocket.CloseProtocolError},
		{"fragmented ping", []byte("\x09\x80"), websocket.CloseProtocolError},
		{"unknown opcode", []byte("\x83\x80"), websocket.CloseProtocolError},
		{"2 KiB announced", []byte("\x81\xfe\x08\x00"), websocket.CloseMessageTooBig},
		{"close 1000", []byte("\x88\x82\x00\x00\x00\x00\x03\xe8"), websocket.CloseNormalClosure},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn := e.dial(lobby, "")
			defer conn.Close()
			readMessage(t, conn, 5*time.Second)
			if _, err := conn.NetConn().Write(c.frame); err != nil {
				t.Fatal(err)
			}
			conn.SetReadDeadline(time.Now().Add(5 * time.Second)) //nolint:errcheck
			_, _, err := conn.ReadMessage()
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != c.want {
				t.Errorf("read after the frame: %v, want close %d", err, c.want)
			}
			waitFor(t, 5*time.Second, "the screen to leave", func() bool { return e.srv.Hub().Total() == 0 })
		})
	}
}
