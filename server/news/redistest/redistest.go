// Package redistest runs Debian's redis-server for tests: a real server on a free loopback
// port, with no persistence, started and stopped by the test that needs it. Nothing stands
// in for Redis. A server writes no file (its log is kept in memory) and dies with the test
// process, also when that panics or times out.
package redistest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// SkipEnv names the environment variable that asks to skip the tests that need Redis.
const SkipEnv = "SIGNAGE_SKIP_REDIS"

// Server is a running redis-server.
type Server struct {
	Port int

	mu     sync.Mutex
	cmd    *exec.Cmd
	log    *logBuffer
	exited chan struct{} // closed when cmd has ended
}

// Binary finds redis-server, or says how to install it.
func Binary() (string, error) {
	for _, p := range []string{"redis-server", "/usr/bin/redis-server", "/usr/sbin/redis-server"} {
		if path, err := exec.LookPath(p); err == nil {
			return path, nil
		}
	}
	return "", errors.New("redis-server not found: install it (apt-get install redis-server; the tests start their own on a free port), or set " + SkipEnv + "=1 to skip the tests of the Redis engine")
}

// Require skips t when SIGNAGE_SKIP_REDIS=1 asks to, and fails it, naming the package to
// install, when there is no redis-server: a test of the Redis engine never skips by itself.
func Require(t testing.TB) {
	t.Helper()
	if os.Getenv(SkipEnv) == "1" {
		t.Skip(SkipEnv + "=1: the tests of the Redis engine are skipped")
	}
	if _, err := Binary(); err != nil {
		t.Fatal(err)
	}
}

// Start starts a redis-server on a free loopback port. A port taken by another process
// between its choice and redis-server's start is given up for another.
func Start() (*Server, error) {
	var err error
	for range 3 {
		s := Reserve()
		if err = s.Up(); err == nil {
			return s, nil
		}
	}
	return nil, err
}

// Reserve picks a free port for a server that is not started yet: clients can be pointed
// at it before it exists (Up starts it).
func Reserve() *Server {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic("redistest: " + err.Error())
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return &Server{Port: port}
}

// Shared is a redis-server that the tests of one package share: started by the first
// that needs it, stopped by Stop (in TestMain, after m.Run; the server dies with the
// process anyway).
type Shared struct {
	once sync.Once
	s    *Server
	err  error
}

// Get requires redis-server (see Require) and returns the shared server, started on first
// use.
func (sh *Shared) Get(t testing.TB) *Server {
	t.Helper()
	Require(t)
	sh.once.Do(func() { sh.s, sh.err = Start() })
	if sh.err != nil {
		t.Fatal(sh.err)
	}
	return sh.s
}

// Stop stops the shared server if one was started.
func (sh *Shared) Stop() {
	if sh.s != nil {
		sh.s.Stop()
	}
}

// Up starts the server (again, after Stop) on its port, empty.
func (s *Server) Up() error { return s.start() }

func (s *Server) start() error {
	bin, err := Binary()
	if err != nil {
		return err
	}
	// No persistence and the log on stdout: nothing is written to --dir, which must
	// exist all the same.
	cmd := exec.Command(bin, "--port", strconv.Itoa(s.Port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", os.TempDir(), "--logfile", "", "--daemonize", "no")
	log := &logBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = dieWithParent()
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }() //nolint:errcheck // Stop reads the end
	s.mu.Lock()
	s.cmd, s.log, s.exited = cmd, log, exited
	s.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if s.answers(cmd.Process.Pid) {
			return nil
		}
		select {
		case <-exited: // the port was taken, most likely
			deadline = time.Time{}
		case <-time.After(20 * time.Millisecond):
		}
	}
	s.Stop()
	return fmt.Errorf("redis-server on port %d did not answer: %s", s.Port, log.String())
}

// answers reports whether the redis-server of process pid answers on the port (not
// another one that took the port first). It speaks RESP directly, so that this package
// needs no client.
func (s *Server) answers(pid int) bool {
	conn, err := net.DialTimeout("tcp", s.Addr(), 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Second)) //nolint:errcheck
	if _, err := conn.Write([]byte("INFO server\r\n")); err != nil {
		return false
	}
	r := bufio.NewReader(conn)
	head, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(head, "$") {
		return false
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return false
		}
		if strings.TrimSpace(line) == "process_id:"+strconv.Itoa(pid) {
			return true
		}
	}
}

// Addr is host:port.
func (s *Server) Addr() string { return fmt.Sprintf("127.0.0.1:%d", s.Port) }

// URL is the redis:// URL of database db.
func (s *Server) URL(db int) string { return fmt.Sprintf("redis://%s/%d", s.Addr(), db) }

// Stop kills the server (as a crash would) and waits for it.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Kill() //nolint:errcheck
	<-exited
}

// Restart stops the server and starts it again on the same port, empty (no persistence):
// as a Redis restarted without its data.
func (s *Server) Restart() error {
	s.Stop()
	return s.start()
}

// logBuffer keeps what redis-server writes, for the error when it does not start.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 64<<10 {
		return len(p), nil // enough to say why it did not start
	}
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
