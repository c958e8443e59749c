package browsertest

import "sync"

// session is what the engines driven over a protocol connection of our own (Firefox over
// WebDriver BiDi, the old Chromium builds over DevTools) hold alike: the browser's
// process, the connection, its temporary directory, and the script errors the page
// reported.
type session struct {
	proc   *process
	conn   *rpc
	remove func() // removes its temporary directory

	mu   sync.Mutex
	errs []string
}

// record keeps a script error the page reported.
func (s *session) record(msg string) {
	s.mu.Lock()
	s.errs = append(s.errs, msg)
	s.mu.Unlock()
}

// Errors returns the errors recorded since it was last called.
func (s *session) Errors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.errs
	s.errs = nil
	return out
}

// Close ends the connection, stops the browser and removes its directory.
func (s *session) Close() error {
	if s.conn != nil {
		s.conn.ws.Close()
	}
	s.proc.stop(0, 0)
	if s.conn != nil {
		<-s.conn.done
	}
	s.remove()
	return nil
}
