//go:build unix

package screens

import "syscall"

// rawWrite is a write in progress on a screen's socket. Only the writer that owns the
// socket (Screen.writing) uses it, so one per screen, with its func bound once, spares
// every write the allocation of a closure.
type rawWrite struct {
	buf []byte
	n   int
	err error
	fn  func(fd uintptr) bool
}

// tryWrite writes as much of b as the socket takes without waiting, and returns how much.
func (s *Screen) tryWrite(b []byte) (int, error) {
	if s.raw == nil {
		return 0, nil
	}
	w := &s.rw
	if w.fn == nil {
		w.fn = w.write
	}
	w.buf, w.n, w.err = b, 0, nil
	err := s.raw.Write(w.fn)
	n := w.n
	if err == nil {
		err = w.err
	}
	w.buf, w.err = nil, nil
	return n, err
}

// write is called with the socket's descriptor; it returns true always, as it must never
// wait for the socket to drain.
func (w *rawWrite) write(fd uintptr) bool {
	for w.n < len(w.buf) {
		m, err := syscall.Write(int(fd), w.buf[w.n:])
		if m > 0 {
			w.n += m
		}
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return true // full: the slow path waits for it
		case err != nil:
			w.err = err
			return true
		case m <= 0:
			return true
		}
	}
	return true
}
