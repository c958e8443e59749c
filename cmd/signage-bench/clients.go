package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// runClients is the child process that holds the screens, so that the server's process
// holds only its own side of each connection (and its RSS per screen is clean). It dials
// n screens, prints "ready" and how many negotiated permessage-deflate, waits for a line
// on stdin, then prints the wall-clock time (unix ns) at which each screen had received
// the whole of the next deck.
//
// The screens are gorilla clients, as a browser is: the handshake (offering
// permessage-deflate as Chromium does, or nothing), a heartbeat on open, pongs. During the
// fan-out each reads its first message after "go" whole, inflating it if it came
// compressed as a browser does, and notes when it had it, unless it was not the deck
// (then it counts as missed). They share the server's two cores: the inflation is theirs,
// and it is shown as the screens' CPU.
// wsURLs may name several servers (comma-separated): the screens are spread over them in
// turn, as a load balancer would.
func runClients(n int, wsURLs string, deflate bool, profile string) error {
	var us []*url.URL
	for raw := range strings.SplitSeq(wsURLs, ",") {
		u, err := url.Parse(raw)
		if err != nil {
			return err
		}
		us = append(us, u)
	}
	screens := make([]*benchScreen, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			var s *benchScreen
			var err error
			for attempt := 0; attempt < 5; attempt++ {
				if s, err = dialScreen(us[i%len(us)], deflate); err == nil {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if err != nil {
				errs <- err
				return
			}
			// As the page does on open: a heartbeat, compressed when that was negotiated.
			if err := s.conn.WriteMessage(websocket.TextMessage, heartbeat); err != nil {
				errs <- err
				s.conn.Close()
				return
			}
			s.conn.SetReadDeadline(time.Now().Add(60 * time.Second)) //nolint:errcheck
			if err := s.awaitDeck(); err != nil {                    // the current deck
				errs <- fmt.Errorf("first deck: %w", err)
				s.conn.Close()
				return
			}
			screens[i] = s
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	negotiated := 0
	for _, s := range screens {
		if s.deflate {
			negotiated++
		}
	}
	stdin := bufio.NewReader(os.Stdin)
	fmt.Printf("ready %d\n", negotiated)
	stdin.ReadString('\n') //nolint:errcheck

	stop := startProfile(options{profile: profile}, fmt.Sprintf("screens-fanout-%d-%t", n, deflate))
	cpu0 := cpuTime()
	times := make([]int64, n)
	for i, s := range screens {
		wg.Go(func() {
			s.conn.SetReadDeadline(time.Now().Add(30 * time.Second)) //nolint:errcheck
			if _, r, err := s.conn.NextReader(); err == nil && isDeck(r) {
				times[i] = time.Now().UnixNano()
			}
		})
	}
	wg.Wait()
	cpu := cpuTime() - cpu0
	stop()
	out, _ := json.Marshal(fanoutResult{Times: times, CPU: cpu})
	fmt.Println(string(out))
	stdin.ReadString('\n') //nolint:errcheck // hold the screens until told
	for _, s := range screens {
		// An abortive close leaves no TIME_WAIT behind, so the next run has its ports.
		if tc, ok := s.conn.NetConn().(*net.TCPConn); ok {
			tc.SetLinger(0) //nolint:errcheck
		}
		s.conn.Close()
	}
	return nil
}

// fanoutResult is what the client process reports of a fan-out: when each screen had the
// deck (0: never), and the CPU time the screens spent meanwhile.
type fanoutResult struct {
	Times []int64       `json:"times"`
	CPU   time.Duration `json:"cpu"`
}

// benchScreen is one screen of the client process.
type benchScreen struct {
	conn    *websocket.Conn
	deflate bool // permessage-deflate was negotiated
}

var heartbeat = []byte(`{"type":"heartbeat","version":"bench","viewport":"1920x1080"}`)

func dialScreen(u *url.URL, deflate bool) (*benchScreen, error) {
	d := websocket.Dialer{
		HandshakeTimeout:  30 * time.Second,
		ReadBufferSize:    16 << 10, // a whole deck in one read
		WriteBufferSize:   512,
		EnableCompression: deflate, // gorilla offers it as Chromium does
	}
	conn, resp, err := d.Dial(u.String(), map[string][]string{"User-Agent": {"signage-bench"}})
	if err != nil {
		if resp != nil {
			err = fmt.Errorf("handshake: %s", resp.Status)
		}
		return nil, err
	}
	return &benchScreen{conn: conn,
		deflate: strings.Contains(resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate")}, nil
}

const deckPrefix = `{"type":"deck"`

// isDeck reads a message whole and reports whether it is a deck.
func isDeck(r io.Reader) bool {
	var head [len(deckPrefix)]byte
	n, _ := io.ReadFull(r, head[:])
	_, err := io.Copy(io.Discard, r)
	return err == nil && string(head[:n]) == deckPrefix
}

// awaitDeck reads messages until a whole deck has arrived; gorilla answers the server's
// pings meanwhile.
func (s *benchScreen) awaitDeck() error {
	for {
		_, r, err := s.conn.NextReader()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				return errors.New("closed by the server")
			}
			return err
		}
		if isDeck(r) {
			return nil
		}
	}
}
