package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spencer-signage/signage/server"
	"github.com/spencer-signage/signage/server/media/mediatest"
	"github.com/spencer-signage/signage/server/news"
	"github.com/spencer-signage/signage/server/news/redistest"
	"github.com/spencer-signage/signage/spencerclient"
	"github.com/spencer-signage/signage/spencerclient/spencertest"
)

// A cluster of servers in this process, each on its own loopback port, polling one
// spencertest fake: on the memory engine a single instance (a cluster of one, whose only
// way to share with another process is its data_dir after a restart), on the Redis engine
// two instances sharing Debian's redis-server.

// clusterKind makes the instances of one engine.
type clusterKind struct {
	name string
	// instances is how many instances run at once.
	instances int
	// store returns what instances of one cluster share ("" for the memory engine).
	store func(t *testing.T) string
	// engine returns the engine of an instance whose data_dir is dir, and the Redis URL of
	// its configuration.
	engine func(t *testing.T, store, dir string) (news.Engine, string)
}

var clusterKinds = []clusterKind{
	{
		name:      "memory",
		instances: 1,
		store:     func(*testing.T) string { return "" },
		engine: func(_ *testing.T, _, dir string) (news.Engine, string) {
			return news.NewMemory(news.MemoryConfig{DataDir: dir, Log: slog.New(slog.DiscardHandler)}), ""
		},
	},
	{
		name:      "redis",
		instances: 2,
		store: func(t *testing.T) string {
			redistest.Require(t)
			rs, err := redistest.Start()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(rs.Stop)
			return rs.URL(0)
		},
		engine: func(t *testing.T, redisURL, _ string) (news.Engine, string) {
			r, err := news.NewRedis(news.RedisConfig{URL: redisURL, Prefix: "test:", Lease: time.Second, Log: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			return r, redisURL
		},
	},
}

// node is one instance of the cluster.
type node struct {
	t      *testing.T
	srv    *server.Server
	engine news.Engine
	base   string
	dir    string
	closed bool
}

// startNode starts an instance with data_dir dir on the store of kind k.
func startNode(t *testing.T, k clusterKind, store, dir string, fake *spencertest.Server) *node {
	t.Helper()
	engine, redisURL := k.engine(t, store, dir)
	cfg := server.DefaultConfig()
	cfg.Spencer.Demo = false
	cfg.Spencer.APIURL, cfg.Spencer.TokenURL = fake.APIURL(), fake.TokenURL()
	cfg.Spencer.ClientID, cfg.Spencer.ClientSecret = spencertest.ClientID, spencertest.ClientSecret
	cfg.Spencer.PollInterval = server.Duration{Duration: time.Minute}
	cfg.Server.DataDir = dir
	cfg.Cluster.RedisURL, cfg.Cluster.KeyPrefix = redisURL, "test:"
	cfg.Screens.Userlists = []server.UserlistConfig{{ID: lobby, Name: "Lobby"}}
	log := slog.New(slog.DiscardHandler)
	client, err := spencerclient.New(spencerclient.Config{APIURL: fake.APIURL(), TokenURL: fake.TokenURL(),
		ClientID: spencertest.ClientID, ClientSecret: spencertest.ClientSecret, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	hub := server.NewHub(cfg.Server.MaxScreens, cfg.Server.MaxScreensPerAddress, log)
	poller := news.NewPoller(client, engine, hub, server.NewsConfig(cfg), log)
	srv := server.New(cfg, server.Options{News: poller, Hub: hub, Version: "test", Logger: log})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Open(ln)
	n := &node{t: t, srv: srv, engine: engine, base: "http://" + ln.Addr().String(), dir: dir}
	t.Cleanup(n.stop)
	return n
}

func (n *node) stop() {
	if n.closed {
		return
	}
	n.closed = true
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n.srv.Close(ctx) //nolint:errcheck
	n.engine.Close() //nolint:errcheck
}

// startCluster starts k.instances instances on one store, each with a data_dir of its own, and
// waits until the cluster has a leader and every instance has joined.
func startCluster(t *testing.T, k clusterKind) (*spencertest.Server, string, []*node) {
	t.Helper()
	fake := spencertest.NewServer()
	t.Cleanup(fake.Close)
	fake.SetPublications(lobby, []map[string]any{{"id": "l1", "title": "Town hall on Friday", "publishedAt": "2026-11-20T09:00:00Z"}})
	store := k.store(t)
	var nodes []*node
	for range k.instances {
		nodes = append(nodes, startNode(t, k, store, t.TempDir(), fake))
	}
	waitFor(t, 10*time.Second, "a leader, and every instance ready", func() bool {
		leaders := 0
		for _, n := range nodes {
			if n.engine.Leader() {
				leaders++
			}
			if resp, err := http.Get(n.base + "/readyz"); err != nil || resp.Body.Close() != nil || resp.StatusCode != http.StatusOK {
				return false
			}
		}
		return leaders == 1
	})
	return fake, store, nodes
}

// TestAnnouncementCapAcrossInstances: the cap of 50 active announcements holds whoever
// posts: 120 posts at once, spread over the instances of a cluster, leave 50 on every
// instance, and the other 70 are told why (409).
func TestAnnouncementCapAcrossInstances(t *testing.T) {
	for _, k := range clusterKinds {
		t.Run(k.name, func(t *testing.T) {
			_, _, nodes := startCluster(t, k)
			statuses := map[int]int{}
			var mu sync.Mutex
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range 120 {
				wg.Go(func() {
					<-start
					body := fmt.Sprintf(`{"text":"Announcement %d","severity":"info","expires_at":"%s"}`, i, inAnHour())
					resp, err := http.Post(nodes[i%len(nodes)].base+"/admin/announcements", "application/json", strings.NewReader(body))
					if err != nil {
						t.Error(err)
						return
					}
					resp.Body.Close()
					mu.Lock()
					statuses[resp.StatusCode]++
					mu.Unlock()
				})
			}
			close(start)
			wg.Wait()
			if statuses[http.StatusCreated] != 50 || statuses[http.StatusConflict] != 70 {
				t.Errorf("answers %v, want 50 × 201 and 70 × 409", statuses)
			}
			for i, n := range nodes {
				waitFor(t, 5*time.Second, fmt.Sprintf("50 active on instance %d", i), func() bool {
					resp, err := http.Get(n.base + "/admin/announcements")
					if err != nil {
						return false
					}
					defer resp.Body.Close()
					var list []server.Announcement
					return json.NewDecoder(resp.Body).Decode(&list) == nil && len(list) == 50
				})
			}
		})
	}
}

// TestCSRFAcrossInstancesAndRestarts: an action of the status page carries a token that
// every instance of the cluster accepts (behind a load balancer without sticky sessions),
// and that the instance accepts again after a restart (a page left open on a screen
// across an upgrade).
func TestCSRFAcrossInstancesAndRestarts(t *testing.T) {
	for _, k := range clusterKinds {
		t.Run(k.name, func(t *testing.T) {
			fake, store, nodes := startCluster(t, k)
			token := csrfOf(t, nodes[0])
			for i, n := range nodes {
				if status := n.reloadAll(t, token); status != http.StatusSeeOther {
					t.Errorf("instance %d refused the token of instance 0's page: %d", i, status)
				}
				if status := n.reloadAll(t, strings.Repeat("0", len(token))); status != http.StatusForbidden {
					t.Errorf("instance %d accepted a wrong token: %d", i, status)
				}
			}
			first := nodes[0]
			first.stop()
			again := startNode(t, k, store, first.dir, fake)
			waitFor(t, 10*time.Second, "the restarted instance's key", func() bool { return csrfOf(t, again) == token })
			if status := again.reloadAll(t, token); status != http.StatusSeeOther {
				t.Errorf("after a restart, the token of the page before: %d", status)
			}
		})
	}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// csrfOf is the CSRF token on an instance's status page.
func csrfOf(t *testing.T, n *node) string {
	t.Helper()
	resp, err := http.Get(n.base + "/admin")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	page, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	m := csrfField.FindSubmatch(page)
	if m == nil {
		t.Fatal("no CSRF token on /admin")
	}
	return string(m[1])
}

// reloadAll presses the status page's "reload every screen" button with token.
func (n *node) reloadAll(t *testing.T, token string) int {
	t.Helper()
	req := mustRequest(t, http.MethodPost, n.base+"/admin/reload", url.Values{"all": {"1"}, "csrf": {token}})
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestMediaEachInstanceFetchesAnImageOnce: only the leader asks Spencer, but every
// instance renders what it receives, so each fetches a publication's image once, when it
// hears of the content, and serves it from then on: the image host is asked once per
// instance however often the news comes again and however many pages load.
func TestMediaEachInstanceFetchesAnImageOnce(t *testing.T) {
	for _, k := range clusterKinds {
		t.Run(k.name, func(t *testing.T) {
			fake, _, nodes := startCluster(t, k)
			fake.SetImage("lobby.jpg", "image/jpeg", mediatest.Photo(1600, 900))
			fake.SetPublications(lobby, []map[string]any{{"id": "l1", "title": "Town hall on Friday", "publishedAt": "2026-11-20T09:00:00Z", "image": fake.URL + "/images/lobby.jpg"}})
			leader := nodes[0]
			for _, n := range nodes {
				if n.engine.Leader() {
					leader = n
				}
			}
			leader.srv.News().Get(lobby).FetchNow()
			srcsets := map[string]bool{}
			for _, n := range nodes {
				waitFor(t, 30*time.Second, "the photo on "+n.base, func() bool {
					resp, err := http.Get(n.base + "/screens/" + lobby)
					if err != nil {
						return false
					}
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if m := regexp.MustCompile(`srcset="([^"]+)"`).FindSubmatch(b); m != nil && mediaSrc.Match(m[1]) {
						srcsets[string(m[1])] = true
						return true
					}
					return false
				})
			}
			if len(srcsets) != 1 {
				t.Errorf("the instances offer different variants: %v", srcsets)
			}
			// The news again (a poll that changes nothing, and one that changes a title),
			// and ten page loads with their images on every instance.
			leader.srv.News().Get(lobby).FetchNow()
			fake.SetPublications(lobby, []map[string]any{{"id": "l1", "title": "Town hall on Friday at 16:00", "publishedAt": "2026-11-20T09:00:00Z", "image": fake.URL + "/images/lobby.jpg"}})
			leader.srv.News().Get(lobby).FetchNow()
			for _, n := range nodes {
				waitFor(t, 10*time.Second, "the new title on "+n.base, func() bool {
					resp, err := http.Get(n.base + "/screens/" + lobby)
					if err != nil {
						return false
					}
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					return strings.Contains(string(b), "at 16:00")
				})
				for range 10 {
					for srcset := range srcsets {
						for _, c := range strings.Split(srcset, ", ") {
							resp, err := http.Get(n.base + strings.Fields(c)[0])
							if err != nil || resp.Body.Close() != nil || resp.StatusCode != http.StatusOK {
								t.Fatalf("%s%s: %v", n.base, c, err)
							}
						}
					}
				}
			}
			if got, want := fake.ImageRequests(), int64(len(nodes)); got != want {
				t.Errorf("the image host was asked %d times by %d instances, want once each", got, len(nodes))
			}
		})
	}
}
