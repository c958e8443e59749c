package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// ChromiumPath finds Debian's Chromium, or says how to install it.
func ChromiumPath() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("chromium not found: install it (apt-get install chromium)")
}

// Chromedp is Debian's Chromium driven by chromedp, with one tab. Tests that need more of
// the DevTools protocol than Browser offers use its Context with chromedp directly.
type Chromedp struct {
	ctx     context.Context
	cancel  func()
	version string

	mu   sync.Mutex
	errs []string
}

// LaunchChromium starts Debian's Chromium, headless, with a fresh profile and home in dir
// and a temporary directory of its own (Chromium otherwise leaves org.chromium.Chromium.*
// in /tmp, and its crash handler writes under ~/.config). opts add to, or override, the
// allocator's options (a window size, a flag).
func LaunchChromium(ctx context.Context, dir string, opts ...chromedp.ExecAllocatorOption) (*Chromedp, error) {
	path, err := ChromiumPath()
	if err != nil {
		return nil, err
	}
	env, remove, err := home(dir)
	if err != nil {
		return nil, err
	}
	all := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(filepath.Join(dir, "profile")),
		chromedp.WindowSize(1280, 720),
		chromedp.Env(env...),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(all, opts...)...)
	cctx, cancelCtx := chromedp.NewContext(actx)
	b := &Chromedp{ctx: cctx, cancel: func() { cancelCtx(); cancelAlloc(); remove() }}
	if err := chromedp.Listen(cctx, b.onEvent); err != nil { // starts the browser
		b.cancel()
		return nil, fmt.Errorf("starting %s: %w", path, err)
	}
	if b.version, err = Eval[string](ctx, b, "navigator.userAgent"); err != nil {
		b.cancel()
		return nil, err
	}
	return b, nil
}

// Context is the chromedp context of the browser's tab.
func (b *Chromedp) Context() context.Context { return b.ctx }

func (b *Chromedp) onEvent(ev any) {
	var msg string
	switch e := ev.(type) {
	case *runtime.EventExceptionThrown:
		msg = "exception: " + e.ExceptionDetails.Text
		if e.ExceptionDetails.Exception != nil {
			msg += " " + e.ExceptionDetails.Exception.Description
		}
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
			parts := make([]string, len(e.Args))
			for i, a := range e.Args {
				parts[i] = consoleArg(json.RawMessage(a.Value), a.Description)
			}
			msg = "console." + string(e.Type) + ": " + strings.Join(parts, " ")
		}
	case *log.EventEntryAdded:
		if e.Entry.Level == log.EntryLevelError {
			msg = "log: " + e.Entry.Text + " " + e.Entry.URL
		}
	}
	if msg == "" {
		return
	}
	b.mu.Lock()
	b.errs = append(b.errs, msg)
	b.mu.Unlock()
}

// run runs chromedp actions on the tab, within ctx.
func (b *Chromedp) run(ctx context.Context, actions ...chromedp.Action[chromedp.Void]) error {
	rctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	err := chromedp.Do(rctx, actions...)
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}

func (b *Chromedp) Engine() Engine  { return Chromium }
func (b *Chromedp) Version() string { return b.version }

func (b *Chromedp) Open(ctx context.Context, url string, width, height int) error {
	if err := b.Resize(ctx, width, height); err != nil {
		return err
	}
	if err := b.run(ctx, chromedp.Navigate(url)); err != nil {
		return fmt.Errorf("navigate %s: %w", url, err)
	}
	return nil
}

func (b *Chromedp) Resize(ctx context.Context, width, height int) error {
	return b.run(ctx, chromedp.EmulateViewport(int64(width), int64(height)))
}

func (b *Chromedp) Eval(ctx context.Context, expr string) (json.RawMessage, error) {
	rctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	s, err := chromedp.Run(rctx, chromedp.Evaluate[string](asJSON(expr), chromedp.EvalAwaitPromise))
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		return nil, fmt.Errorf("evaluate %.80q: %w", expr, err)
	}
	return fromJSON(expr, s)
}

func (b *Chromedp) Screenshot(ctx context.Context) ([]byte, error) {
	rctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	return chromedp.Run(rctx, chromedp.CaptureScreenshot())
}

func (b *Chromedp) Errors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.errs
	b.errs = nil
	return out
}

// Close ends the browser: chromedp kills it and waits for it, and its children end with it.
func (b *Chromedp) Close() error {
	b.cancel()
	return nil
}
