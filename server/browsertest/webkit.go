package browsertest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// webkit is WebKitGTK's MiniBrowser driven by WebKitWebDriver (classic WebDriver over HTTP)
// on an Xvfb display of its own.
//
// Classic WebDriver has no log, and WebKitGTK writes no console messages in automation (its
// sessions are ephemeral, and WebKit does not log those), so errors are collected in two
// honest halves. After each load, a hook in the page records uncaught exceptions, unhandled
// rejections, console.error and resources that failed to load from then on. And each
// script the page loaded is compiled again, by this engine, in a second window with no
// content security policy (new Function, never run), so that a script that does not parse
// here is reported with its SyntaxError. What neither sees: an exception thrown while the
// page's scripts first run, and console.error called then, before the hook exists; the
// tests see those through what they break.
type webkit struct {
	engine  Engine
	version string
	x       *xvfb
	driver  *process
	base    string // http://127.0.0.1:port/session/id
	page    string // the window the page is in
	checker string // the window scripts are compiled in
	remove  func() // removes its temporary directory

	mu   sync.Mutex
	errs []string
}

// miniBrowsers are where Debian's webkit2gtk packages put the MiniBrowser.
var miniBrowsers = []string{
	"/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser",
	"/usr/lib/x86_64-linux-gnu/webkit2gtk-4.0/MiniBrowser",
	"/usr/lib/aarch64-linux-gnu/webkit2gtk-4.1/MiniBrowser",
	"/usr/lib/aarch64-linux-gnu/webkit2gtk-4.0/MiniBrowser",
}

func launchWebKit(ctx context.Context, e Engine, dir string) (_ *webkit, err error) {
	driverPath, err := exec.LookPath("WebKitWebDriver")
	if err != nil {
		return nil, errors.New("WebKitWebDriver not found: install it (apt-get install webkit2gtk-driver)")
	}
	mini := ""
	for _, p := range miniBrowsers {
		if _, err := os.Stat(p); err == nil {
			mini = p
			break
		}
	}
	if mini == "" {
		return nil, fmt.Errorf("WebKitGTK's MiniBrowser not found in %v: install it (apt-get install webkit2gtk-driver)", miniBrowsers)
	}
	env, remove, err := home(dir)
	if err != nil {
		return nil, err
	}
	b := &webkit{engine: e, remove: remove}
	defer func() {
		if err != nil {
			b.Close()
		}
	}()
	if b.x, err = startXvfb(env); err != nil {
		return nil, err
	}
	// WebKit's own choice of renderer on Xvfb is the one that takes screenshots: forcing
	// software GL or turning off the DMA-BUF renderer makes them time out.
	env = append(env, "DISPLAY="+b.x.display, "GDK_BACKEND=x11", "NO_AT_BRIDGE=1")
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	if b.driver, err = start("WebKitWebDriver", driverPath, []string{"--port=" + strconv.Itoa(port), "--host=local"}, env); err != nil {
		return nil, err
	}
	root := fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := b.waitReady(ctx, root); err != nil {
		return nil, err
	}
	var session struct {
		SessionID    string `json:"sessionId"`
		Capabilities struct {
			Name    string `json:"browserName"`
			Version string `json:"browserVersion"`
		} `json:"capabilities"`
	}
	if err := webdriver(ctx, http.MethodPost, root+"/session", map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"webkitgtk:browserOptions": map[string]any{"binary": mini, "args": []string{"--automation"}},
		"timeouts":                 map[string]int{"script": 600_000, "pageLoad": 120_000},
	}}}, &session); err != nil {
		return nil, fmt.Errorf("new session: %w", err)
	}
	b.base = root + "/session/" + session.SessionID
	// The window the session starts with stays on about:blank for compiling scripts; the
	// page gets a window of its own.
	if err := webdriver(ctx, http.MethodGet, b.base+"/window", nil, &b.checker); err != nil {
		return nil, err
	}
	var win struct {
		Handle string `json:"handle"`
	}
	if err := webdriver(ctx, http.MethodPost, b.base+"/window/new", map[string]string{"type": "window"}, &win); err != nil {
		return nil, err
	}
	b.page = win.Handle
	if err := b.switchTo(ctx, b.page); err != nil {
		return nil, err
	}
	ua, err := Eval[string](ctx, b, "navigator.userAgent")
	b.version = "WebKitGTK " + session.Capabilities.Version + " (" + ua + ")"
	return b, err
}

func (b *webkit) waitReady(ctx context.Context, root string) error {
	deadline := time.Now().Add(20 * time.Second)
	for {
		var status struct {
			Ready bool `json:"ready"`
		}
		if webdriver(ctx, http.MethodGet, root+"/status", nil, &status) == nil && status.Ready {
			return nil
		}
		if !b.driver.running() || time.Now().After(deadline) {
			return b.driver.failed("not ready")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (b *webkit) switchTo(ctx context.Context, handle string) error {
	return webdriver(ctx, http.MethodPost, b.base+"/window", map[string]string{"handle": handle}, nil)
}

func (b *webkit) Engine() Engine  { return b.engine }
func (b *webkit) Version() string { return b.version }

func (b *webkit) Open(ctx context.Context, url string, width, height int) error {
	if err := b.Resize(ctx, width, height); err != nil {
		return err
	}
	if err := webdriver(ctx, http.MethodPost, b.base+"/url", map[string]string{"url": url}, nil); err != nil {
		return fmt.Errorf("navigate %s: %w", url, err)
	}
	if err := b.exec(ctx, pageHook, nil); err != nil {
		return err
	}
	return b.compileScripts(ctx)
}

// pageHook records the errors of the page from now on in window.__browsertestErrors.
const pageHook = `
if (!window.__browsertestErrors) {
  const errs = window.__browsertestErrors = [];
  window.addEventListener('error', (e) => {
    if (e instanceof ErrorEvent) {
      errs.push('exception: ' + e.message + (e.filename ? ' (' + e.filename + ':' + e.lineno + ')' : ''));
    } else if (e.target && e.target !== window) {
      errs.push('failed to load: <' + e.target.tagName.toLowerCase() + '> ' + (e.target.currentSrc || e.target.src || e.target.href || ''));
    }
  }, true);
  window.addEventListener('unhandledrejection', (e) => {
    errs.push('unhandled rejection: ' + String(e.reason && e.reason.stack ? e.reason.message + ' ' + e.reason.stack : e.reason));
  });
  const error = console.error;
  console.error = function () {
    errs.push('console.error: ' + Array.prototype.map.call(arguments, String).join(' '));
    return error.apply(this, arguments);
  };
}
`

// compileScripts compiles every script of the page in the checker window.
func (b *webkit) compileScripts(ctx context.Context) error {
	var scripts []struct {
		Src  string `json:"src"`
		Text string `json:"text"`
	}
	if err := b.exec(ctx, `return Array.from(document.scripts).filter((s) => !s.type || /javascript|^module$/.test(s.type)).map((s) => ({ src: s.src, text: s.src ? '' : s.text }))`, &scripts); err != nil {
		return err
	}
	if len(scripts) == 0 {
		return nil
	}
	sources := make([]string, len(scripts))
	for i, s := range scripts {
		sources[i] = s.Text
		if s.Src != "" {
			text, err := getText(ctx, s.Src)
			if err != nil {
				return fmt.Errorf("fetching the page's script to compile it: %w", err)
			}
			sources[i] = text
		}
	}
	if err := b.switchTo(ctx, b.checker); err != nil {
		return err
	}
	var failures []string
	err := b.exec(ctx, `return arguments[0].map((src) => { try { new Function(src); return ''; } catch (e) { return String(e); } })`, &failures, sources)
	if serr := b.switchTo(ctx, b.page); err == nil {
		err = serr
	}
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, f := range failures {
		if f != "" {
			where := scripts[i].Src
			if where == "" {
				where = "an inline script"
			}
			b.errs = append(b.errs, "exception: "+f+" ("+where+" does not compile)")
		}
	}
	return nil
}

// Resize sizes the window so that its viewport is width×height: WebDriver sets the size of
// the window, so the toolbar's share of it is measured and added.
func (b *webkit) Resize(ctx context.Context, width, height int) error {
	w, h := width, height
	var size [4]int // outer width and height, inner width and height
	for range 4 {
		if err := webdriver(ctx, http.MethodPost, b.base+"/window/rect", map[string]int{"x": 0, "y": 0, "width": w, "height": h}, nil); err != nil {
			return err
		}
		// The page hears of its new size a moment later.
		deadline := time.Now().Add(3 * time.Second)
		for {
			if err := b.exec(ctx, "return [outerWidth, outerHeight, innerWidth, innerHeight]", &size); err != nil {
				return err
			}
			if size[0] == w && size[1] == h || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if size[2] == width && size[3] == height {
			return nil
		}
		w, h = width+size[0]-size[2], height+size[1]-size[3]
	}
	return fmt.Errorf("the viewport is %dx%d in a window of %dx%d, not %dx%d", size[2], size[3], size[0], size[1], width, height)
}

func (b *webkit) exec(ctx context.Context, script string, result any, args ...any) error {
	if args == nil {
		args = []any{}
	}
	return webdriver(ctx, http.MethodPost, b.base+"/execute/sync", map[string]any{"script": script, "args": args}, result)
}

func (b *webkit) Eval(ctx context.Context, expr string) (json.RawMessage, error) {
	var s string
	script := "const done = arguments[arguments.length - 1];\n" + asJSON(expr) + ".then(done);"
	if err := webdriver(ctx, http.MethodPost, b.base+"/execute/async", map[string]any{"script": script, "args": []any{}}, &s); err != nil {
		return nil, fmt.Errorf("evaluate %.80q: %w", expr, err)
	}
	return fromJSON(expr, s)
}

// Screenshot waits for two animation frames first: WebKitGTK's snapshot is of what the
// web view has composited, which right after a load (under Xvfb, on a loaded machine) can
// still be the blank view, all white.
func (b *webkit) Screenshot(ctx context.Context) ([]byte, error) {
	if _, err := b.Eval(ctx, "new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve(true))))"); err != nil {
		return nil, err
	}
	var data string
	if err := webdriver(ctx, http.MethodGet, b.base+"/screenshot", nil, &data); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(data)
}

// Errors returns what compiling the page's scripts found and what the page's hook
// recorded. A page that has reloaded itself since it was opened has lost its hook; it gets
// a new one, and its errors until then are not seen.
func (b *webkit) Errors() []string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var page []string
	err := b.exec(ctx, `const e = window.__browsertestErrors; return e ? e.splice(0) : null`, &page)
	b.mu.Lock()
	out := b.errs
	b.errs = nil
	b.mu.Unlock()
	switch {
	case err != nil:
		out = append(out, "browsertest: the page's errors could not be read: "+err.Error())
	case page == nil:
		b.exec(ctx, pageHook, nil) //nolint:errcheck // the next call says when it failed
	}
	return append(out, page...)
}

func (b *webkit) Close() error {
	if b.base != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		webdriver(ctx, http.MethodDelete, b.base, nil, nil) //nolint:errcheck // the processes are killed next anyway
		cancel()
	}
	if b.driver != nil {
		b.driver.stop(0, 0)
	}
	if b.x != nil {
		b.x.stop()
	}
	b.remove()
	return nil
}

// webdriver sends one classic WebDriver command and decodes the "value" of its answer.
func webdriver(ctx context.Context, method, url string, body, value any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return err
	}
	var answer struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &answer); err != nil {
		return fmt.Errorf("%s %s: %s: %.200s", method, url, resp.Status, raw)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error   string `json:"error"`
			Message string `json:"message"`
		}
		json.Unmarshal(answer.Value, &e) //nolint:errcheck
		return fmt.Errorf("%s %s: %s: %s", method, filepath.Base(url), e.Error, e.Message)
	}
	if value == nil {
		return nil
	}
	return json.Unmarshal(answer.Value, value)
}

// getText fetches url's body as text.
func getText(ctx context.Context, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	return string(b), err
}

// freePort is a loopback port that was free a moment ago, for a driver that must be told
// its port.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
