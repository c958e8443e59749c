package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/spencer-signage/signage/server/news/redistest"
	"github.com/spencer-signage/signage/spencerclient/spencertest"
)

// The cluster tests run the real binary, several processes sharing Debian's redis-server
// (started here on a free port for each test) and one spencertest fake, so
// that a leader can be killed with SIGKILL as a crash would.

const (
	lobby        = "3f0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3f"
	pollInterval = time.Second // the shortest the configuration allows
	lease        = 15 * time.Second
)

var (
	buildOnce  sync.Once
	signageBin string
	buildErr   error
	scratch    string
)

func TestMain(m *testing.M) {
	var err error
	scratch, err = os.MkdirTemp("", "signage-cluster-")
	if err != nil {
		panic(err)
	}
	// Readable by anyone: a test runs the binary as another user.
	os.Chmod(scratch, 0o755) //nolint:errcheck // the test that needs it says so
	code := m.Run()
	os.RemoveAll(scratch)
	os.Exit(code)
}

// binary builds the signage binary once for the package's tests; TestMain removes it
// when they end, failed or not.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		signageBin = filepath.Join(scratch, "signage")
		out, err := exec.Command("go", "build", "-o", signageBin, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return signageBin
}

// needRedis fails a test that needs Debian's redis-server when it is missing, naming the
// package, unless SIGNAGE_SKIP_REDIS=1 asks to skip the Redis tests on purpose.
func needRedis(t *testing.T) { t.Helper(); redistest.Require(t) }

// startRedis starts a redis-server for one test (which restarts it), stopped when the test ends.
func startRedis(t *testing.T) *redistest.Server {
	t.Helper()
	needRedis(t)
	rs, err := redistest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rs.Stop)
	return rs
}

// syncBuffer is a process's stderr, read while it is written.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// instance is one signage process of the cluster.
type instance struct {
	name string
	cmd  *exec.Cmd
	base string
	logs *syncBuffer
	done chan struct{}
}

func startInstance(t *testing.T, name string, fake *spencertest.Server, redisURL, prefix string) *instance {
	t.Helper()
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	config := fmt.Sprintf(`
[server]
listen = %q
data_dir = %q
log_format = "json"

[spencer]
demo = false
api_url = %q
token_url = %q
client_id = %q
poll_interval = "1s"
request_timeout = "2s"

[screens]
default_userlist = %q

[[screens.userlist]]
id = %q
name = "Lobby"

[cluster]
redis_url = %q
key_prefix = %q
`, addr, filepath.Join(dir, "data"), fake.APIURL(), fake.TokenURL(), spencertest.ClientID, lobby, lobby, redisURL, prefix)
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	in := &instance{name: name, base: "http://" + addr, logs: &syncBuffer{}, done: make(chan struct{})}
	in.cmd = exec.Command(binary(t), "-config", path)
	in.cmd.Env = append(os.Environ(), "SPENCER_CLIENT_SECRET="+spencertest.ClientSecret)
	in.cmd.Stdout, in.cmd.Stderr = in.logs, in.logs
	if err := in.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { in.cmd.Wait(); close(in.done) }() //nolint:errcheck
	t.Cleanup(func() {
		in.cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck
		select {
		case <-in.done:
		case <-time.After(10 * time.Second):
			in.cmd.Process.Kill() //nolint:errcheck
		}
		if t.Failed() {
			t.Logf("--- log of %s ---\n%s", name, in.logs.String())
		}
	})
	waitFor(t, 10*time.Second, name+" to serve", func() bool {
		resp, err := http.Get(in.base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return in
}

// kill ends the process as a crash would: no lease given back, no socket closed politely.
func (in *instance) kill() {
	in.cmd.Process.Signal(syscall.SIGKILL) //nolint:errcheck
	<-in.done
}

type clusterStatus struct {
	Cluster *struct {
		Instance string `json:"instance"`
		Role     string `json:"role"`
		Redis    string `json:"redis"`
	} `json:"cluster"`
	Instances []struct {
		ID     string `json:"id"`
		Leader bool   `json:"leader"`
	} `json:"instances"`
	Screens []struct {
		ID       string     `json:"id"`
		Instance string     `json:"instance"`
		Userlist string     `json:"userlist"`
		Left     *time.Time `json:"disconnected_at"`
	} `json:"screens"`
}

func (in *instance) status(t *testing.T) clusterStatus {
	t.Helper()
	var st clusterStatus
	resp, err := http.Get(in.base + "/admin/status.json")
	if err != nil {
		return st
	}
	defer resp.Body.Close()
	json.NewDecoder(resp.Body).Decode(&st) //nolint:errcheck
	return st
}

func (in *instance) ready() bool {
	resp, err := http.Get(in.base + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == 200
}

func (in *instance) leading(t *testing.T) bool {
	st := in.status(t)
	return st.Cluster != nil && st.Cluster.Role == "leader"
}

// screen is a WebSocket screen connected to one instance.
type screen struct {
	conn *websocket.Conn
	msgs chan map[string]string
}

func connectScreen(t *testing.T, in *instance, sid string) *screen {
	t.Helper()
	u := "ws" + strings.TrimPrefix(in.base, "http") + "/screens/" + lobby + "/ws?sid=" + sid
	conn, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatalf("screen on %s: %v", in.name, err)
	}
	t.Cleanup(func() { conn.Close() })
	s := &screen{conn: conn, msgs: make(chan map[string]string, 64)}
	go func() {
		defer close(s.msgs)
		for {
			_, b, err := conn.ReadMessage()
			if err != nil {
				return
			}
			var m map[string]any
			json.Unmarshal(b, &m) //nolint:errcheck
			flat := map[string]string{}
			for k, v := range m {
				flat[k] = fmt.Sprint(v)
			}
			s.msgs <- flat
		}
	}()
	return s
}

// await reads messages until one satisfies ok, or fails after timeout.
func (s *screen) await(t *testing.T, timeout time.Duration, what string, ok func(map[string]string) bool) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case m, open := <-s.msgs:
			if !open {
				t.Fatalf("%s: the screen's connection closed", what)
			}
			if ok(m) {
				return
			}
		case <-deadline:
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
	}
}

func deckWith(title string) func(map[string]string) bool {
	return func(m map[string]string) bool { return m["type"] == "deck" && strings.Contains(m["html"], title) }
}

func publications(title string) []map[string]any {
	return []map[string]any{{"id": "n1", "title": title, "body": "<p>Details.</p>", "publishedAt": "2026-11-20T09:00:00Z"}}
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestClusterOfThree: three instances behind one Redis behave toward Spencer as one, show
// every change on every screen, see each other's screens, survive the leader's crash and
// Redis losing everything, and a new instance shows news at once while Spencer fails.
func TestClusterOfThree(t *testing.T) {
	rs := startRedis(t)
	fake := spencertest.NewServer()
	defer fake.Close()
	fake.SetPublications(lobby, publications("Town hall on Friday"))
	prefix := fmt.Sprintf("cluster%d:", time.Now().UnixNano())
	var ins []*instance
	for i := range 3 {
		ins = append(ins, startInstance(t, fmt.Sprintf("i%d", i), fake, rs.URL(0), prefix))
	}
	for _, in := range ins {
		waitFor(t, 20*time.Second, in.name+" ready", in.ready)
	}
	var leader *instance
	waitFor(t, 20*time.Second, "one leader", func() bool {
		n := 0
		for _, in := range ins {
			if in.leading(t) {
				leader, n = in, n+1
			}
		}
		return n == 1
	})
	t.Logf("leader: %s", leader.name)

	screens := make([]*screen, len(ins))
	for i, in := range ins {
		screens[i] = connectScreen(t, in, fmt.Sprintf("00000000-0000-4000-8000-00000000000%d", i))
		screens[i].await(t, 10*time.Second, "the first deck on "+in.name, deckWith("Town hall on Friday"))
	}

	// Upstream sees one instance: one publications request per interval, one token.
	start, from := time.Now(), fake.PublicationRequestsFor(lobby)
	waitFor(t, 30*time.Second, "five more polls", func() bool { return fake.PublicationRequestsFor(lobby) >= from+5 })
	if took := time.Since(start); took < 4*time.Duration(0.9*float64(pollInterval)) {
		t.Errorf("5 publications requests in %v with three instances: more than one poller", took)
	}
	if n := fake.TokensIssued(); n != 1 {
		t.Errorf("%d tokens issued for the cluster, want 1", n)
	}

	// A change upstream reaches the screens of all three.
	changed := time.Now()
	fake.SetPublications(lobby, publications("Canteen closed on Monday"))
	for i, s := range screens {
		s.await(t, pollInterval+5*time.Second, "the change on "+ins[i].name, deckWith("Canteen closed on Monday"))
	}
	t.Logf("change on every screen after %v", time.Since(changed).Round(time.Millisecond))

	// Any instance's status page shows every screen of the cluster and where it is.
	var follower *instance
	for _, in := range ins {
		if in != leader {
			follower = in
		}
	}
	var st clusterStatus
	waitFor(t, 15*time.Second, "every screen on a follower's status page", func() bool {
		st = follower.status(t)
		where := map[string]bool{}
		for _, sc := range st.Screens {
			if sc.Left == nil {
				where[sc.Instance] = true
			}
		}
		return len(where) == 3 && len(st.Instances) == 3
	})
	leaders := 0
	for _, i := range st.Instances {
		if i.Leader {
			leaders++
		}
	}
	if leaders != 1 {
		t.Errorf("the status page shows %d leaders", leaders)
	}
	if _, page := get(t, follower.base+"/admin"); strings.Count(page, `data-testid="admin-instance"`) != 3 || strings.Count(page, `data-testid="screen-instance"`) < 3 {
		t.Errorf("the status page does not show the instances and where each screen is")
	}

	// An on-demand userlist read on a follower is polled by the leader, once for all.
	const onDemand = "5d5d5d5d-0000-4000-8000-000000000001"
	fake.SetPublications(onDemand, publications("Only on demand"))
	for _, in := range ins {
		if status, body := get(t, in.base+"/api/feed.json?userlist="+onDemand); status != 200 || !strings.Contains(body, "Only on demand") {
			t.Errorf("on-demand userlist on %s: %d", in.name, status)
		}
	}
	if n := fake.PublicationRequestsFor(onDemand); n != 1 {
		t.Errorf("the on-demand userlist was asked %d times for three instances, want 1", n)
	}

	// "Reload" on one instance reaches a screen held by another.
	var other string
	for _, sc := range st.Screens {
		if sc.Left == nil && sc.Instance != st.Cluster.Instance && sc.Instance == leader.status(t).Cluster.Instance {
			other = sc.ID
		}
	}
	if other == "" {
		t.Fatal("no screen of the leader on the follower's status page")
	}
	postAdmin(t, follower, "/admin/reload", url.Values{"screen": {other}})
	screens[indexOf(ins, leader)].await(t, 5*time.Second, "the reload of a screen on another instance", func(m map[string]string) bool { return m["type"] == "reload" })

	// An announcement posted on one instance reaches the screens of all three, and ends on
	// all three when another instance ends it.
	posted := postAnnouncement(t, follower, `{"text":"Fire drill at 11:00","severity":"urgent","expires_at":"`+time.Now().Add(time.Hour).UTC().Format(time.RFC3339)+`"}`)
	for i, s := range screens {
		s.await(t, 5*time.Second, "the announcement on "+ins[i].name, func(m map[string]string) bool {
			return m["type"] == "announcements" && strings.Contains(m["html"], "Fire drill at 11:00")
		})
	}
	req, _ := http.NewRequest(http.MethodDelete, leader.base+"/admin/announcements/"+posted, nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE the announcement on another instance: %v %v", resp, err)
	}
	for i, s := range screens {
		s.await(t, 5*time.Second, "the end of the announcement on "+ins[i].name, func(m map[string]string) bool {
			return m["type"] == "announcements" && m["html"] == ""
		})
	}

	// The leader crashes: another instance takes the lease within the lease time, goes on
	// from the content in Redis with the shared token, and changes still reach the screens.
	tokens := fake.TokensIssued()
	killed := time.Now()
	leader.kill()
	var rest []*instance
	var restScreens []*screen
	for i, in := range ins {
		if in != leader {
			rest, restScreens = append(rest, in), append(restScreens, screens[i])
		}
	}
	fake.SetPublications(lobby, publications("Fire drill at 11:00"))
	for i, s := range restScreens {
		s.await(t, lease+pollInterval+5*time.Second, "the change after the leader's crash on "+rest[i].name, deckWith("Fire drill at 11:00"))
	}
	t.Logf("after the leader's crash, the change reached the others in %v (lease %v)", time.Since(killed).Round(time.Millisecond), lease)
	if n := fake.TokensIssued() - tokens; n > 1 {
		t.Errorf("%d new tokens after the failover, want at most 1", n)
	}

	// A fourth instance, started while Spencer fails, shows the last news at once.
	fake.SetFault(spencertest.Fault{Status: 503})
	fourth := startInstance(t, "i3", fake, rs.URL(0), prefix)
	waitFor(t, 10*time.Second, "the fourth instance ready while Spencer fails", fourth.ready)
	resp, err := http.Get(fourth.base + "/screens/" + lobby)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "Fire drill at 11:00") {
		t.Errorf("the fourth instance's screen lacks the last news")
	}
	fake.SetFault(spencertest.Fault{})

	// Redis restarts empty: everything converges by itself, and the announcement on the
	// screens stays (the instances put back what Redis lost).
	postAnnouncement(t, rest[0], `{"text":"Canteen opens at 12:00","severity":"info","expires_at":"`+time.Now().Add(time.Hour).UTC().Format(time.RFC3339)+`"}`)
	for i, s := range restScreens {
		s.await(t, 5*time.Second, "the info announcement on "+rest[i].name, func(m map[string]string) bool {
			return m["type"] == "announcements" && strings.Contains(m["html"], "Canteen opens at 12:00")
		})
	}
	if err := rs.Restart(); err != nil {
		t.Fatal(err)
	}
	restarted := time.Now()
	fake.SetPublications(lobby, publications("Redis came back"))
	for i, s := range restScreens {
		s.await(t, lease+pollInterval+10*time.Second, "a change after Redis restarted on "+rest[i].name, func(m map[string]string) bool {
			if m["type"] == "announcements" {
				t.Errorf("%s: the announcements changed after Redis restarted: %q", rest[i].name, m["html"])
			}
			return deckWith("Redis came back")(m)
		})
	}
	t.Logf("after Redis restarted, the change reached the screens in %v", time.Since(restarted).Round(time.Millisecond))
	// The board in Redis holds it again: one posted now is listed beside it everywhere.
	postAnnouncement(t, rest[1], `{"text":"Lift out of order","severity":"info","expires_at":"`+time.Now().Add(time.Hour).UTC().Format(time.RFC3339)+`"}`)
	for _, in := range rest {
		waitFor(t, 5*time.Second, "both announcements listed on "+in.name, func() bool {
			_, body := get(t, in.base+"/admin/announcements")
			return strings.Contains(body, "Canteen opens at 12:00") && strings.Contains(body, "Lift out of order")
		})
	}
}

// postAnnouncement posts an announcement (JSON) on an instance, from its own machine.
func postAnnouncement(t *testing.T, in *instance, body string) string {
	t.Helper()
	resp, err := http.Post(in.base+"/admin/announcements", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var posted struct{ ID string }
	json.NewDecoder(resp.Body).Decode(&posted) //nolint:errcheck
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST an announcement on %s: %d", in.name, resp.StatusCode)
	}
	return posted.ID
}

// TestClusterWaitsForRedis: an instance whose Redis is not there yet starts anyway (no
// crash loop), serves, says it is not ready and why, and joins once Redis answers; what
// it says and logs never holds the Redis password.
func TestClusterWaitsForRedis(t *testing.T) {
	needRedis(t)
	fake := spencertest.NewServer()
	defer fake.Close()
	fake.SetPublications(lobby, publications("Town hall on Friday"))
	rs := redistest.Reserve()
	defer rs.Stop()
	url := fmt.Sprintf("redis://:s3cret-redis-pass@%s/0", rs.Addr())
	in := startInstance(t, "alone", fake, url, "waits:")
	resp, err := http.Get(in.base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.HasPrefix(string(body), "not ready: redis_unreachable") {
		t.Errorf("readyz without Redis: %d %q", resp.StatusCode, body)
	}
	waitFor(t, 10*time.Second, "the outage logged", func() bool { return strings.Contains(in.logs.String(), "Redis does not answer") })
	if err := rs.Up(); err != nil {
		t.Fatal(err)
	}
	// (This Redis has no password; the one in the URL is there to be kept out of the log.)
	waitFor(t, 45*time.Second, "the instance to join once Redis answers", in.ready)
	resp, _ = http.Get(in.base + "/readyz")
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "role: leader") || !strings.Contains(string(body), "redis: up") {
		t.Errorf("readyz of a lone instance: %q", body)
	}
	_, metrics := get(t, in.base+"/metrics")
	if !strings.Contains(metrics, "signage_cluster_leader 1") || !strings.Contains(metrics, "signage_redis_up 1") {
		t.Errorf("metrics lack the role or Redis' state")
	}
	if strings.Contains(in.logs.String(), "s3cret-redis-pass") {
		t.Errorf("the log holds the Redis password")
	}
}

// TestBadRedisURL: a Redis URL that cannot be read is a configuration error naming the key,
// without the URL (it may hold a password).
func TestBadRedisURL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(path, []byte("[cluster]\nredis_url = \"http://user:pa55word@redis.example.com\"\n"), 0o600) //nolint:errcheck
	var stderr strings.Builder
	status := Run(t.Context(), []string{"-config", path}, func(string) string { return "" }, io.Discard, &stderr)
	if status != 2 || !strings.Contains(stderr.String(), "cluster.redis_url") || strings.Contains(stderr.String(), "pa55word") {
		t.Errorf("status %d, stderr %q", status, stderr.String())
	}
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func indexOf(ins []*instance, in *instance) int {
	for i, x := range ins {
		if x == in {
			return i
		}
	}
	return -1
}

// postAdmin posts an action as the status page's form does.
func postAdmin(t *testing.T, in *instance, path string, form url.Values) {
	t.Helper()
	resp, err := http.Get(in.base + "/admin")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatal("no csrf token on /admin")
	}
	form.Set("csrf", string(m[1]))
	req, _ := http.NewRequest("POST", in.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-CSRF-Token", string(m[1]))
	resp, err = http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("%s on %s: %d", path, in.name, resp.StatusCode)
	}
}
