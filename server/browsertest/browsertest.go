// Package browsertest drives the browser engines that kiosk TVs run, for the tests: Debian's
// Chromium, old Chromium builds from the npm registry (64, 78, 88, …), Firefox ESR and
// WebKitGTK, each through the protocol it speaks (the DevTools protocol, its own old
// DevTools WebSocket, WebDriver BiDi, classic WebDriver under Xvfb), behind one small
// interface. It is used only by tests, as redistest is: nothing here is in the product.
//
// Every browser runs headless (or on a display of its own), with a fresh profile, its home
// and temporary files in a directory the caller owns (t.TempDir()), and its whole process
// tree is ended by Close.
package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Browser is one page in one browser engine.
type Browser interface {
	// Engine is the engine this browser runs.
	Engine() Engine
	// Version is what the browser says it is (its user agent).
	Version() string
	// Open loads url at a viewport of width×height CSS pixels and returns once it has
	// loaded.
	Open(ctx context.Context, url string, width, height int) error
	// Resize sets the viewport to width×height CSS pixels, keeping the page.
	Resize(ctx context.Context, width, height int) error
	// Eval evaluates a JavaScript expression in the page and returns its value as JSON
	// (undefined as null). A promise is awaited; an exception is an error.
	Eval(ctx context.Context, expr string) (json.RawMessage, error)
	// Screenshot is a PNG of the viewport.
	Screenshot(ctx context.Context) ([]byte, error)
	// Errors returns the script errors seen since the last call (uncaught exceptions,
	// unhandled rejections, console.error, and where the engine reports them, resources
	// that failed to load), and forgets them.
	Errors() []string
	// Close ends the browser and every process it started.
	Close() error
}

// Launch starts a browser of engine e. dir is the caller's and holds the profile, the
// browser's home and its temporary files; the caller removes it. An engine that is not
// installed is an error that says what to install.
func Launch(ctx context.Context, e Engine, dir string) (Browser, error) {
	var b Browser
	var err error
	switch e.kind {
	case kindChromium:
		b, err = LaunchChromium(ctx, dir)
	case kindOldChromium:
		b, err = launchOldChromium(ctx, e, dir)
	case kindFirefox:
		b, err = launchFirefox(ctx, e, dir)
	case kindWebKit:
		b, err = launchWebKit(ctx, e, dir)
	default:
		return nil, fmt.Errorf("browsertest: unknown engine %q", e.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", e.Name, err)
	}
	return b, nil
}

// Eval evaluates expr in b's page and decodes its value into a T.
func Eval[T any](ctx context.Context, b Browser, expr string) (T, error) {
	var v T
	raw, err := b.Eval(ctx, expr)
	if err != nil {
		return v, err
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, fmt.Errorf("evaluate %.60q: the value %.200s is not a %T: %w", expr, raw, v, err)
	}
	return v, nil
}

// WaitFor evaluates the predicate expr every 50 ms until it is true or ctx ends, and then
// returns ctx's error with the last evaluation error, if any. A navigation in between (a
// page that reloads itself) only means asking again.
func WaitFor(ctx context.Context, b Browser, expr string) error {
	var last error
	for {
		ectx, cancel := context.WithTimeout(ctx, 5*time.Second)
		ok, err := Eval[bool](ectx, b, expr)
		cancel()
		if err == nil && ok {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("%w (last error: %v)", ctx.Err(), last)
			}
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// asJSON wraps expr so that the page itself turns its awaited value, or its exception, into
// JSON text: {"v": value} or {"e": "the error"}. Every protocol then carries a plain string,
// every engine returns values the same way, and a rejection never leaves the page (where
// some engines would report it as an unhandled one of the page's own).
func asJSON(expr string) string {
	return "Promise.resolve().then(() => (\n" + expr + "\n)).then((v) => JSON.stringify({ v: v }), " +
		"(e) => JSON.stringify({ e: String(e) + (e && e.stack ? '\\n' + e.stack : '') }))"
}

// fromJSON reads what asJSON made of expr.
func fromJSON(expr, text string) (json.RawMessage, error) {
	var r struct {
		V json.RawMessage `json:"v"`
		E *string         `json:"e"`
	}
	if err := json.Unmarshal([]byte(text), &r); err != nil {
		return nil, fmt.Errorf("evaluate %.80q: %.200q is not what the page was asked to answer: %w", expr, text, err)
	}
	if r.E != nil {
		return nil, fmt.Errorf("evaluate %.80q: %s", expr, *r.E)
	}
	if len(r.V) == 0 {
		return json.RawMessage("null"), nil
	}
	return r.V, nil
}
