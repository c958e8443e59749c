package browsertest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// oldChromium is a headless Chromium build from the npm registry, driven over the DevTools
// WebSocket of its page: chromedp speaks a newer protocol than Chromium 64 knows, while the
// few commands used here (Runtime.evaluate, Page.navigate, Page.captureScreenshot,
// Emulation.setDeviceMetricsOverride) and the events for errors have not changed since.
type oldChromium struct {
	engine  Engine
	version string
	loaded  chan struct{} // signalled on Page.loadEventFired
	session
}

func launchOldChromium(ctx context.Context, e Engine, dir string) (*oldChromium, error) {
	bin, err := oldChromiumDir(ctx, e)
	if err != nil {
		return nil, err
	}
	env, remove, err := home(dir)
	if err != nil {
		return nil, err
	}
	// The browser writes DevToolsActivePort into its profile only when the directory exists.
	profile := filepath.Join(dir, "profile")
	if err := os.MkdirAll(profile, 0o700); err != nil {
		remove()
		return nil, err
	}
	p, err := start(e.Name, filepath.Join(bin, "chromium"), []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-default-apps", "--disable-extensions", "--no-first-run", "--no-default-browser-check",
		"--hide-scrollbars", "--mute-audio", "--window-size=1280,720",
		"--remote-debugging-port=0", "--user-data-dir=" + profile, "about:blank",
	}, env)
	if err != nil {
		remove()
		return nil, err
	}
	b := &oldChromium{engine: e, session: session{proc: p, remove: remove}, loaded: make(chan struct{}, 1)}
	if err := b.connect(ctx, profile); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// connect finds the DevTools port the browser chose (DevToolsActivePort in its profile),
// its page, and opens the page's WebSocket.
func (b *oldChromium) connect(ctx context.Context, profile string) error {
	active, err := waitFile(b.proc, filepath.Join(profile, "DevToolsActivePort"), 30*time.Second)
	if err != nil {
		return err
	}
	port, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(active), "\n", 2)[0]))
	if err != nil {
		return fmt.Errorf("DevToolsActivePort %q: %w", active, err)
	}
	var targets []struct {
		Type string `json:"type"`
		WS   string `json:"webSocketDebuggerUrl"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		targets = nil
		err = getJSON(ctx, fmt.Sprintf("http://127.0.0.1:%d/json/list", port), &targets)
		if err == nil {
			for _, t := range targets {
				if t.Type == "page" && t.WS != "" {
					return b.attach(ctx, t.WS)
				}
			}
		}
		if time.Now().After(deadline) {
			return b.proc.failed(fmt.Sprintf("no page on its DevTools port %d (%v)", port, err))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (b *oldChromium) attach(ctx context.Context, url string) error {
	conn, err := dialRPC(ctx, url, b.onEvent)
	if err != nil {
		return err
	}
	b.conn = conn
	for _, m := range []string{"Runtime.enable", "Log.enable", "Page.enable"} {
		if err := conn.call(ctx, m, nil, nil); err != nil {
			return err
		}
	}
	b.version, err = Eval[string](ctx, b, "navigator.userAgent")
	return err
}

func (b *oldChromium) onEvent(method string, params json.RawMessage) {
	if method == "Page.loadEventFired" {
		select {
		case b.loaded <- struct{}{}:
		default:
		}
		return
	}
	if msg := cdpError(method, params); msg != "" {
		b.record(msg)
	}
}

// cdpError is the error a DevTools event reports, or "": an uncaught exception (a
// SyntaxError of a script that does not parse included), console.error and console.assert,
// and the browser's own error entries (a resource that failed to load, a refused
// connection).
func cdpError(method string, params json.RawMessage) string {
	switch method {
	case "Runtime.exceptionThrown":
		var e struct {
			ExceptionDetails struct {
				Text      string `json:"text"`
				URL       string `json:"url"`
				Line      int    `json:"lineNumber"`
				Exception *struct {
					Description string `json:"description"`
				} `json:"exception"`
			} `json:"exceptionDetails"`
		}
		json.Unmarshal(params, &e) //nolint:errcheck // whatever was read is shown
		d := e.ExceptionDetails
		msg := "exception: " + d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		if d.URL != "" {
			msg += fmt.Sprintf(" (%s:%d)", d.URL, d.Line+1)
		}
		return msg
	case "Runtime.consoleAPICalled":
		var e struct {
			Type string `json:"type"`
			Args []struct {
				Value       json.RawMessage `json:"value"`
				Description string          `json:"description"`
			} `json:"args"`
		}
		json.Unmarshal(params, &e) //nolint:errcheck
		if e.Type != "error" && e.Type != "assert" {
			return ""
		}
		parts := make([]string, len(e.Args))
		for i, a := range e.Args {
			parts[i] = consoleArg(a.Value, a.Description)
		}
		return "console." + e.Type + ": " + strings.Join(parts, " ")
	case "Log.entryAdded":
		var e struct {
			Entry struct {
				Level string `json:"level"`
				Text  string `json:"text"`
				URL   string `json:"url"`
			} `json:"entry"`
		}
		json.Unmarshal(params, &e) //nolint:errcheck
		if e.Entry.Level != "error" {
			return ""
		}
		return strings.TrimSpace("log: " + e.Entry.Text + " " + e.Entry.URL)
	}
	return ""
}

// consoleArg shows an argument of a console call as the console would: a string as it is,
// another value as JSON, an object by its description.
func consoleArg(value json.RawMessage, description string) string {
	var s string
	if json.Unmarshal(value, &s) == nil {
		return s
	}
	if len(value) > 0 {
		return string(value)
	}
	return description
}

func (b *oldChromium) Engine() Engine  { return b.engine }
func (b *oldChromium) Version() string { return b.version }

func (b *oldChromium) Open(ctx context.Context, url string, width, height int) error {
	if err := b.Resize(ctx, width, height); err != nil {
		return err
	}
	select { // a load of the page before this one does not count
	case <-b.loaded:
	default:
	}
	var nav struct {
		ErrorText string `json:"errorText"`
	}
	if err := b.conn.call(ctx, "Page.navigate", map[string]any{"url": url}, &nav); err != nil {
		return err
	}
	if nav.ErrorText != "" {
		return fmt.Errorf("navigate %s: %s", url, nav.ErrorText)
	}
	select {
	case <-b.loaded:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("navigate %s: no load event: %w", url, ctx.Err())
	}
}

// Resize emulates the viewport; in these old headless builds the screenshot takes its size
// from the visible size, which is set to match.
func (b *oldChromium) Resize(ctx context.Context, width, height int) error {
	if err := b.conn.call(ctx, "Emulation.setDeviceMetricsOverride", map[string]any{
		"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false,
	}, nil); err != nil {
		return err
	}
	return b.conn.call(ctx, "Emulation.setVisibleSize", map[string]any{"width": width, "height": height}, nil)
}

func (b *oldChromium) Eval(ctx context.Context, expr string) (json.RawMessage, error) {
	v, err := cdpEvaluate(ctx, b.conn, expr)
	return v, b.crashed(err)
}

// crashed adds to err, when the browser's connection has ended, what the browser wrote
// last: a crash says why there.
func (b *oldChromium) crashed(err error) error {
	select {
	case <-b.conn.done:
		if err != nil {
			return fmt.Errorf("%w\n%v", err, b.proc.failed("the DevTools connection ended"))
		}
	default:
	}
	return err
}

// cdpEvaluate runs Runtime.evaluate, awaiting a promise, and returns the JSON the page made
// of the value.
func cdpEvaluate(ctx context.Context, conn *rpc, expr string) (json.RawMessage, error) {
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception *struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	if err := conn.call(ctx, "Runtime.evaluate", map[string]any{
		"expression": asJSON(expr), "awaitPromise": true, "returnByValue": true,
	}, &r); err != nil {
		return nil, err
	}
	if d := r.ExceptionDetails; d != nil {
		msg := d.Text
		if d.Exception != nil {
			msg = d.Exception.Description
		}
		return nil, fmt.Errorf("evaluate %.80q: %s", expr, msg)
	}
	var s string
	if err := json.Unmarshal(r.Result.Value, &s); err != nil {
		return nil, fmt.Errorf("evaluate %.80q: %.200s is not JSON text: %w", expr, r.Result.Value, err)
	}
	return fromJSON(expr, s)
}

func (b *oldChromium) Screenshot(ctx context.Context) ([]byte, error) {
	var r struct {
		Data string `json:"data"`
	}
	if err := b.conn.call(ctx, "Page.captureScreenshot", map[string]any{"format": "png"}, &r); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(r.Data)
}

// getJSON fetches url and decodes its JSON body into v.
func getJSON(ctx context.Context, url string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
