package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/spencer-signage/signage/server"
)

// serve passes one request to the server's handler as if it came from peer.
func (e *env) serve(req *http.Request, peer string) *httptest.ResponseRecorder {
	req.RemoteAddr = peer
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	return rec
}

// TestForwardedHeadersOnlyFromTrustedProxies: the one header named by
// server.client_ip_header is believed, from server.trusted_proxies only; the others are
// ignored even from them. A forwarded request is never "this machine" for /admin,
// whatever its TCP peer, and behind trusted proxies /admin needs the token.
func TestForwardedHeadersOnlyFromTrustedProxies(t *testing.T) {
	for _, believed := range []string{"", "X-Forwarded-For", "X-Real-IP", "Forwarded"} {
		t.Run("header="+believed, func(t *testing.T) {
			e := newEnv(t, time.Minute, func(c *server.Config) {
				if believed != "" {
					c.Server.TrustedProxies = []string{"127.0.0.1", "10.9.0.0/16"}
					c.Server.ClientIPHeader = believed
				}
			})
			// The status page through the proxy: refused, with or without trust.
			for h, v := range map[string]string{"X-Forwarded-For": "127.0.0.1", "X-Real-IP": "127.0.0.1", "Forwarded": "for=127.0.0.1", "X-Forwarded-Proto": "http", "": ""} {
				req := httptest.NewRequest("GET", "/admin/status.json", nil)
				req.Host = "127.0.0.1:8080"
				if h != "" {
					req.Header.Set(h, v)
				}
				want := http.StatusForbidden
				if h == "" && believed == "" {
					want = http.StatusOK // this machine's own curl
				}
				if rec := e.serve(req, "127.0.0.1:5000"); rec.Code != want {
					t.Errorf("/admin with %q from loopback: %d, want %d", h, rec.Code, want)
				}
			}
			// Where the server believes the request came from, as the request log records it.
			cases := []struct {
				peer   string
				header [2]string
				want   string // when header[0] is the one believed
			}{
				{"203.0.113.9:1000", [2]string{"X-Forwarded-For", "198.51.100.1"}, "203.0.113.9"},
				{"203.0.113.9:1000", [2]string{"X-Real-IP", "198.51.100.1"}, "203.0.113.9"},
				{"203.0.113.9:1000", [2]string{"Forwarded", "for=198.51.100.1"}, "203.0.113.9"},
				{"127.0.0.1:1000", [2]string{"X-Forwarded-For", "198.51.100.2"}, "198.51.100.2"},
				{"127.0.0.1:1000", [2]string{"X-Forwarded-For", "6.6.6.6, 198.51.100.3"}, "198.51.100.3"},
				{"127.0.0.1:1000", [2]string{"X-Forwarded-For", "198.51.100.4, 10.9.1.1"}, "198.51.100.4"},
				{"127.0.0.1:1000", [2]string{"X-Real-IP", "198.51.100.5"}, "198.51.100.5"},
				{"127.0.0.1:1000", [2]string{"Forwarded", `for="[2001:db8::6]:4711";proto=https`}, "2001:db8::6"},
				{"127.0.0.1:1000", [2]string{"Forwarded", "for=198.51.100.4, for=10.9.1.1"}, "198.51.100.4"},
				{"127.0.0.1:1000", [2]string{"Forwarded", `for="6.6.6.6, for=7.7.7.7", for=198.51.100.7`}, "198.51.100.7"},
			}
			for i, tc := range cases {
				path := fmt.Sprintf("/probe-%d", i) // a 404, logged with its path
				req := httptest.NewRequest("GET", path, nil)
				req.Header.Set(tc.header[0], tc.header[1])
				e.serve(req, tc.peer)
				want := tc.want
				if !strings.EqualFold(tc.header[0], believed) {
					want, _, _ = net.SplitHostPort(tc.peer)
				}
				line := lastLogLine(e.logs.String(), `"path":"`+path+`"`)
				if !strings.Contains(line, `"remote":"`+want+`"`) {
					t.Errorf("%s from %s: logged as %s, want %s", tc.header, tc.peer, line, want)
				}
			}
			// Two Forwarded lines: the client's first, the proxy's last.
			req := httptest.NewRequest("GET", "/probe-lines", nil)
			req.Header.Add("Forwarded", "for=6.6.6.6")
			req.Header.Add("Forwarded", "for=198.51.100.8")
			e.serve(req, "127.0.0.1:1000")
			want := "127.0.0.1"
			if believed == "Forwarded" {
				want = "198.51.100.8"
			}
			if line := lastLogLine(e.logs.String(), `"path":"/probe-lines"`); !strings.Contains(line, `"remote":"`+want+`"`) {
				t.Errorf("two Forwarded lines: logged as %s, want %s", line, want)
			}
		})
	}
}

func lastLogLine(logs, contains string) string {
	lines := strings.Split(logs, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], contains) {
			return lines[i]
		}
	}
	return ""
}

// TestAdminRefusesOtherHosts: without an admin token, a loopback client asking for another
// Host is a page whose name was pointed at 127.0.0.1 (DNS rebinding): refused. The host of
// public_url is accepted.
func TestAdminRefusesOtherHosts(t *testing.T) {
	e := newEnv(t, time.Minute, func(c *server.Config) { c.Server.PublicURL = "https://signage.example.com" })
	for host, want := range map[string]int{
		"localhost:8080":         200,
		"127.0.0.1:8080":         200,
		"[::1]:8080":             200,
		"kiosk.localhost":        200,
		"signage.example.com":    200,
		"evil.example.net:8080":  403,
		"127.0.0.1.nip.io:8080":  403,
		"signage.example.com.ev": 403,
	} {
		req := httptest.NewRequest("GET", "/admin/status.json", nil)
		req.Host = host
		if rec := e.serve(req, "127.0.0.1:5000"); rec.Code != want {
			t.Errorf("Host %s: %d, want %d", host, rec.Code, want)
		}
	}
}

// TestAdminCookie: the login cookie holds an HMAC of the token, not the token; it is
// Secure when the request came over HTTPS as a trusted proxy reports it; /admin is never
// stored by a cache.
func TestAdminCookie(t *testing.T) {
	const token = "admin-token-for-tests-123"
	e := newEnv(t, time.Minute, func(c *server.Config) {
		c.Server.AdminToken = token
		c.Server.TrustedProxies = []string{"127.0.0.1/32"}
		c.Server.ClientIPHeader = "X-Forwarded-For"
	})
	login := func(peer, proto string) string {
		req := httptest.NewRequest("GET", "/admin?token="+token, nil)
		if proto != "" {
			req.Header.Set("X-Forwarded-Proto", proto)
		}
		rec := e.serve(req, peer)
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("login: %d", rec.Code)
		}
		return rec.Header().Get("Set-Cookie")
	}
	plain := login("127.0.0.1:5000", "")
	if strings.Contains(plain, token) || strings.Contains(plain, "Secure") {
		t.Errorf("cookie over http: %q", plain)
	}
	if c := login("127.0.0.1:5000", "https"); !strings.Contains(c, "Secure") {
		t.Errorf("cookie over https through a trusted proxy: %q", c)
	}
	if c := login("203.0.113.9:5000", "https"); strings.Contains(c, "Secure") {
		t.Errorf("X-Forwarded-Proto from an untrusted peer was believed: %q", c)
	}
	cookie := strings.Split(plain, ";")[0]
	resp, _ := e.get("/admin", "Cookie", cookie)
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("with the cookie: %d, Cache-Control %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	if resp, _ := e.get("/admin", "Cookie", "signage_admin="+token); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the token itself as the cookie: %d, want 401", resp.StatusCode)
	}
	for _, scheme := range []string{"Bearer", "bearer", "BEARER"} {
		if resp, _ := e.get("/admin/status.json", "Authorization", scheme+" "+token); resp.StatusCode != 200 {
			t.Errorf("Authorization: %s …: %d", scheme, resp.StatusCode)
		}
	}
}

// TestScreenLimitPerRealAddress: behind a trusted proxy, the per-address limit counts the
// clients' addresses, not the proxy's: one greedy client cannot lock out every screen.
func TestScreenLimitPerRealAddress(t *testing.T) {
	e := newEnv(t, time.Minute, func(c *server.Config) {
		c.Server.TrustedProxies = []string{"127.0.0.1/32"}
		c.Server.ClientIPHeader = "X-Forwarded-For"
		c.Server.AdminToken = "admin-token-for-tests-123" // behind a proxy, /admin needs it
		c.Server.MaxScreensPerAddress = 2
	})
	dial := func(client string) (*websocket.Conn, int) {
		h := http.Header{"X-Forwarded-For": {client}}
		u := "ws" + strings.TrimPrefix(e.base, "http") + "/screens/" + lobby + "/ws"
		conn, resp, err := websocket.DefaultDialer.Dial(u, h)
		if err != nil {
			return nil, resp.StatusCode
		}
		return conn, 101
	}
	for i := range 2 {
		c, status := dial("198.51.100.7")
		if status != 101 {
			t.Fatalf("screen %d of the greedy client: %d", i, status)
		}
		defer c.Close()
	}
	if _, status := dial("198.51.100.7"); status != http.StatusTooManyRequests {
		t.Errorf("third screen of one client: %d, want 429", status)
	}
	c, status := dial("198.51.100.8")
	if status != 101 {
		t.Fatalf("another client's screen: %d, want 101", status)
	}
	defer c.Close()
	// A screen is registered just after its handshake's answer: wait for all three.
	var addrs map[string]int
	waitFor(t, 5*time.Second, "three screens on the status page", func() bool {
		screens := e.status().Screens
		addrs = map[string]int{}
		for _, s := range screens {
			addrs[s.Address]++
		}
		return len(screens) == 3
	})
	if addrs["198.51.100.7"] != 2 || addrs["198.51.100.8"] != 1 {
		t.Errorf("the status page lists addresses %v", addrs)
	}
}

// nginxBlocks are the nginx blocks of docs/operations.md: the whole file first, then the
// snippets, each opening with a comment that names it.
func nginxBlocks(t *testing.T) []string {
	t.Helper()
	doc, err := os.ReadFile("../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range regexp.MustCompile("(?s)```nginx\n(.*?)```").FindAllSubmatch(doc, -1) {
		out = append(out, string(m[1]))
	}
	if len(out) == 0 {
		t.Fatal("docs/operations.md has no nginx block")
	}
	return out
}

// nginxSnippet is the snippet of docs/operations.md whose first line starts with title,
// as the lines for the top of the file and those for the location ("# and in the
// location" parts them), comments dropped.
func nginxSnippet(t *testing.T, title string) (top, location []string) {
	t.Helper()
	for _, b := range nginxBlocks(t)[1:] {
		if !strings.HasPrefix(b, title) {
			continue
		}
		lines := strings.Split(b, "\n")
		part := &location
		if strings.Contains(lines[0], "at the top of the file") {
			part = &top
		}
		for _, line := range lines[1:] {
			switch trimmed := strings.TrimSpace(line); {
			case strings.HasPrefix(trimmed, "# and in the location"):
				part = &location
			case trimmed == "" || strings.HasPrefix(trimmed, "#"):
			default:
				*part = append(*part, line)
			}
		}
		return top, location
	}
	t.Fatalf("docs/operations.md has no nginx snippet %q", title)
	return nil, nil
}

// nginxConf is the nginx file of docs/operations.md, with the client named in header (the
// file as it is for X-Forwarded-For; with the X-Real-IP or the Forwarded snippet in place
// of its lines otherwise), pointed at this test's ports and files: the listen line, the
// certificate lines, the upstream and the log path.
func nginxConf(t *testing.T, listen, upstream, dir, header string) string {
	t.Helper()
	var top, location []string
	replaced := map[string]bool{}
	switch header {
	case "X-Forwarded-For":
	case "X-Real-IP":
		top, location = nginxSnippet(t, "# X-Real-IP")
		replaced["X-Forwarded-For"] = true
	case "Forwarded":
		top, location = nginxSnippet(t, "# Forwarded")
		replaced["X-Forwarded-For"], replaced["X-Forwarded-Proto"] = true, true
	default:
		t.Fatalf("no nginx file for %s", header)
	}
	out := append([]string{}, top...)
	for _, line := range strings.Split(nginxBlocks(t)[0], "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "listen "):
			line = "    listen " + listen + ";"
		case strings.HasPrefix(trimmed, "ssl_"):
			continue
		case strings.HasPrefix(trimmed, "access_log "):
			line = strings.Replace(line, "/var/log/nginx/", dir+"/", 1)
		case strings.HasPrefix(trimmed, "proxy_pass "):
			line = "        proxy_pass http://" + upstream + ";"
			out = append(out, line)
			out = append(out, location...)
			continue
		case strings.HasPrefix(trimmed, "proxy_set_header "):
			if f := strings.Fields(trimmed); replaced[f[1]] {
				continue
			}
		}
		out = append(out, line)
	}
	return nginxMain(dir, strings.Join(out, "\n"))
}

// nginxMain wraps the http-level text of a site in a whole nginx.conf whose files all live
// in dir.
func nginxMain(dir, site string) string {
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;"
	}
	return fmt.Sprintf(`%s
daemon off;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log;
events { worker_connections 256; }
http {
    client_body_temp_path %[2]s/body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/fastcgi;
    uwsgi_temp_path %[2]s/uwsgi;
    scgi_temp_path %[2]s/scgi;
    access_log off;
%[3]s
}
`, user, dir, site)
}

// startNginx runs Debian's nginx in front of the server on a free port, with the file of
// docs/operations.md that names the client in X-Forwarded-For.
func startNginx(t *testing.T, upstream string) (base, dir string) {
	t.Helper()
	return startNginxWith(t, func(listen, dir string) string {
		return nginxConf(t, listen, upstream, dir, "X-Forwarded-For")
	})
}

// startNginxWith runs Debian's nginx on a free port with the configuration conf makes for
// that listen address and a directory of its own. Without nginx the test fails naming the
// package, unless SIGNAGE_SKIP_NGINX=1 asks to skip it on purpose.
func startNginxWith(t *testing.T, conf func(listen, dir string) string) (base, dir string) {
	t.Helper()
	if os.Getenv("SIGNAGE_SKIP_NGINX") == "1" {
		t.Skip("SIGNAGE_SKIP_NGINX=1: nginx tests skipped on purpose")
	}
	bin, err := exec.LookPath("nginx")
	if err != nil {
		// /usr/sbin is not on every user's PATH.
		if _, serr := os.Stat("/usr/sbin/nginx"); serr != nil {
			t.Fatal("nginx not found: install it (apt-get install nginx), or set SIGNAGE_SKIP_NGINX=1 to skip the nginx tests on purpose")
		}
		bin = "/usr/sbin/nginx"
	}
	dir = t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf(addr, dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-c", confPath)
	out := &logBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt) //nolint:errcheck
		cmd.Wait()                       //nolint:errcheck
		if t.Failed() {
			errs, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx said: %s%s", out, errs)
		}
	})
	base = "http://" + addr
	waitFor(t, 10*time.Second, "nginx to listen", func() bool {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			return resp.StatusCode == 200
		}
		return false
	})
	return base, dir
}

// fromAddr is an HTTP client whose connections leave from a given loopback address, so
// that clients behind the proxy have addresses of their own.
func fromAddr(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{
		Transport:     &http.Transport{DialContext: d.DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// TestBehindNginx: Debian's nginx with the configuration of docs/operations.md, on a port
// other than 443, in front of a server that trusts it. Screens connect through it, each
// client counted by its own address; feed links keep the port; nobody is "this machine";
// the access log holds no access key.
func TestBehindNginx(t *testing.T) {
	e := newEnv(t, time.Minute, func(c *server.Config) {
		c.Server.TrustedProxies = []string{"127.0.0.1/32"}
		c.Server.ClientIPHeader = "X-Forwarded-For"
		c.Server.AdminToken = "admin-token-for-tests-123"
		c.Server.MaxScreensPerAddress = 1
		c.Server.AccessKeys = []string{testKey}
	})
	proxy, dir := startNginx(t, strings.TrimPrefix(e.base, "http://"))

	// Without the admin token nobody passes, the proxy being on this machine.
	if resp, err := fromAddr("127.0.0.1").Get(proxy + "/admin"); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("/admin through nginx without the token: %v %v", resp, err)
	}

	// HEAD through the proxy, as an uptime monitor sends it.
	req, _ := http.NewRequest(http.MethodHead, proxy+"/healthz", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Errorf("HEAD /healthz through nginx: %v %v", resp, err)
	}

	// Feed links carry the address and port the reader used.
	var feed struct {
		Home string `json:"home_page_url"`
		Self string `json:"feed_url"`
	}
	resp, err := fromAddr("127.0.0.2").Get(proxy + "/api/feed.json?key=" + testKey)
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&feed) //nolint:errcheck
	resp.Body.Close()
	if !strings.HasPrefix(feed.Home, proxy+"/screens/") || !strings.HasPrefix(feed.Self, proxy+"/api/feed.json") {
		t.Errorf("feed links %q %q, want them below %s", feed.Home, feed.Self, proxy)
	}

	// Two screens from two clients, with one screen allowed per address: both get in,
	// each with its own address; a second screen from the first client is refused.
	wsURL := "ws" + strings.TrimPrefix(proxy, "http") + "/screens/" + lobby + "/ws?key=" + testKey
	dial := func(ip string) (*websocket.Conn, int) {
		d := websocket.Dialer{NetDial: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}).Dial, HandshakeTimeout: 10 * time.Second}
		conn, resp, err := d.Dial(wsURL, http.Header{"Origin": {proxy}})
		if err != nil {
			if resp == nil {
				t.Fatalf("dial from %s: %v", ip, err)
			}
			return nil, resp.StatusCode
		}
		return conn, 101
	}
	for _, ip := range []string{"127.0.0.2", "127.0.0.3"} {
		conn, status := dial(ip)
		if status != 101 {
			t.Fatalf("screen from %s through nginx: %d", ip, status)
		}
		defer conn.Close()
		if m := readMessage(t, conn, 10*time.Second); m.Type != "deck" {
			t.Errorf("first message %q", m.Type)
		}
	}
	if _, status := dial("127.0.0.2"); status != http.StatusTooManyRequests {
		t.Errorf("a second screen from 127.0.0.2: %d, want 429", status)
	}
	st := e.status()
	got := map[string]bool{}
	for _, s := range st.Screens {
		got[s.Address] = true
	}
	if !got["127.0.0.2"] || !got["127.0.0.3"] || len(got) != 2 {
		t.Errorf("the status page lists addresses %v", got)
	}

	logs, err := os.ReadFile(filepath.Join(dir, "signage.access.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(logs), "/api/feed.json") || strings.Contains(string(logs), testKey) {
		t.Errorf("nginx access log: feed logged %v, key logged %v", strings.Contains(string(logs), "/api/feed.json"), strings.Contains(string(logs), testKey))
	}
}

// TestAdminButtonsBehindNginx: behind nginx on a port other than 443, with an admin token,
// a browser's button on /admin (a form POST with the page's Origin) is accepted.
func TestAdminButtonsBehindNginx(t *testing.T) {
	const token = "admin-token-for-tests-123"
	e := newEnv(t, time.Minute, func(c *server.Config) {
		c.Server.TrustedProxies = []string{"127.0.0.1/32"}
		c.Server.ClientIPHeader = "X-Forwarded-For"
		c.Server.AdminToken = token
	})
	proxy, _ := startNginx(t, strings.TrimPrefix(e.base, "http://"))
	client := fromAddr("127.0.0.2")
	resp, err := client.Get(proxy + "/admin?token=" + token)
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login through nginx: %v %v", resp, err)
	}
	cookie := strings.Split(resp.Header.Get("Set-Cookie"), ";")[0]
	req, _ := http.NewRequest("GET", proxy+"/admin", nil)
	req.Header.Set("Cookie", cookie)
	resp, err = client.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/admin through nginx: %v %v", resp, err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if csrf == nil {
		t.Fatal("no csrf token on /admin")
	}
	for name, origin := range map[string]string{"same origin": proxy, "another site": "https://evil.example.com"} {
		form := url.Values{"csrf": {string(csrf[1])}, "userlist": {lobby}}
		req, _ := http.NewRequestWithContext(context.Background(), "POST", proxy+"/admin/fetch", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Cookie", cookie)
		req.Header.Set("Origin", origin)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := http.StatusSeeOther
		if name == "another site" {
			want = http.StatusForbidden
		}
		if resp.StatusCode != want {
			t.Errorf("Fetch now from %s: %d, want %d", name, resp.StatusCode, want)
		}
	}
}

// TestBehindNginxEachHeader: Debian's nginx with each way docs/operations.md names the
// client (X-Forwarded-For appended with $proxy_add_x_forwarded_for, X-Real-IP set to
// $remote_addr, Forwarded appended by the map), and a client that sends its own
// X-Forwarded-For, X-Real-IP and Forwarded through it, several lines and a comma in a
// quoted string among them. The server believes only the header it was told to, and sees
// the client's real address: in its log, and in the per-address screen limit, which an
// invented address used to get past (8 sockets of 8 behind an nginx that set X-Real-IP).
func TestBehindNginxEachHeader(t *testing.T) {
	for _, header := range []string{"X-Forwarded-For", "X-Real-IP", "Forwarded"} {
		t.Run(header, func(t *testing.T) {
			e := newEnv(t, time.Minute, func(c *server.Config) {
				c.Server.TrustedProxies = []string{"127.0.0.1/32"}
				c.Server.ClientIPHeader = header
				c.Server.AdminToken = "admin-token-for-tests-123"
				c.Server.MaxScreensPerAddress = 1
			})
			upstream := strings.TrimPrefix(e.base, "http://")
			proxy, _ := startNginxWith(t, func(listen, dir string) string { return nginxConf(t, listen, upstream, dir, header) })

			spoofs := []http.Header{
				{"X-Forwarded-For": {"6.6.6.1"}},
				{"X-Real-Ip": {"6.6.6.2"}},
				{"Forwarded": {"for=6.6.6.3"}},
				{"Forwarded": {"for=6.6.6.4", "for=6.6.6.5;proto=https"}},
				{"Forwarded": {`for="6.6.6.6, for=6.6.6.7"`}},
				{"X-Forwarded-For": {"6.6.6.8"}, "X-Real-Ip": {"6.6.6.9"}, "Forwarded": {"for=6.6.6.10"}},
			}
			client := fromAddr("127.0.0.2")
			for i, h := range spoofs {
				path := fmt.Sprintf("/probe-%d", i) // a 404, logged with its path and address
				req, _ := http.NewRequest("GET", proxy+path, nil)
				req.Header = h.Clone()
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if line := lastLogLine(e.logs.String(), `"path":"`+path+`"`); !strings.Contains(line, `"remote":"127.0.0.2"`) {
					t.Errorf("a client at 127.0.0.2 sending %v: logged as %s", h, line)
				}
			}

			// One screen per address: a second one under an invented address is refused.
			wsURL := "ws" + strings.TrimPrefix(proxy, "http") + "/screens/" + lobby + "/ws"
			d := websocket.Dialer{NetDial: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).Dial, HandshakeTimeout: 10 * time.Second}
			first, _, err := d.Dial(wsURL, http.Header{"X-Forwarded-For": {"6.6.7.1"}, "X-Real-Ip": {"6.6.7.1"}, "Forwarded": {"for=6.6.7.1"}})
			if err != nil {
				t.Fatalf("the first screen: %v", err)
			}
			defer first.Close()
			for i := 2; i <= 8; i++ {
				invented := fmt.Sprintf("6.6.7.%d", i)
				conn, resp, err := d.Dial(wsURL, http.Header{"X-Forwarded-For": {invented}, "X-Real-Ip": {invented}, "Forwarded": {"for=" + invented}})
				if err == nil {
					conn.Close()
					t.Errorf("screen %d of one client, as %s: connected, want 429", i, invented)
				} else if resp == nil || resp.StatusCode != http.StatusTooManyRequests {
					t.Errorf("screen %d of one client, as %s: %v, want 429", i, invented, err)
				}
			}
			if got := e.status().Screens; len(got) != 1 || got[0].Address != "127.0.0.2" {
				t.Errorf("the status page lists %+v, want one screen at 127.0.0.2", got)
			}
		})
	}
}

// TestBareProxyPass: nginx on this machine with nothing but proxy_pass sends
// Host: 127.0.0.1:PORT and no forwarding header, so its requests look like this machine's
// own. With trusted_proxies set and no admin token, /admin, its API and /metrics refuse
// everyone with a 403 that says why, and the log says so once at start; with a token,
// the bare proxy needs it like anyone.
func TestBareProxyPass(t *testing.T) {
	bare := func(upstream string) func(listen, dir string) string {
		return func(listen, dir string) string {
			return nginxMain(dir, "    server {\n        listen "+listen+";\n        location / { proxy_pass http://"+upstream+"; }\n    }")
		}
	}
	e := newEnv(t, time.Minute, func(c *server.Config) {
		c.Server.TrustedProxies = []string{"127.0.0.1/32"}
		c.Server.ClientIPHeader = "X-Forwarded-For"
	})
	proxy, _ := startNginxWith(t, bare(strings.TrimPrefix(e.base, "http://")))
	client := fromAddr("127.0.0.2")
	do := func(base, method, path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	urgent := `{"text":"Evacuate now","severity":"urgent","expires_at":"` + time.Now().Add(time.Hour).UTC().Format(time.RFC3339) + `"}`
	for _, base := range []string{proxy, e.base} { // through nginx, and this machine's own curl
		for _, r := range []struct{ method, path, body string }{
			{"GET", "/admin", ""}, {"GET", "/admin/status.json", ""}, {"GET", "/metrics", ""},
			{"POST", "/admin/announcements", urgent}, {"GET", "/admin/announcements", ""},
		} {
			if status, body := do(base, r.method, r.path, r.body); status != http.StatusForbidden || !strings.Contains(body, "server.admin_token") {
				t.Errorf("%s %s%s without a token: %d %.200s, want 403 naming server.admin_token", r.method, base, r.path, status, body)
			}
		}
	}
	if n := strings.Count(e.logs.String(), "server.trusted_proxies is set and server.admin_token is not"); n != 1 {
		t.Errorf("the log says why %d times, want once", n)
	}
	if _, page := e.get("/screens/" + lobby); strings.Contains(page, "Evacuate now") {
		t.Errorf("the screens show the announcement posted through the bare proxy")
	}

	const token = "admin-token-for-tests-123"
	e2 := newEnv(t, time.Minute, func(c *server.Config) {
		c.Server.TrustedProxies = []string{"127.0.0.1/32"}
		c.Server.ClientIPHeader = "X-Forwarded-For"
		c.Server.AdminToken = token
	})
	proxy2, _ := startNginxWith(t, bare(strings.TrimPrefix(e2.base, "http://")))
	if status, _ := do(proxy2, "GET", "/admin/status.json", ""); status != http.StatusUnauthorized {
		t.Errorf("through the bare proxy without the token: %d, want 401", status)
	}
	req, _ := http.NewRequest("GET", proxy2+"/admin/status.json", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if resp, err := client.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("through the bare proxy with the token: %v %v", resp, err)
	}
}
