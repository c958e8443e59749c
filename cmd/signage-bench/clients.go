package main

import (
	"bufio"
	"bytes"
	"compress/flate"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

// runClients is the child process that holds the screens, so that the server's process
// holds only its own side of each connection (and its RSS per screen is clean). It dials
// n screens, prints "ready" and how many negotiated permessage-deflate, waits for a line
// on stdin, then prints the wall-clock time (unix ns) at which each screen had received
// the whole of the next deck.
//
// The screens speak just enough RFC 6455 to be screens: the handshake, frames in, pongs
// and a heartbeat out. They share the server's two cores and stand for kiosks that each
// have their own, so during the fan-out a screen only reads: it notes when its first
// message after "go" was whole and keeps the bytes; whether that message was the deck is
// checked (inflating it if it came compressed) once every screen has reported, and a
// screen whose first message was anything else counts as missed.
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
			if _, err := s.conn.Write(heartbeatFrame(s.deflate)); err != nil {
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
	first := make([]message, n)
	for i, s := range screens {
		wg.Go(func() {
			s.conn.SetReadDeadline(time.Now().Add(30 * time.Second)) //nolint:errcheck
			if m, err := s.awaitMessage(); err == nil {
				times[i], first[i] = time.Now().UnixNano(), m
			}
		})
	}
	wg.Wait()
	cpu := cpuTime() - cpu0
	stop()
	for i, m := range first {
		if times[i] != 0 && !m.isDeck() {
			times[i] = 0
		}
	}
	out, _ := json.Marshal(fanoutResult{Times: times, CPU: cpu})
	fmt.Println(string(out))
	stdin.ReadString('\n') //nolint:errcheck // hold the screens until told
	for _, s := range screens {
		// An abortive close leaves no TIME_WAIT behind, so the next run has its ports.
		if tc, ok := s.conn.(*net.TCPConn); ok {
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
	conn    net.Conn
	br      *bufio.Reader
	deflate bool // permessage-deflate was negotiated
}

func dialScreen(u *url.URL, deflate bool) (*benchScreen, error) {
	conn, err := net.DialTimeout("tcp", u.Host, 30*time.Second)
	if err != nil {
		return nil, err
	}
	var nonce [16]byte
	rand.Read(nonce[:]) //nolint:errcheck // never fails
	var req strings.Builder
	fmt.Fprintf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n", u.RequestURI(), u.Host)
	fmt.Fprintf(&req, "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nUser-Agent: signage-bench\r\n", base64.StdEncoding.EncodeToString(nonce[:]))
	if deflate {
		// What Chromium offers.
		req.WriteString("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n")
	}
	req.WriteString("\r\n")
	conn.SetDeadline(time.Now().Add(30 * time.Second)) //nolint:errcheck
	if _, err := io.WriteString(conn, req.String()); err != nil {
		conn.Close()
		return nil, err
	}
	br := bufio.NewReaderSize(conn, 16<<10) // a whole deck in one read
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		conn.Close()
		return nil, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		conn.Close()
		return nil, fmt.Errorf("handshake: %s", resp.Status)
	}
	conn.SetDeadline(time.Time{}) //nolint:errcheck
	return &benchScreen{conn: conn, br: br,
		deflate: strings.Contains(resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate")}, nil
}

var deckPrefix = []byte(`{"type":"deck"`)

// message is a data message as it came off the wire.
type message struct {
	compressed bool
	payload    []byte
}

func (m message) isDeck() bool {
	p := m.payload
	if m.compressed {
		p = inflatePrefix(p, len(deckPrefix))
	}
	return bytes.HasPrefix(p, deckPrefix)
}

// awaitDeck reads messages until a whole deck has arrived.
func (s *benchScreen) awaitDeck() error {
	for {
		m, err := s.awaitMessage()
		if err != nil {
			return err
		}
		if m.isDeck() {
			return nil
		}
	}
}

// awaitMessage reads frames until a whole data message has arrived, answering pings on
// the way.
func (s *benchScreen) awaitMessage() (message, error) {
	for {
		fin, compressed, op, payload, err := s.readFrame()
		if err != nil {
			return message{}, err
		}
		switch op {
		case 0x8: // close
			return message{}, errors.New("closed by the server")
		case 0x9: // ping: answer, masked as a client must (a zero key masks nothing)
			frame := append([]byte{0x8a, 0x80 | byte(len(payload)), 0, 0, 0, 0}, payload...)
			if _, err := s.conn.Write(frame); err != nil {
				return message{}, err
			}
			continue
		case 0xa: // pong
			continue
		}
		for !fin { // a fragmented message: the rest of it
			var more []byte
			if fin, _, _, more, err = s.readFrame(); err != nil {
				return message{}, err
			}
			payload = append(payload, more...)
		}
		return message{compressed: compressed, payload: payload}, nil
	}
}

func (s *benchScreen) readFrame() (fin, compressed bool, op byte, payload []byte, err error) {
	var h [8]byte
	if _, err = io.ReadFull(s.br, h[:2]); err != nil {
		return
	}
	fin, compressed, op = h[0]&0x80 != 0, h[0]&0x40 != 0, h[0]&0x0f
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		if _, err = io.ReadFull(s.br, h[:2]); err != nil {
			return
		}
		n = uint64(binary.BigEndian.Uint16(h[:2]))
	case 127:
		if _, err = io.ReadFull(s.br, h[:8]); err != nil {
			return
		}
		n = binary.BigEndian.Uint64(h[:8])
	}
	if n > 16<<20 {
		err = fmt.Errorf("frame of %d bytes", n)
		return
	}
	payload = make([]byte, n)
	_, err = io.ReadFull(s.br, payload)
	return
}

// heartbeatFrame is a page's heartbeat as a client frame: masked (RFC 6455, 5.3) and, when
// deflate was negotiated, compressed as Chromium sends it.
func heartbeatFrame(deflate bool) []byte {
	payload := []byte(`{"type":"heartbeat","version":"bench","viewport":"1920x1080"}`)
	b0 := byte(0x81)
	if deflate {
		var buf bytes.Buffer
		zw, _ := flate.NewWriter(&buf, flate.BestSpeed)
		zw.Write(payload) //nolint:errcheck
		zw.Flush()        //nolint:errcheck
		payload = bytes.TrimSuffix(buf.Bytes(), []byte{0, 0, 0xff, 0xff})
		b0 |= 0x40
	}
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	frame := append([]byte{b0, 0x80 | byte(len(payload))}, key[:]...)
	for i, c := range payload {
		frame = append(frame, c^key[i%4])
	}
	return frame
}

// deflateTail ends a permessage-deflate message (RFC 7692, 7.2.2), then an empty final
// block so that the inflater stops cleanly.
const deflateTail = "\x00\x00\xff\xff\x01\x00\x00\xff\xff"

var inflaters sync.Pool

// inflatePrefix inflates a compressed message and returns its first n bytes (flate fills
// its window before it returns anything, so this is the whole message's work).
func inflatePrefix(payload []byte, n int) []byte {
	src := io.MultiReader(bytes.NewReader(payload), strings.NewReader(deflateTail))
	fr, _ := inflaters.Get().(io.ReadCloser)
	if fr == nil {
		fr = flate.NewReader(src)
	} else {
		fr.(flate.Resetter).Reset(src, nil) //nolint:errcheck
	}
	defer inflaters.Put(fr)
	out := make([]byte, n)
	m, _ := io.ReadFull(fr, out)
	return out[:m]
}
