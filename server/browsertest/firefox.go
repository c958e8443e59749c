package browsertest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// firefox is Firefox ESR driven over WebDriver BiDi, which it speaks itself when started
// with --remote-debugging-port: no geckodriver.
type firefox struct {
	engine  Engine
	version string
	context string // the browsing context (tab) of the page
	session
}

// firefoxPrefs keep a test profile quiet on a closed network: no updates, telemetry,
// studies, safe-browsing lists, remote settings, captive-portal or connectivity checks,
// prefetching or DNS over HTTPS, and no first-run pages. The remote agent sets more of the
// same itself (remote.prefs.recommended).
var firefoxPrefs = map[string]any{
	"app.normandy.enabled":                                        false,
	"app.shield.optoutstudies.enabled":                            false,
	"app.update.auto":                                             false,
	"app.update.checkInstallTime":                                 false,
	"app.update.disabledForTesting":                               true,
	"browser.discovery.enabled":                                   false,
	"browser.newtabpage.enabled":                                  false,
	"browser.ping-centre.telemetry":                               false,
	"browser.region.network.url":                                  "",
	"browser.region.update.enabled":                               false,
	"browser.safebrowsing.blockedURIs.enabled":                    false,
	"browser.safebrowsing.downloads.enabled":                      false,
	"browser.safebrowsing.malware.enabled":                        false,
	"browser.safebrowsing.phishing.enabled":                       false,
	"browser.safebrowsing.provider.google4.updateURL":             "",
	"browser.safebrowsing.provider.mozilla.updateURL":             "",
	"browser.search.update":                                       false,
	"browser.sessionstore.resume_from_crash":                      false,
	"browser.shell.checkDefaultBrowser":                           false,
	"browser.startup.homepage_override.mstone":                    "ignore",
	"browser.startup.page":                                        0,
	"browser.tabs.warnOnClose":                                    false,
	"browser.translations.enable":                                 false,
	"datareporting.healthreport.uploadEnabled":                    false,
	"datareporting.policy.dataSubmissionEnabled":                  false,
	"dom.push.connection.enabled":                                 false,
	"extensions.blocklist.enabled":                                false,
	"extensions.getAddons.cache.enabled":                          false,
	"extensions.systemAddon.update.enabled":                       false,
	"extensions.update.enabled":                                   false,
	"geo.provider.network.url":                                    "",
	"identity.fxaccounts.enabled":                                 false,
	"media.gmp-manager.url":                                       "",
	"network.captive-portal-service.enabled":                      false,
	"network.connectivity-service.enabled":                        false,
	"network.dns.disablePrefetch":                                 true,
	"network.http.speculative-parallel-limit":                     0,
	"network.prefetch-next":                                       false,
	"network.trr.mode":                                            5,
	"services.settings.server":                                    "data:,",
	"toolkit.startup.max_resumed_crashes":                         -1,
	"toolkit.telemetry.enabled":                                   false,
	"toolkit.telemetry.server":                                    "data:,",
	"toolkit.telemetry.unified":                                   false,
	"browser.newtabpage.activity-stream.feeds.telemetry":          false,
	"browser.newtabpage.activity-stream.telemetry":                false,
	"browser.newtabpage.activity-stream.feeds.topsites":           false,
	"browser.newtabpage.activity-stream.feeds.section.topstories": false,
}

// FirefoxPath finds Debian's Firefox ESR, or says how to install it.
func FirefoxPath() (string, error) {
	for _, name := range []string{"firefox-esr", "firefox"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("firefox-esr not found: install it (apt-get install firefox-esr)")
}

func launchFirefox(ctx context.Context, e Engine, dir string) (*firefox, error) {
	path, err := FirefoxPath()
	if err != nil {
		return nil, err
	}
	env, remove, err := home(dir)
	if err != nil {
		return nil, err
	}
	profile := filepath.Join(dir, "profile")
	if err := os.MkdirAll(profile, 0o700); err != nil {
		remove()
		return nil, err
	}
	var prefs strings.Builder
	for k, v := range firefoxPrefs {
		val, _ := json.Marshal(v)
		fmt.Fprintf(&prefs, "user_pref(%q, %s);\n", k, val)
	}
	if err := os.WriteFile(filepath.Join(profile, "user.js"), []byte(prefs.String()), 0o600); err != nil {
		remove()
		return nil, err
	}
	env = append(env, "MOZ_CRASHREPORTER_DISABLE=1", "MOZ_CRASHREPORTER_SHUTDOWN=1")
	p, err := start(e.Name, path, []string{
		"-headless", "-no-remote", "-profile", profile, "--remote-debugging-port=0", "about:blank",
	}, env)
	if err != nil {
		remove()
		return nil, err
	}
	b := &firefox{engine: e, session: session{proc: p, remove: remove}}
	if err := b.connect(ctx, profile); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// connect reads the port Firefox chose from WebDriverBiDiServer.json in its profile, starts
// a BiDi session, finds its tab and subscribes to the log.
func (b *firefox) connect(ctx context.Context, profile string) error {
	raw, err := waitFile(b.proc, filepath.Join(profile, "WebDriverBiDiServer.json"), 60*time.Second)
	if err != nil {
		return err
	}
	var server struct {
		Host string `json:"ws_host"`
		Port int    `json:"ws_port"`
	}
	if err := json.Unmarshal(raw, &server); err != nil || server.Port == 0 {
		return fmt.Errorf("WebDriverBiDiServer.json %q: %v", raw, err)
	}
	if server.Host == "" {
		server.Host = "127.0.0.1"
	}
	conn, err := dialRPC(ctx, fmt.Sprintf("ws://%s:%d/session", server.Host, server.Port), b.onEvent)
	if err != nil {
		return err
	}
	b.conn = conn
	var session struct {
		Capabilities struct {
			Name    string `json:"browserName"`
			Version string `json:"browserVersion"`
		} `json:"capabilities"`
	}
	if err := conn.call(ctx, "session.new", map[string]any{"capabilities": map[string]any{}}, &session); err != nil {
		return err
	}
	var tree struct {
		Contexts []struct {
			Context string `json:"context"`
		} `json:"contexts"`
	}
	if err := conn.call(ctx, "browsingContext.getTree", map[string]any{"maxDepth": 0}, &tree); err != nil {
		return err
	}
	if len(tree.Contexts) == 0 {
		return errors.New("firefox: no tab")
	}
	b.context = tree.Contexts[0].Context
	if err := conn.call(ctx, "session.subscribe", map[string]any{"events": []string{"log.entryAdded"}}, nil); err != nil {
		return err
	}
	ua, err := Eval[string](ctx, b, "navigator.userAgent")
	b.version = session.Capabilities.Name + " " + session.Capabilities.Version + " (" + ua + ")"
	return err
}

// onEvent keeps log entries of level error: uncaught exceptions, SyntaxErrors of scripts
// that do not parse and unhandled rejections (type javascript), and console.error (type
// console). Unlike Chromium, Firefox does not log resources that failed to load here.
func (b *firefox) onEvent(method string, params json.RawMessage) {
	if method != "log.entryAdded" {
		return
	}
	var e struct {
		Level  string `json:"level"`
		Type   string `json:"type"`
		Method string `json:"method"`
		Text   string `json:"text"`
		Stack  *struct {
			Frames []struct {
				URL  string `json:"url"`
				Line int    `json:"lineNumber"`
			} `json:"callFrames"`
		} `json:"stackTrace"`
	}
	if json.Unmarshal(params, &e) != nil || e.Level != "error" {
		return
	}
	msg := "exception: " + e.Text
	if e.Type == "console" {
		msg = "console." + e.Method + ": " + e.Text
	}
	if e.Stack != nil && len(e.Stack.Frames) > 0 {
		msg += fmt.Sprintf(" (%s:%d)", e.Stack.Frames[0].URL, e.Stack.Frames[0].Line+1)
	}
	b.record(msg)
}

func (b *firefox) Engine() Engine  { return b.engine }
func (b *firefox) Version() string { return b.version }

func (b *firefox) Open(ctx context.Context, url string, width, height int) error {
	if err := b.Resize(ctx, width, height); err != nil {
		return err
	}
	return b.conn.call(ctx, "browsingContext.navigate", map[string]any{"context": b.context, "url": url, "wait": "complete"}, nil)
}

func (b *firefox) Resize(ctx context.Context, width, height int) error {
	return b.conn.call(ctx, "browsingContext.setViewport", map[string]any{
		"context": b.context, "viewport": map[string]int{"width": width, "height": height}, "devicePixelRatio": 1,
	}, nil)
}

func (b *firefox) Eval(ctx context.Context, expr string) (json.RawMessage, error) {
	var r struct {
		Type   string `json:"type"`
		Result struct {
			Type  string          `json:"type"`
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := b.conn.call(ctx, "script.evaluate", map[string]any{
		"expression": asJSON(expr), "target": map[string]string{"context": b.context},
		"awaitPromise": true, "resultOwnership": "none",
	}, &r); err != nil {
		return nil, fmt.Errorf("evaluate %.80q: %w", expr, err)
	}
	if r.Type == "exception" {
		return nil, fmt.Errorf("evaluate %.80q: %s", expr, r.ExceptionDetails.Text)
	}
	var s string
	if r.Result.Type != "string" || json.Unmarshal(r.Result.Value, &s) != nil {
		return nil, fmt.Errorf("evaluate %.80q: a %s, not JSON text", expr, r.Result.Type)
	}
	return fromJSON(expr, s)
}

func (b *firefox) Screenshot(ctx context.Context) ([]byte, error) {
	var r struct {
		Data string `json:"data"`
	}
	if err := b.conn.call(ctx, "browsingContext.captureScreenshot", map[string]any{"context": b.context}, &r); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(r.Data)
}
