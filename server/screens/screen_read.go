package screens

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Close codes the reader sends (RFC 6455, 7.4.1).
const (
	closeProtocolError = 1002
	closeTooBig        = 1009
)

// readPump is the screen's only reader: it reads the screen's frames (RFC 6455, 5), keeps
// the read deadline alive and hands heartbeats on. Any read error (a close, a timeout, a
// protocol error, a message over the limit) ends the screen.
//
// It waits with nothing on its stack but a frame header. A goroutine's stack never shrinks
// back while it waits, and this one waits for the whole life of the screen, so a heartbeat
// is inflated and parsed by a goroutine of its own (every 30 s), not here.
func (s *Screen) readPump() {
	defer s.stopReading()
	s.nc.SetReadDeadline(time.Now().Add(pongWait)) //nolint:errcheck
	for {
		if _, err := io.ReadFull(s.nc, s.head[:]); err != nil {
			return
		}
		if !s.readFrame() {
			return
		}
	}
}

// stopReading ends the screen when its reader ends, unless a writer holds the socket with
// a close frame queued behind what it writes: that writer closes the screen once the frame
// is out (within writeWait), so the screen hears why it is closed.
func (s *Screen) stopReading() {
	s.mu.Lock()
	handOff := s.writing && s.queue.closeFrame != nil && !s.closed
	s.mu.Unlock()
	if !handOff {
		s.close()
	}
}

// readFrame reads the rest of the frame whose header is in s.head and acts on it; false
// ends the screen.
func (s *Screen) readFrame() bool {
	b0, b1 := s.head[0], s.head[1]
	fin, compressed, op := b0&0x80 != 0, b0&0x40 != 0, b0&0x0f
	control := op >= opClose
	switch {
	case b0&0x30 != 0, b1&0x80 == 0: // RSV2 or RSV3; a client's frames are always masked
		return s.fail(closeProtocolError)
	case op > 0x2 && op < opClose, op > opPong:
		return s.fail(closeProtocolError)
	case control && (!fin || compressed || b1&0x7f > 125):
		return s.fail(closeProtocolError)
	case op == 0 && (!s.fragmented || compressed), op != 0 && !control && s.fragmented:
		return s.fail(closeProtocolError)
	case compressed && !s.deflate:
		return s.fail(closeProtocolError)
	}
	var ext [8]byte
	n := uint64(b1 & 0x7f)
	switch n {
	case 126:
		if _, err := io.ReadFull(s.nc, ext[:2]); err != nil {
			return false
		}
		n = uint64(binary.BigEndian.Uint16(ext[:2]))
	case 127:
		if _, err := io.ReadFull(s.nc, ext[:8]); err != nil {
			return false
		}
		n = binary.BigEndian.Uint64(ext[:8])
	}
	if !control && n > uint64(maxMessageSize-len(s.partial)) {
		return s.fail(closeTooBig)
	}
	var key [4]byte
	if _, err := io.ReadFull(s.nc, key[:]); err != nil {
		return false
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(s.nc, payload); err != nil {
		return false
	}
	for i := range payload {
		payload[i] ^= key[i&3]
	}
	switch op {
	case opClose:
		s.answerClose(payload)
		return false
	case opPing:
		s.mu.Lock()
		s.queue.pong = controlFrame(opPong, payload)
		s.mu.Unlock()
		s.flush()
		return true
	case opPong:
		now := time.Now()
		s.lastSeen.Store(now.UnixNano())
		return s.nc.SetReadDeadline(now.Add(pongWait)) == nil
	}
	if op != 0 { // the first frame of a message says its kind and whether it is compressed
		s.kind, s.compressed = int(op), compressed
	}
	if !fin {
		s.fragmented = true
		s.partial = append(s.partial, payload...)
		return true
	}
	if s.fragmented {
		payload = append(s.partial, payload...)
		s.partial, s.fragmented = nil, false
	}
	now := time.Now()
	s.lastSeen.Store(now.UnixNano())
	s.nc.SetReadDeadline(now.Add(pongWait)) //nolint:errcheck
	go s.receiveMessage(s.kind, payload, s.compressed)
	return true
}

// answerClose answers the screen's close frame with the same code (none if it sent none),
// as the protocol asks (RFC 6455, 5.5.1).
func (s *Screen) answerClose(payload []byte) {
	var reply []byte
	if len(payload) >= 2 {
		reply = websocket.FormatCloseMessage(int(binary.BigEndian.Uint16(payload)), "")
	}
	s.queueClose(controlFrame(opClose, reply))
	s.flush()
}

// fail closes the connection with code, for a frame the protocol does not allow or a
// message over the limit.
func (s *Screen) fail(code int) bool {
	s.queueClose(controlFrame(opClose, websocket.FormatCloseMessage(code, "")))
	s.flush()
	return false
}

// receiveMessage inflates a compressed message, within the limit on its size, and records
// what it says.
func (s *Screen) receiveMessage(kind int, payload []byte, compressed bool) {
	if compressed {
		var ok bool
		if payload, ok = inflateMessage(payload, maxMessageSize); !ok {
			return
		}
	}
	s.receive(kind, payload)
}

// deflateTail ends a permessage-deflate message (RFC 7692, 7.2.2), then an empty final
// block so that the inflater stops cleanly.
const deflateTail = "\x00\x00\xff\xff\x01\x00\x00\xff\xff"

// inflaters keeps flate readers for reuse: each holds a 32 KiB window.
var inflaters sync.Pool

// inflateMessage inflates a message compressed with permessage-deflate; false when it is
// malformed or larger than limit once inflated.
func inflateMessage(p []byte, limit int) ([]byte, bool) {
	src := io.MultiReader(bytes.NewReader(p), strings.NewReader(deflateTail))
	fr, _ := inflaters.Get().(io.ReadCloser)
	if fr == nil {
		fr = flate.NewReader(src)
	} else if fr.(flate.Resetter).Reset(src, nil) != nil {
		return nil, false
	}
	defer inflaters.Put(fr)
	out, err := io.ReadAll(io.LimitReader(fr, int64(limit)+1))
	if err != nil || len(out) > limit {
		return nil, false
	}
	return out, true
}
