package server_test

import (
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/spencer-signage/signage/server"
)

// concrete turns a route template into a path that exists.
func concrete(e *env, route string) string {
	switch {
	case route == "/static/*":
		return e.srv.AssetCSS()
	case strings.HasPrefix(route, "/api/"):
		return route + "?userlist=" + lobby
	case route == "/media/:name":
		return e.keptImage()
	}
	return strings.ReplaceAll(route, ":id", lobby)
}

// headersThatMustMatch are the headers a HEAD answer must share with GET's.
var headersThatMustMatch = []string{"Content-Type", "Content-Length", "Etag", "Last-Modified", "Cache-Control",
	"Content-Security-Policy", "X-Frame-Options", "Vary"}

// TestEveryRouteAnswersHEAD: uptime monitors and link checkers send HEAD. Every route that
// answers GET answers HEAD with the same status and headers and no body, the admin ones
// included (from this machine), whatever the settings.
func TestEveryRouteAnswersHEAD(t *testing.T) {
	e := newEnv(t, time.Minute)
	waitFor(t, 10*time.Second, "the server to be ready", func() bool { r, _ := e.get("/readyz"); return r.StatusCode == 200 })
	routes := e.srv.ReadRoutes()
	if len(routes) < 12 {
		t.Fatalf("only %d GET routes: %v", len(routes), routes)
	}
	for _, route := range routes {
		path := concrete(e, route)
		get, getBody := e.get(path)
		head := e.do(http.MethodHead, path)
		if head.StatusCode != get.StatusCode {
			t.Errorf("HEAD %s: %d, GET %d", path, head.StatusCode, get.StatusCode)
			continue
		}
		if get.StatusCode >= 400 && !strings.HasSuffix(route, "/ws") {
			t.Errorf("GET %s: %d", path, get.StatusCode)
		}
		// The status page and the metrics change between two requests (times, counters);
		// a kiosk's page without its cookie is a new kiosk each time, with a code of its own.
		live := strings.HasPrefix(route, "/admin") || route == "/metrics" || route == "/s" || strings.HasPrefix(route, "/s/")
		for _, h := range headersThatMustMatch {
			if g, hd := get.Header.Get(h), head.Header.Get(h); g != hd && !(h == "Content-Length" && (hd == "" || live)) {
				t.Errorf("%s: %s is %q on GET, %q on HEAD", path, h, g, hd)
			}
		}
		if head.ContentLength > 0 && !live && head.ContentLength != int64(len(getBody)) {
			t.Errorf("%s: HEAD announces %d bytes, GET sent %d", path, head.ContentLength, len(getBody))
		}
	}
}

// TestCurlHead: what an operator types to check the service, with a client we did not write.
func TestCurlHead(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Fatal("curl not found: install it (apt-get install curl)")
	}
	e := newEnv(t, time.Minute)
	for _, p := range []string{"/healthz", "/", "/screens/" + lobby, "/api/feed.json", "/api/feed.rss", "/api/feed.atom"} {
		out, err := exec.Command(curl, "-sS", "-I", "--max-time", "10", e.base+p).CombinedOutput()
		if err != nil {
			t.Fatalf("curl -I %s: %v\n%s", p, err, out)
		}
		if first, _, _ := strings.Cut(string(out), "\r\n"); first != "HTTP/1.1 200 OK" {
			t.Errorf("curl -I %s: %q", p, first)
		}
	}
}

// TestUnknownPathsAre404: a path that is no route is 404, whatever the admin and access
// key settings; a login token on such a path logs nobody in.
func TestUnknownPathsAre404(t *testing.T) {
	const token = "admin-token-for-tests-123"
	for name, mod := range map[string]func(*server.Config){
		"default":          func(*server.Config) {},
		"admin token":      func(c *server.Config) { c.Server.AdminToken = token },
		"access keys":      func(c *server.Config) { c.Server.AccessKeys = []string{testKey} },
		"token and keys":   func(c *server.Config) { c.Server.AdminToken, c.Server.AccessKeys = token, []string{testKey} },
		"userlists closed": func(c *server.Config) { c.Screens.AllowAnyUserlist = false },
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, time.Minute, mod)
			for _, p := range []string{"/nope", "/favicon.png", "/screens", "/screens/", "/api/nope", "/api/", "/admin/nope",
				"/embed", "/static/nope.css", "/nothing?token=" + token, "/screens/" + lobby + "/nope"} {
				resp, body := e.get(p)
				if resp.StatusCode != http.StatusNotFound {
					t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
				}
				if c := resp.Header.Get("Set-Cookie"); c != "" {
					t.Errorf("GET %s sets a cookie: %q", p, c)
				}
				if strings.HasPrefix(p, "/api/") && !strings.Contains(body, `"error"`) {
					t.Errorf("GET %s: body %q is not a JSON error", p, body)
				}
				if head := e.do(http.MethodHead, p); head.StatusCode != http.StatusNotFound {
					t.Errorf("HEAD %s: %d, want 404", p, head.StatusCode)
				}
			}
		})
	}
}

// TestRequestLogRecordsTheStatusSent: the request log and the metrics see the status the
// client got, for a router 404 and a handler error alike.
func TestRequestLogRecordsTheStatusSent(t *testing.T) {
	e := newEnv(t, time.Minute)
	e.get("/nope")
	e.get("/screens/not-a-uuid")
	e.get("/api/feed.json?userlist=nope")
	logs := e.logs.String()
	for _, want := range []string{`"path":"/nope","status":404`, `"path":"/screens/not-a-uuid","status":404`, `"path":"/api/feed.json","status":400`} {
		if !strings.Contains(logs, want) {
			t.Errorf("the request log lacks %s", want)
		}
	}
	_, metrics := e.get("/metrics")
	for _, want := range []string{`signage_http_requests_total{route="unmatched",status="404"}`, `signage_http_requests_total{route="/screens/:id",status="404"}`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// do sends a request with any method; a HEAD must come back without a body.
func (e *env) do(method, path string, header ...string) *http.Response {
	e.t.Helper()
	resp, body := e.request(method, path, "", header...)
	if method == http.MethodHead && len(body) > 0 {
		e.t.Errorf("HEAD %s sent a body of %d bytes", path, len(body))
	}
	return resp
}
