package browsertest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// process is a browser, a driver or a display server started by a test, in a process
// group of its own so that stopping it ends every process it started (renderers, GPU and
// network processes, the browser a driver launched), not only the first.
type process struct {
	name   string
	cmd    *exec.Cmd
	out    *tail
	exited chan struct{} // closed once cmd has ended
	once   sync.Once
}

// home is what a process started for a test changes in its environment: its home, caches
// and settings under dir, so that nothing is written to the user's home and nothing from a
// previous run is read; and its temporary files and runtime sockets in a directory of its
// own under the system's temporary directory, as a Unix socket's path may not be longer
// than 107 bytes and the caller's dir (a test's t.TempDir(), named after the test) can be.
// remove deletes that directory, once the processes that used it have ended.
func home(dir string) (env []string, remove func(), err error) {
	short, err := os.MkdirTemp("", "browsertest-")
	if err != nil {
		return nil, nil, err
	}
	remove = func() { os.RemoveAll(short) }
	for _, d := range []struct{ key, path string }{
		{"HOME", filepath.Join(dir, "home")}, {"XDG_CACHE_HOME", filepath.Join(dir, "home/.cache")},
		{"XDG_CONFIG_HOME", filepath.Join(dir, "home/.config")}, {"XDG_DATA_HOME", filepath.Join(dir, "home/.local/share")},
		{"TMPDIR", filepath.Join(short, "t")}, {"XDG_RUNTIME_DIR", filepath.Join(short, "r")},
	} {
		if err := os.MkdirAll(d.path, 0o700); err != nil {
			remove()
			return nil, nil, err
		}
		env = append(env, d.key+"="+d.path)
	}
	return env, remove, nil
}

// start runs path with args in a new process group, in this process's environment with
// env added. Its output is kept (the last part of it) for the error messages of a browser
// that would not start.
func start(name, path string, args, env []string, extra ...*os.File) (*process, error) {
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), env...)
	out := &tail{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.ExtraFiles = extra
	cmd.SysProcAttr = processGroup()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, out: out, exited: make(chan struct{})}
	go func() {
		cmd.Wait() //nolint:errcheck // the end is read from exited and the output
		close(p.exited)
	}()
	return p, nil
}

// running reports whether the process has not ended yet.
func (p *process) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// failed describes a process that did not come up: what it was waiting for and the last
// lines it wrote.
func (p *process) failed(what string) error {
	state := "still running"
	if !p.running() {
		state = p.cmd.ProcessState.String()
	}
	return fmt.Errorf("%s: %s (%s); its last output:\n%s", p.name, what, state, p.out.String())
}

// stop ends the whole process group: a signal first when the process tidies up after
// itself on it (Xvfb removes its socket and lock from /tmp), then SIGKILL for the group,
// which is also what a browser gets, as its profile is thrown away anyway.
func (p *process) stop(gentle syscall.Signal, grace time.Duration) {
	p.once.Do(func() {
		pgid := p.cmd.Process.Pid
		if gentle != 0 {
			signalGroup(pgid, gentle)
			select {
			case <-p.exited:
			case <-time.After(grace):
			}
		}
		signalGroup(pgid, syscall.SIGKILL)
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
		}
	})
}

// tail keeps the last 16 KiB written to it.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

const tailSize = 16 << 10

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if len(t.buf) > tailSize {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-tailSize:]...)
	}
	return len(b), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.TrimSpace(t.buf))
}

// waitFile waits until path exists with content, as long as p runs, and returns it.
func waitFile(p *process, path string, timeout time.Duration) ([]byte, error) {
	deadline := time.Now().Add(timeout)
	for {
		b, err := os.ReadFile(path)
		if err == nil && len(bytes.TrimSpace(b)) > 0 {
			return b, nil
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		if time.Now().After(deadline) {
			return nil, p.failed("no " + filepath.Base(path) + " after " + timeout.String())
		}
		select {
		case <-p.exited:
			return nil, p.failed("exited before writing " + filepath.Base(path))
		case <-time.After(50 * time.Millisecond):
		}
	}
}
