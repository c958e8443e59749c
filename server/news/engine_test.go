package news_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/spencer-signage/signage/server/news"
	"github.com/spencer-signage/signage/server/news/redistest"
	"github.com/spencer-signage/signage/spencerclient"
)

// redisServer is the redis-server this package's tests share, started by the first test
// of the Redis engine. The tests of the memory engine need none.
var redisServer redistest.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	redisServer.Stop()
	os.Exit(code)
}

var prefixes atomic.Int64

// newRedis is a Redis engine on the shared test server, with a key prefix of its own per
// test so that tests do not see each other's keys; more engines on the same prefix form a
// cluster.
func newRedis(t *testing.T, prefix, instance string) *news.Redis {
	t.Helper()
	r, err := news.NewRedis(news.RedisConfig{URL: redisServer.Get(t).URL(0), Prefix: prefix, Instance: instance,
		Lease: 600 * time.Millisecond, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func newPrefix() string { return fmt.Sprintf("test%d:", prefixes.Add(1)) }

// resyncs counts an engine's (re)subscriptions: what it is told after the first is heard.
// Register it before Start.
func resyncs(e news.Engine) func() int64 {
	var n atomic.Int64
	e.OnResync(func(bool) { n.Add(1) })
	return n.Load
}

// engineKind makes engines of one kind. Engines opened on the same store are one cluster
// (Redis: a key prefix), or for the memory engine the same instance again after a restart
// (a data_dir), which is the only way a cluster of one shares anything with another
// process.
type engineKind struct {
	name     string
	store    func(t *testing.T) string
	open     func(t *testing.T, store, instance string) news.Engine
	together bool // several instances may be open on one store at once
}

// kinds are the engines the same tests run against, as Centrifugo runs its broker tests
// against the memory and the Redis brokers.
var kinds = []engineKind{
	{
		name:  "memory",
		store: func(t *testing.T) string { return t.TempDir() },
		open: func(t *testing.T, dir, instance string) news.Engine {
			m := news.NewMemory(news.MemoryConfig{DataDir: dir, Keep: time.Minute, Instance: instance, Log: slog.New(slog.DiscardHandler)})
			t.Cleanup(func() { m.Close() })
			return m
		},
	},
	{
		name:     "redis",
		store:    func(*testing.T) string { return newPrefix() },
		open:     func(t *testing.T, prefix, instance string) news.Engine { return newRedis(t, prefix, instance) },
		together: true,
	},
}

// engines runs a test against each engine, with one instance started: the leader, and
// subscribed.
func engines(t *testing.T, test func(t *testing.T, k engineKind, store string, e news.Engine)) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			store := k.store(t)
			e := start(t, k.open(t, store, "one"))
			test(t, k, store, e)
		})
	}
}

// start starts the first instance of a cluster and waits until it leads and is
// subscribed.
func start(t *testing.T, e news.Engine) news.Engine {
	t.Helper()
	join(t, e)
	waitFor(t, 5*time.Second, "the lease", e.Leader)
	return e
}

// join starts another instance of a cluster and waits until it is subscribed.
func join(t *testing.T, e news.Engine) news.Engine {
	t.Helper()
	subscribed := resyncs(e)
	e.Start()
	waitFor(t, 5*time.Second, "the subscription", func() bool { return subscribed() > 0 })
	return e
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// received collects what an engine delivers.
type received struct {
	mu   sync.Mutex
	got  []*news.Content
	cmds []news.Command
}

func (r *received) content(c *news.Content) { r.mu.Lock(); r.got = append(r.got, c); r.mu.Unlock() }
func (r *received) command(c news.Command)  { r.mu.Lock(); r.cmds = append(r.cmds, c); r.mu.Unlock() }
func (r *received) count() (int, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got), len(r.cmds)
}

func (r *received) changed(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.cmds {
		if c.Kind == news.CommandChanged && c.Name == name {
			n++
		}
	}
	return n
}

func sample(id, title string) *news.Content {
	now := time.Now().Truncate(time.Millisecond)
	return news.NewContent(id, "Lobby", "en-US", []spencerclient.Item{{ID: "1", Title: title}}, news.StateItems, now, now)
}

// TestEnginePublishAndReceive: what the leader publishes reaches the receiver and is kept
// as the userlist's last content; a command reaches the handlers, saying who sent it.
func TestEnginePublishAndReceive(t *testing.T) {
	engines(t, func(t *testing.T, _ engineKind, _ string, e news.Engine) {
		var r received
		e.Receive(r.content)
		e.OnCommand(r.command)
		c := sample("u1", "Town hall")
		c.From = e.Instance()
		if err := e.Publish(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "the content delivered", func() bool { n, _ := r.count(); return n == 1 })
		r.mu.Lock()
		got := r.got[0]
		r.mu.Unlock()
		if got.Version != c.Version || got.Userlist != "u1" || len(got.Items) != 1 || got.Items[0].Title != "Town hall" ||
			!got.FetchedAt.Equal(c.FetchedAt) || got.From != e.Instance() {
			t.Errorf("delivered %+v, published %+v", got, c)
		}
		if err := e.Send(context.Background(), news.Command{Kind: news.CommandReload, All: true}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "the command delivered", func() bool { _, n := r.count(); return n == 1 })
		if r.mu.Lock(); r.cmds[0].From != e.Instance() {
			t.Errorf("the command says it is from %q, not %q", r.cmds[0].From, e.Instance())
		}
		r.mu.Unlock()
		last, err := e.Last(context.Background(), "u1")
		if err != nil || last == nil || last.Version != c.Version {
			t.Errorf("last %+v (%v)", last, err)
		}
		if none, err := e.Last(context.Background(), "nobody"); none != nil || err != nil {
			t.Errorf("the last content of a userlist never published: %+v (%v)", none, err)
		}
		all, err := e.All(context.Background())
		if err != nil || len(all) != 1 || all[0].Userlist != "u1" {
			t.Errorf("all %+v (%v)", all, err)
		}
	})
}

func TestEngineInterest(t *testing.T) {
	engines(t, func(t *testing.T, _ engineKind, _ string, e news.Engine) {
		ctx := context.Background()
		before := time.Now().Add(-time.Second)
		if err := e.Touch(ctx, "read-one", false); err != nil {
			t.Fatal(err)
		}
		if err := e.Touch(ctx, "watched-one", true); err != nil {
			t.Fatal(err)
		}
		read, watched, err := e.Interest(ctx, "read-one", before)
		if err != nil || !read || watched {
			t.Errorf("read-one: read %v watched %v (%v)", read, watched, err)
		}
		read, watched, _ = e.Interest(ctx, "watched-one", before)
		if read || !watched {
			t.Errorf("watched-one: read %v watched %v", read, watched)
		}
		if read, watched, _ := e.Interest(ctx, "read-one", time.Now().Add(time.Second)); read || watched {
			t.Errorf("interest in the future")
		}
		if read, _, _ := e.Interest(ctx, "nobody", before); read {
			t.Errorf("interest in a userlist nobody touched")
		}
		ids, err := e.Interested(ctx, before)
		if err != nil || len(ids) != 2 {
			t.Errorf("interested: %v (%v)", ids, err)
		}
	})
}

// TestEngineLeadsAlone: an instance alone leads, and is told so.
func TestEngineLeadsAlone(t *testing.T) {
	engines(t, func(t *testing.T, _ engineKind, _ string, e news.Engine) {
		told := make(chan bool, 2)
		e.OnLeadership(func(l bool) { told <- l })
		if l := <-told; !l || !e.Leader() {
			t.Errorf("told %v, Leader %v", l, e.Leader())
		}
		if !e.Healthy() {
			t.Errorf("the store does not answer")
		}
	})
}

// TestEngineStatusesAndPresence: the statuses the leader saves are what every instance's
// status page reads; an instance that announced itself is among the presences, as the
// leader.
func TestEngineStatusesAndPresence(t *testing.T) {
	engines(t, func(t *testing.T, _ engineKind, _ string, e news.Engine) {
		ctx := context.Background()
		st := news.Status{LastFetch: time.Now().UTC().Truncate(time.Millisecond), Failures: 2, LastError: "timeout", Fetches: 7}
		if err := e.SaveStatus(ctx, "u1", st); err != nil {
			t.Fatal(err)
		}
		all, err := e.Statuses(ctx)
		if err != nil || len(all) != 1 || all["u1"].Failures != 2 || all["u1"].LastError != "timeout" || !all["u1"].LastFetch.Equal(st.LastFetch) {
			t.Errorf("statuses %+v (%v)", all, err)
		}
		started := time.Now().UTC().Truncate(time.Second)
		if err := e.Announce(ctx, news.Presence{Version: "v1", Started: started}, func() json.RawMessage { return json.RawMessage(`[]`) }, time.Minute); err != nil {
			t.Fatal(err)
		}
		ps, err := e.Presences(ctx, time.Minute)
		if err != nil || len(ps) != 1 || ps[0].Instance != e.Instance() || !ps[0].Leader || ps[0].Version != "v1" || !ps[0].Started.Equal(started) {
			t.Errorf("presences %+v (%v)", ps, err)
		}
	})
}

// TestEngineSharedMap: what one instance sets in a shared map, every instance reads and
// hears of (in a cluster of one, the instance itself); a delete is told too, once.
func TestEngineSharedMap(t *testing.T) {
	engines(t, func(t *testing.T, k engineKind, store string, a news.Engine) {
		b := a
		if k.together {
			b = join(t, k.open(t, store, "b"))
		}
		var heard received
		b.OnCommand(heard.command)
		ctx := context.Background()
		if err := a.MapSet(ctx, "notes", "n1", []byte(`{"text":"hello"}`), news.MapOptions{}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "b to hear of the change", func() bool { return heard.changed("notes") >= 1 })
		all, err := b.MapAll(ctx, "notes")
		if err != nil || len(all) != 1 || string(all["n1"]) != `{"text":"hello"}` {
			t.Errorf("b reads %q (%v)", all, err)
		}
		if ok, err := b.MapDelete(ctx, "notes", "n1"); !ok || err != nil {
			t.Errorf("delete: %v %v", ok, err)
		}
		if ok, _ := a.MapDelete(ctx, "notes", "n1"); ok {
			t.Errorf("deleted twice")
		}
		waitFor(t, 5*time.Second, "b to hear of the delete", func() bool { return heard.changed("notes") >= 2 })
		if all, _ := a.MapAll(ctx, "notes"); len(all) != 0 {
			t.Errorf("after the delete: %q", all)
		}
		if err := a.MapSet(ctx, "../announcements", "k", nil, news.MapOptions{}); err == nil {
			t.Errorf("a map named like a path was accepted")
		}
	})
}

// TestEngineSharedMapKept: the shared maps outlive the instance: a new instance of a
// cluster, or a single instance after a restart (its data_dir), reads them.
func TestEngineSharedMapKept(t *testing.T) {
	engines(t, func(t *testing.T, k engineKind, store string, e news.Engine) {
		ctx := context.Background()
		if err := e.MapSet(ctx, "notes", "n1", []byte(`{"text":"kept"}`), news.MapOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := e.MapSet(ctx, "notes", "raw", []byte{0xff, 0, 'x'}, news.MapOptions{}); err != nil {
			t.Fatal(err)
		}
		e.Close()
		again := start(t, k.open(t, store, "again"))
		all, err := again.MapAll(ctx, "notes")
		if err != nil || string(all["n1"]) != `{"text":"kept"}` || string(all["raw"]) != "\xff\x00x" {
			t.Errorf("after the restart: %q (%v)", all, err)
		}
	})
}

// TestEngineSharedMapCap: a map with a limit never holds more, however many instances
// write at once: of 120 new entries put at once (in a cluster, by two instances), 50 are
// kept and 70 refused; an entry that is there already may always be replaced.
func TestEngineSharedMapCap(t *testing.T) {
	engines(t, func(t *testing.T, k engineKind, store string, a news.Engine) {
		writers := []news.Engine{a, a}
		if k.together {
			writers[1] = join(t, k.open(t, store, "b"))
		}
		ctx := context.Background()
		var wg sync.WaitGroup
		var kept, full atomic.Int64
		for i := range 120 {
			wg.Go(func() {
				err := writers[i%2].MapSet(ctx, "capped", fmt.Sprintf("k%03d", i), []byte(`{}`), news.MapOptions{Limit: 50})
				switch {
				case err == nil:
					kept.Add(1)
				case errors.Is(err, news.ErrMapFull):
					full.Add(1)
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		all, err := a.MapAll(ctx, "capped")
		if err != nil || len(all) != 50 || kept.Load() != 50 || full.Load() != 70 {
			t.Errorf("%d entries (%v), %d kept, %d refused; want 50, 50, 70", len(all), err, kept.Load(), full.Load())
		}
		var some string
		for key := range all {
			some = key
		}
		if err := a.MapSet(ctx, "capped", some, []byte(`{"again":true}`), news.MapOptions{Limit: 50}); err != nil {
			t.Errorf("replacing an entry of a full map: %v", err)
		}
	})
}

// TestEngineSharedMapTTL: an entry with a TTL goes away by itself, and no longer counts
// against a limit; one without stays.
func TestEngineSharedMapTTL(t *testing.T) {
	engines(t, func(t *testing.T, _ engineKind, _ string, e news.Engine) {
		ctx := context.Background()
		if err := e.MapSet(ctx, "codes", "K7M3Q9", []byte(`"pairing"`), news.MapOptions{TTL: 300 * time.Millisecond, Limit: 2}); err != nil {
			t.Fatal(err)
		}
		if err := e.MapSet(ctx, "codes", "kept", []byte(`"forever"`), news.MapOptions{Limit: 2}); err != nil {
			t.Fatal(err)
		}
		if all, _ := e.MapAll(ctx, "codes"); len(all) != 2 {
			t.Fatalf("before the TTL: %q", all)
		}
		if err := e.MapSet(ctx, "codes", "third", []byte(`"x"`), news.MapOptions{Limit: 2}); !errors.Is(err, news.ErrMapFull) {
			t.Errorf("a third entry in a map of two: %v", err)
		}
		waitFor(t, 5*time.Second, "the entry to expire", func() bool {
			all, err := e.MapAll(ctx, "codes")
			return err == nil && len(all) == 1 && all["kept"] != nil
		})
		if err := e.MapSet(ctx, "codes", "third", []byte(`"x"`), news.MapOptions{Limit: 2}); err != nil {
			t.Errorf("the expired entry still counts: %v", err)
		}
	})
}

// TestEngineSecret: a secret is made once and then the same for every instance and after
// a restart; what is offered does not replace it.
func TestEngineSecret(t *testing.T) {
	engines(t, func(t *testing.T, k engineKind, store string, e news.Engine) {
		ctx := context.Background()
		first, err := e.Secret(ctx, "csrf", nil)
		if err != nil || len(first) < 32 {
			t.Fatalf("secret %x (%v)", first, err)
		}
		if again, _ := e.Secret(ctx, "csrf", []byte("another one")); string(again) != string(first) {
			t.Errorf("the secret changed when another was offered")
		}
		if other, _ := e.Secret(ctx, "other", nil); string(other) == string(first) {
			t.Errorf("two secrets are the same")
		}
		if k.together {
			if b, _ := join(t, k.open(t, store, "b")).Secret(ctx, "csrf", nil); string(b) != string(first) {
				t.Errorf("another instance has another secret")
			}
		}
		e.Close()
		if later, _ := start(t, k.open(t, store, "later")).Secret(ctx, "csrf", nil); string(later) != string(first) {
			t.Errorf("the secret changed with a restart")
		}
	})
}

// TestMemoryFiles: the memory engine keeps each map in a file of data_dir that only the
// server's user reads, as JSON an operator can read; a map whose file is corrupt starts
// empty rather than stopping the server, and a corrupt secret is an error rather than a
// new key.
func TestMemoryFiles(t *testing.T) {
	dir := t.TempDir()
	m := news.NewMemory(news.MemoryConfig{DataDir: dir, Log: slog.New(slog.DiscardHandler)})
	ctx := context.Background()
	if err := m.MapSet(ctx, "notes", "n1", []byte(`{"text":"hello"}`), news.MapOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Secret(ctx, "csrf", nil); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"map-notes.json", "secrets.json"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v", name, fi.Mode().Perm())
		}
	}
	var file struct {
		Entries map[string]struct {
			Text string `json:"text"`
		} `json:"entries"`
	}
	b, _ := os.ReadFile(filepath.Join(dir, "map-notes.json"))
	if err := json.Unmarshal(b, &file); err != nil || file.Entries["n1"].Text != `{"text":"hello"}` {
		t.Errorf("map-notes.json: %s (%v)", b, err)
	}
	os.WriteFile(filepath.Join(dir, "map-notes.json"), []byte("{not json"), 0o600) //nolint:errcheck
	os.WriteFile(filepath.Join(dir, "secrets.json"), []byte("{not json"), 0o600)   //nolint:errcheck
	again := news.NewMemory(news.MemoryConfig{DataDir: dir, Log: slog.New(slog.DiscardHandler)})
	if all, err := again.MapAll(ctx, "notes"); err != nil || len(all) != 0 {
		t.Errorf("a corrupt map: %q, %v", all, err)
	}
	if s, err := again.Secret(ctx, "csrf", nil); err == nil {
		t.Errorf("a corrupt secrets file gave a secret: %x", s)
	}
}

// TestRedisOneLeaderAndFailover: of three instances one leads; only it may publish; when
// it goes away another takes the lease within the lease time.
func TestRedisOneLeaderAndFailover(t *testing.T) {
	prefix := newPrefix()
	var es []*news.Redis
	for i := range 3 {
		r := newRedis(t, prefix, fmt.Sprintf("i%d", i))
		r.Start()
		es = append(es, r)
	}
	leaders := func() []*news.Redis {
		var out []*news.Redis
		for _, r := range es {
			if r.Leader() {
				out = append(out, r)
			}
		}
		return out
	}
	waitFor(t, 5*time.Second, "a leader", func() bool { return len(leaders()) == 1 })
	leader := leaders()[0]
	for _, r := range es {
		if r != leader {
			if err := r.Publish(context.Background(), sample("u", "x")); !errors.Is(err, news.ErrNotLeader) {
				t.Errorf("a follower published: %v", err)
			}
		}
	}
	if err := leader.Publish(context.Background(), sample("u", "x")); err != nil {
		t.Errorf("the leader: %v", err)
	}
	gone := time.Now()
	leader.Close()
	var rest []*news.Redis
	for _, r := range es {
		if r != leader {
			rest = append(rest, r)
		}
	}
	es = rest
	waitFor(t, 5*time.Second, "a new leader", func() bool { return len(leaders()) == 1 })
	t.Logf("new leader after %v (lease 600ms, given back on close)", time.Since(gone).Round(time.Millisecond))
}

// TestRedisAwayLongerThanALease: a leader that cannot reach Redis for a whole lease steps
// down (another instance may hold the lease by then), so nobody polls while Redis is away;
// when Redis comes back, an instance leads again by itself.
func TestRedisAwayLongerThanALease(t *testing.T) {
	redistest.Require(t)
	rs, err := redistest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Stop()
	var changes []bool
	var mu sync.Mutex
	r, err := news.NewRedis(news.RedisConfig{URL: rs.URL(0), Prefix: "away:", Instance: "only",
		Lease: 600 * time.Millisecond, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.OnLeadership(func(l bool) { mu.Lock(); changes = append(changes, l); mu.Unlock() })
	subscribed := resyncs(r)
	r.Start()
	waitFor(t, 5*time.Second, "the lease and the subscription", func() bool { return r.Leader() && subscribed() == 1 })
	lost := time.Now() // at most: Stop waits for the process to end
	rs.Stop()
	waitFor(t, 5*time.Second, "the leader to step down", func() bool { return !r.Leader() })
	if took := time.Since(lost); took < 400*time.Millisecond {
		t.Errorf("stepped down after %v, before a lease had passed", took)
	}
	if r.Healthy() {
		t.Errorf("Redis is away, yet the engine says it answers")
	}
	if err := rs.Up(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "a leader again", r.Leader)
	// What was said while Redis was away was not heard: the engine says when it hears again.
	waitFor(t, 10*time.Second, "the subscription again", func() bool { return subscribed() == 2 })
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(changes) != "[true false true]" {
		t.Errorf("leadership changes %v", changes)
	}
}

// TestRedisEmptied: when Redis loses what it held (here FLUSHALL, which keeps the
// subscription: nothing but the epoch tells), a shared map is not read as empty; the
// instances resync, told that Redis was emptied, so they can give back what they have.
func TestRedisEmptied(t *testing.T) {
	redistest.Require(t)
	rs, err := redistest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Stop()
	var mu sync.Mutex
	told := map[string][]bool{}
	var es []*news.Redis
	for _, name := range []string{"a", "b"} {
		r, err := news.NewRedis(news.RedisConfig{URL: rs.URL(0), Prefix: "emptied:", Instance: name,
			Lease: 600 * time.Millisecond, Log: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		r.OnResync(func(emptied bool) {
			if emptied { // what the server does with its announcements
				r.MapSet(context.Background(), "notes", "n1", []byte("kept"), news.MapOptions{}) //nolint:errcheck
			}
			mu.Lock()
			told[name] = append(told[name], emptied)
			mu.Unlock()
		})
		r.Start()
		es = append(es, r)
	}
	resynced := func(want string) func() bool {
		return func() bool {
			mu.Lock()
			defer mu.Unlock()
			return fmt.Sprint(told["a"]) == want && fmt.Sprint(told["b"]) == want
		}
	}
	waitFor(t, 5*time.Second, "both subscribed", resynced("[false]"))
	ctx := context.Background()
	if err := es[0].MapSet(ctx, "notes", "n1", []byte("kept"), news.MapOptions{}); err != nil {
		t.Fatal(err)
	}
	secret, err := es[0].Secret(ctx, "csrf", nil)
	if err != nil {
		t.Fatal(err)
	}
	raw := redis.NewClient(&redis.Options{Addr: rs.Addr()})
	defer raw.Close()
	if err := raw.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	for _, r := range es { // each knows the epoch it saw, so each finds out
		if all, err := r.MapAll(ctx, "notes"); !errors.Is(err, news.ErrEmptied) {
			t.Errorf("%s reads the map after Redis was emptied: %q, %v; want ErrEmptied", r.Instance(), all, err)
		}
	}
	waitFor(t, 5*time.Second, "both told that Redis was emptied", resynced("[false true]"))
	for _, r := range es {
		all, err := r.MapAll(ctx, "notes")
		if err != nil || string(all["n1"]) != "kept" {
			t.Errorf("after the resync: %q, %v", all, err)
		}
	}
	// A secret that Redis lost is given back by an instance that knows it.
	if got, err := es[1].Secret(ctx, "csrf", secret); err != nil || string(got) != string(secret) {
		t.Errorf("the secret offered back: %x, %v", got, err)
	}
	if got, _ := es[0].Secret(ctx, "csrf", nil); string(got) != string(secret) {
		t.Errorf("the other instance reads another secret after it was given back")
	}
}
