package news_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/spencer-signage/signage/server/news"
	"github.com/spencer-signage/signage/server/news/redistest"
	"github.com/spencer-signage/signage/spencerclient"
)

// redisServer is the one redis-server of this package's test run.
var redisServer *redistest.Server

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "redis-news-")
	if err != nil {
		panic(err)
	}
	redisServer, err = redistest.Start(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	redisServer.Stop()
	os.RemoveAll(dir)
	os.Exit(code)
}

var prefixes atomic.Int64

// newRedis is a Redis engine on the test server, with a key prefix of its own per test so
// that tests do not see each other's keys; more engines on the same prefix form a cluster.
func newRedis(t *testing.T, prefix, instance string) *news.Redis {
	t.Helper()
	r, err := news.NewRedis(news.RedisConfig{URL: redisServer.URL(0), Prefix: prefix, Instance: instance,
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
func resyncs(r *news.Redis) func() int64 {
	var n atomic.Int64
	r.OnResync(func(bool) { n.Add(1) })
	return n.Load
}

// engines runs a test against each engine, as Centrifugo does with its brokers.
func engines(t *testing.T, test func(t *testing.T, e news.Engine)) {
	t.Run("memory", func(t *testing.T) { test(t, news.NewMemory(time.Minute)) })
	t.Run("redis", func(t *testing.T) {
		r := newRedis(t, newPrefix(), "one")
		subscribed := resyncs(r)
		r.Start()
		waitFor(t, 5*time.Second, "the lease and the subscription", func() bool { return r.Leader() && subscribed() > 0 })
		test(t, r)
	})
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

func sample(id, title string) *news.Content {
	now := time.Now().Truncate(time.Millisecond)
	return news.NewContent(id, "Lobby", "en-US", []spencerclient.Item{{ID: "1", Title: title}}, news.StateItems, now, now)
}

func TestEnginePublishAndReceive(t *testing.T) {
	engines(t, func(t *testing.T, e news.Engine) {
		var r received
		e.Receive(r.content)
		e.OnCommand(r.command)
		c := sample("u1", "Town hall")
		if err := e.Publish(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "the content delivered", func() bool { n, _ := r.count(); return n == 1 })
		r.mu.Lock()
		got := r.got[0]
		r.mu.Unlock()
		if got.Version != c.Version || got.Userlist != "u1" || len(got.Items) != 1 || got.Items[0].Title != "Town hall" || !got.FetchedAt.Equal(c.FetchedAt) {
			t.Errorf("delivered %+v, published %+v", got, c)
		}
		if err := e.Send(context.Background(), news.Command{Kind: news.CommandReload, All: true}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "the command delivered", func() bool { _, n := r.count(); return n == 1 })
		last, err := e.Last(context.Background(), "u1")
		if err != nil {
			t.Fatal(err)
		}
		all, err := e.All(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if e.Shared() {
			if last == nil || last.Version != c.Version || len(all) != 1 {
				t.Errorf("shared engine: last %+v, all %d", last, len(all))
			}
		} else if last != nil || len(all) != 0 {
			t.Errorf("memory engine shares nothing: last %+v, all %d", last, len(all))
		}
	})
}

func TestEngineInterest(t *testing.T) {
	engines(t, func(t *testing.T, e news.Engine) {
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
	rs, err := redistest.Start(t.TempDir())
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

// TestRedisSharedMap: what one instance sets in a shared map, another reads, and hears of.
func TestRedisSharedMap(t *testing.T) {
	prefix := newPrefix()
	a, b := newRedis(t, prefix, "a"), newRedis(t, prefix, "b")
	var heard received
	b.OnCommand(heard.command)
	bSubscribed := resyncs(b)
	a.Start()
	b.Start()
	// A change is told over pub/sub, heard only once subscribed; the server reads the
	// board again at each (re)subscription for what was said before.
	waitFor(t, 5*time.Second, "b subscribed", func() bool { return bSubscribed() > 0 })
	ctx := context.Background()
	if err := a.MapSet(ctx, "notes", "n1", []byte(`{"text":"hello"}`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "b to hear of the change", func() bool { _, n := heard.count(); return n >= 1 })
	all, err := b.MapAll(ctx, "notes")
	if err != nil || string(all["n1"]) != `{"text":"hello"}` {
		t.Errorf("b reads %q (%v)", all, err)
	}
	if ok, err := b.MapDelete(ctx, "notes", "n1"); !ok || err != nil {
		t.Errorf("delete: %v %v", ok, err)
	}
	if ok, _ := a.MapDelete(ctx, "notes", "n1"); ok {
		t.Errorf("deleted twice")
	}
}

// TestRedisEmptied: when Redis loses what it held (here FLUSHALL, which keeps the
// subscription: nothing but the epoch tells), a shared map is not read as empty; the
// instances resync, told that Redis was emptied, so they can give back what they have.
func TestRedisEmptied(t *testing.T) {
	rs, err := redistest.Start(t.TempDir())
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
				r.MapSet(context.Background(), "notes", "n1", []byte("kept")) //nolint:errcheck
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
	if err := es[0].MapSet(ctx, "notes", "n1", []byte("kept")); err != nil {
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
}
