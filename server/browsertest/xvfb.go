package browsertest

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// xvfb is a virtual X display of its own for a browser that needs one.
type xvfb struct {
	proc    *process
	display string // ":N"
}

// startXvfb starts Xvfb on a free display, which Xvfb picks itself (-displayfd) so that two
// tests never race for one. The screen is large enough for a 4K viewport with the
// browser's toolbar.
func startXvfb(env []string) (*xvfb, error) {
	path, err := exec.LookPath("Xvfb")
	if err != nil {
		return nil, errors.New("xvfb: Xvfb not found: install it (apt-get install xvfb)")
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	p, err := start("Xvfb", path, []string{"-displayfd", "3", "-nolisten", "tcp", "-screen", "0", "4096x4096x24"}, env, w)
	w.Close()
	if err != nil {
		return nil, err
	}
	x := &xvfb{proc: p}
	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		got <- strings.TrimSpace(line)
	}()
	select {
	case n := <-got:
		if n == "" {
			x.stop()
			return nil, p.failed("no display number")
		}
		x.display = ":" + n
		return x, nil
	case <-time.After(20 * time.Second):
		x.stop()
		return nil, p.failed("no display after 20 s")
	}
}

// stop ends Xvfb with SIGTERM, on which it removes its socket and lock from /tmp.
func (x *xvfb) stop() { x.proc.stop(syscall.SIGTERM, 5*time.Second) }

func (x *xvfb) String() string { return fmt.Sprintf("Xvfb on %s", x.display) }
