package news

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/spencer-signage/signage/spencerclient"
)

// RedisConfig configures the Redis engine.
type RedisConfig struct {
	URL    string // redis://[user:password@]host:port/db, or rediss:// for TLS
	Prefix string // of every key and channel, so that installations can share a Redis
	// Instance names this instance in the cluster; empty: the host name and a random suffix.
	Instance string
	// Lease is how long the leader holds its lease without renewing it (15 s when 0); it
	// renews it every third of that.
	Lease time.Duration
	// ContentTTL is how long a userlist's content stays in Redis after the leader last
	// fetched it (7 days when 0): on-demand userlists nobody reads any more go away.
	ContentTTL time.Duration
	Log        *slog.Logger
}

// Redis is the engine of a cluster: instances that share one Redis (or a compatible
// server: Valkey, KeyDB, Dragonfly, a managed Redis) agree on a leader with a lease, the
// leader stores each userlist's content and publishes the change, and every instance
// receives it over pub/sub. Every step that must be atomic (taking, renewing and giving
// back the lease; storing and publishing content only while still the leader) is one Lua
// script.
type Redis struct {
	rdb   *redis.Client
	id    string
	k     redisKeys
	lease time.Duration
	ttl   time.Duration
	log   *slog.Logger

	mu       sync.Mutex
	receive  func(*Content)
	commands []func(Command)
	leading  func(bool)
	resync   []func(emptied bool)
	epoch    string // the epoch key's value when this instance last resynced

	resyncing sync.Mutex  // one resync at a time
	resyncDue atomic.Bool // a resync is asked for and has not started yet

	leader  atomic.Bool
	lastOK  atomic.Int64 // unix nanoseconds of the last answer from Redis
	outage  atomic.Bool  // Redis failed to answer, and has not answered since (logged)
	started atomic.Bool
	ps      *redis.PubSub

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

var _ Engine = (*Redis)(nil)

// redisKeys names the keys and channels, all below the prefix.
type redisKeys struct {
	leader, index, status, read, watched, instances, token, refresh, epoch string
	contentChannel, commandChannel                                         string
	prefix                                                                 string
}

func (k redisKeys) content(userlist string) string { return k.prefix + "content:" + userlist }
func (k redisKeys) instance(id string) string      { return k.prefix + "instance:" + id }

func newRedisKeys(prefix string) redisKeys {
	return redisKeys{
		prefix:         prefix,
		leader:         prefix + "leader",
		index:          prefix + "userlists",
		status:         prefix + "status",
		read:           prefix + "interest:read",
		watched:        prefix + "interest:watched",
		instances:      prefix + "instances",
		token:          prefix + "token",
		refresh:        prefix + "refresh_token",
		epoch:          prefix + "epoch",
		contentChannel: prefix + "content",
		commandChannel: prefix + "commands",
	}
}

// NewRedis returns a Redis engine; it does not contact Redis (Start does), so an
// unreachable Redis is retried, never a reason not to start. A URL that cannot be read is
// an error, which never repeats the URL (it may hold a password).
func NewRedis(cfg RedisConfig) (*Redis, error) {
	opts, err := redis.ParseURL(cfg.URL)
	if err != nil {
		return nil, errors.New("cluster.redis_url is not a Redis URL like redis://host:6379/0")
	}
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = 2*time.Second, 2*time.Second, 2*time.Second
	opts.MaxRetries = 1 // the engine retries on its own schedule
	if cfg.Lease <= 0 {
		cfg.Lease = 15 * time.Second
	}
	if cfg.ContentTTL <= 0 {
		cfg.ContentTTL = 7 * 24 * time.Hour
	}
	if cfg.Instance == "" {
		cfg.Instance = instanceName()
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Redis{
		rdb:    redis.NewClient(opts),
		id:     cfg.Instance,
		k:      newRedisKeys(cfg.Prefix),
		lease:  cfg.Lease,
		ttl:    cfg.ContentTTL,
		log:    cfg.Log.With(slog.String("instance", cfg.Instance)),
		ctx:    ctx,
		cancel: cancel,
	}, nil
}

func instanceName() string {
	host, _ := os.Hostname()
	b := make([]byte, 3)
	rand.Read(b) //nolint:errcheck // never fails
	if host == "" {
		host = "signage"
	}
	return host + "-" + hex.EncodeToString(b)
}

// Instance is this instance's name in the cluster.
func (r *Redis) Instance() string { return r.id }

// Start subscribes to the cluster's channels and starts competing for the lease; both go
// on, reconnecting with backoff, until Close.
func (r *Redis) Start() {
	if !r.started.CompareAndSwap(false, true) {
		return
	}
	r.wg.Add(2)
	go r.listen()
	go r.lead()
}

// Close gives the lease back (so that another instance takes over at once rather than
// after the lease runs out) and stops.
func (r *Redis) Close() error {
	r.mu.Lock()
	r.cancel()
	ps := r.ps
	r.mu.Unlock()
	if ps != nil {
		ps.Close() //nolint:errcheck // closing
	}
	r.wg.Wait()
	if r.leader.Load() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		releaseScript.Run(ctx, r.rdb, []string{r.k.leader}, r.id) //nolint:errcheck // the lease runs out anyway
		cancel()
		r.leader.Store(false)
	}
	return r.rdb.Close()
}

// Healthy reports whether Redis answered within the lease.
func (r *Redis) Healthy() bool {
	last := r.lastOK.Load()
	return last != 0 && time.Since(time.Unix(0, last)) < r.lease
}

// ok records whether Redis answered, logging once per outage and once when it ends (an
// unreachable Redis is retried quietly, not logged at every attempt), and passes err
// through.
func (r *Redis) ok(err error) error {
	if err == nil || errors.Is(err, redis.Nil) {
		r.lastOK.Store(time.Now().UnixNano())
		if r.outage.Swap(false) {
			r.log.Info("cluster: Redis answers again")
		}
		return err
	}
	if r.ctx.Err() == nil && !errors.Is(err, context.Canceled) && !r.outage.Swap(true) {
		r.log.Warn("cluster: Redis does not answer; retrying, and serving what this instance has meanwhile", slog.Any("error", err))
	}
	return err
}

// OnResync adds what to do after the subscription is (re)established: load what was
// published, or changed, while this instance could not hear it. emptied is true when
// Redis lost what it held since this instance last subscribed (it restarted without
// persistence, or was flushed): what only Redis kept is gone, and the instances give back
// what they have.
func (r *Redis) OnResync(fn func(emptied bool)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.resync = append(r.resync, fn)
}

var publishScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[6])
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[4])
redis.call('PUBLISH', ARGV[3], ARGV[2])
return 1`)

// Publish stores c and publishes it, in one step and only while this instance holds the
// lease.
func (r *Redis) Publish(ctx context.Context, c *Content) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	now := time.Now()
	n, err := publishScript.Run(ctx, r.rdb, []string{r.k.leader, r.k.content(c.Userlist), r.k.index},
		r.id, b, r.k.contentChannel, c.Userlist, now.UnixMilli(), r.ttl.Milliseconds()).Int()
	if err := r.ok(err); err != nil {
		return fmt.Errorf("redis: publish: %w", err)
	}
	if n == 0 {
		return ErrNotLeader
	}
	return nil
}

// decodeContent reads content as Publish stored it, deriving what is not stored.
func decodeContent(b []byte, now time.Time) (*Content, error) {
	var c Content
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	version := c.Version
	c.derive(now)
	if version != c.Version && c.Modified.Before(now) {
		c.Modified = now // items expired since it was stored: readers get less than before
	}
	return &c, nil
}

// Last is the content last published for a userlist.
func (r *Redis) Last(ctx context.Context, userlist string) (*Content, error) {
	b, err := r.rdb.Get(ctx, r.k.content(userlist)).Bytes()
	if err := r.ok(err); errors.Is(err, redis.Nil) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	return decodeContent(b, time.Now())
}

// All is the last content of every userlist published within the content TTL.
func (r *Redis) All(ctx context.Context) ([]*Content, error) {
	now := time.Now()
	ids, err := r.rdb.ZRangeArgs(ctx, scoresFrom(r.k.index, now.Add(-r.ttl))).Result()
	if err := r.ok(err); err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = r.k.content(id)
	}
	vals, err := r.rdb.MGet(ctx, keys...).Result()
	if err := r.ok(err); err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	var out []*Content
	for i, v := range vals {
		s, ok := v.(string)
		if !ok {
			continue // expired meanwhile
		}
		c, err := decodeContent([]byte(s), now)
		if err != nil {
			r.log.Warn("shared content ignored", slog.String("userlist", ids[i]), slog.Any("error", err))
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

// scoresFrom selects the members of a sorted set scored (in unix milliseconds) since t.
func scoresFrom(key string, t time.Time) redis.ZRangeArgs {
	return redis.ZRangeArgs{Key: key, ByScore: true, Start: strconv.FormatInt(t.UnixMilli(), 10), Stop: "+inf"}
}

// Receive sets the receiver of published content.
func (r *Redis) Receive(fn func(*Content)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.receive = fn
}

// Touch records interest now, as a score in a sorted set.
func (r *Redis) Touch(ctx context.Context, userlist string, watched bool) error {
	key := r.k.read
	if watched {
		key = r.k.watched
	}
	return r.ok(r.rdb.ZAdd(ctx, key, redis.Z{Score: float64(time.Now().UnixMilli()), Member: userlist}).Err())
}

// Interest reports whether a userlist was read or watched since.
func (r *Redis) Interest(ctx context.Context, userlist string, since time.Time) (bool, bool, error) {
	pipe := r.rdb.Pipeline()
	read := pipe.ZScore(ctx, r.k.read, userlist)
	watched := pipe.ZScore(ctx, r.k.watched, userlist)
	_, err := pipe.Exec(ctx)
	if err := r.ok(err); err != nil && !errors.Is(err, redis.Nil) {
		return false, false, fmt.Errorf("redis: %w", err)
	}
	s := float64(since.UnixMilli())
	return read.Val() >= s && read.Err() == nil, watched.Val() >= s && watched.Err() == nil, nil
}

// Interested lists the userlists read or watched since.
func (r *Redis) Interested(ctx context.Context, since time.Time) ([]string, error) {
	pipe := r.rdb.Pipeline()
	read := pipe.ZRangeArgs(ctx, scoresFrom(r.k.read, since))
	watched := pipe.ZRangeArgs(ctx, scoresFrom(r.k.watched, since))
	if _, err := pipe.Exec(ctx); r.ok(err) != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	seen := map[string]bool{}
	var out []string
	for _, id := range append(read.Val(), watched.Val()...) {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out, nil
}

// Leader reports whether this instance holds the lease.
func (r *Redis) Leader() bool { return r.leader.Load() }

// OnLeadership sets fn, and tells it at once when this instance leads already.
func (r *Redis) OnLeadership(fn func(bool)) {
	r.mu.Lock()
	r.leading = fn
	r.mu.Unlock()
	if r.leader.Load() {
		fn(true)
	}
}

var (
	renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`)
	releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`)
)

// lead competes for the lease and, holding it, renews it every third of its length. A
// leader that cannot renew it for a whole lease steps down: by then another instance may
// have taken it, and two pollers must never run at once (with a rotating refresh token
// they would lock each other out). Nobody polls while Redis is away; every instance goes
// on serving what it has.
func (r *Redis) lead() {
	defer r.wg.Done()
	every := r.lease / 3
	lastRenew := time.Time{}
	for {
		ctx, cancel := context.WithTimeout(r.ctx, every)
		if r.leader.Load() {
			n, err := renewScript.Run(ctx, r.rdb, []string{r.k.leader}, r.id, r.lease.Milliseconds()).Int()
			switch {
			case r.ok(err) == nil && n == 1:
				lastRenew = time.Now()
			case err == nil:
				r.setLeader(false, "the lease was lost")
			case time.Since(lastRenew) >= r.lease:
				r.setLeader(false, "Redis did not answer for a whole lease")
			}
		} else {
			got, err := r.rdb.SetNX(ctx, r.k.leader, r.id, r.lease).Result()
			if r.ok(err) == nil && got {
				lastRenew = time.Now()
				r.setLeader(true, "")
			}
		}
		if r.leader.Load() {
			r.housekeep(ctx)
		}
		cancel()
		if !sleep(r.ctx, every) {
			return
		}
	}
}

func (r *Redis) setLeader(leader bool, why string) {
	if r.leader.Swap(leader) == leader {
		return
	}
	if leader {
		r.log.Info("cluster: this instance is the leader")
	} else {
		r.log.Warn("cluster: this instance is no longer the leader", slog.String("why", why))
	}
	r.mu.Lock()
	fn := r.leading
	r.mu.Unlock()
	if fn != nil {
		fn(leader)
	}
}

// housekeep drops what nobody needs any more: interest older than a day, instances gone,
// the content index of userlists whose content expired.
func (r *Redis) housekeep(ctx context.Context) {
	now := time.Now()
	day := strconv.FormatInt(now.Add(-24*time.Hour).UnixMilli(), 10)
	pipe := r.rdb.Pipeline()
	pipe.ZRemRangeByScore(ctx, r.k.read, "-inf", "("+day)
	pipe.ZRemRangeByScore(ctx, r.k.watched, "-inf", "("+day)
	pipe.ZRemRangeByScore(ctx, r.k.index, "-inf", "("+strconv.FormatInt(now.Add(-r.ttl).UnixMilli(), 10))
	pipe.ZRemRangeByScore(ctx, r.k.instances, "-inf", "("+strconv.FormatInt(now.Add(-time.Hour).UnixMilli(), 10))
	pipe.Exec(ctx) //nolint:errcheck // best effort, again at the next renewal
}

// SaveStatus records a userlist's polling state and keeps its content from expiring.
func (r *Redis) SaveStatus(ctx context.Context, userlist string, st Status) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	pipe := r.rdb.Pipeline()
	pipe.HSet(ctx, r.k.status, userlist, b)
	pipe.PExpire(ctx, r.k.content(userlist), r.ttl)
	pipe.ZAddXX(ctx, r.k.index, redis.Z{Score: float64(time.Now().UnixMilli()), Member: userlist})
	_, err = pipe.Exec(ctx)
	return r.ok(err)
}

// Statuses is the polling state of every userlist as the leader recorded it.
func (r *Redis) Statuses(ctx context.Context) (map[string]Status, error) {
	all, err := r.rdb.HGetAll(ctx, r.k.status).Result()
	if err := r.ok(err); err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	out := make(map[string]Status, len(all))
	for id, v := range all {
		var st Status
		if json.Unmarshal([]byte(v), &st) == nil {
			out[id] = st
		}
	}
	return out, nil
}

// Send publishes cmd to every instance.
func (r *Redis) Send(ctx context.Context, cmd Command) error {
	cmd.From = r.id
	b, err := json.Marshal(cmd)
	if err != nil {
		return err
	}
	if err := r.ok(r.rdb.Publish(ctx, r.k.commandChannel, b).Err()); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	return nil
}

// OnCommand adds a command handler.
func (r *Redis) OnCommand(fn func(Command)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.commands = append(r.commands, fn)
}

// listen takes what the cluster publishes. go-redis reconnects and subscribes again by
// itself; each (re)subscription is a moment to load what may have been published while
// this instance could not hear it.
func (r *Redis) listen() {
	defer r.wg.Done()
	// Until Redis first answers, try again with backoff (1 s doubling to 30 s); once
	// subscribed, go-redis reconnects by itself.
	for wait := time.Second; ; wait = min(2*wait, 30*time.Second) {
		ctx, cancel := context.WithTimeout(r.ctx, 2*time.Second)
		err := r.ok(r.rdb.Ping(ctx).Err())
		cancel()
		if err == nil {
			break
		}
		if !sleep(r.ctx, wait) {
			return
		}
	}
	r.mu.Lock()
	if r.ctx.Err() != nil {
		r.mu.Unlock()
		return
	}
	ps := r.rdb.Subscribe(r.ctx, r.k.contentChannel, r.k.commandChannel)
	r.ps = ps
	r.mu.Unlock()
	for msg := range ps.ChannelWithSubscriptions(redis.WithChannelSize(1024)) {
		switch m := msg.(type) {
		case *redis.Subscription:
			r.lastOK.Store(time.Now().UnixNano())
			if m.Kind == "subscribe" && m.Channel == r.k.contentChannel {
				r.runResync()
			}
		case *redis.Message:
			r.deliver(m)
		}
	}
}

// runResync runs the OnResync functions, one run at a time.
func (r *Redis) runResync() {
	r.resyncDue.Store(false)
	r.resyncing.Lock()
	defer r.resyncing.Unlock()
	if r.ctx.Err() != nil {
		return // closed
	}
	r.mu.Lock()
	fns := r.resync
	r.mu.Unlock()
	emptied := r.emptied()
	for _, fn := range fns {
		fn(emptied)
	}
}

// emptied reports whether Redis lost what it held since this instance last asked. The
// first instance to find the epoch key missing sets a new random one; each instance
// remembers the one it saw, so each sees the change once.
func (r *Redis) emptied() bool {
	ctx, cancel := context.WithTimeout(r.ctx, 2*time.Second)
	defer cancel()
	fresh := make([]byte, 8)
	rand.Read(fresh)
	now, err := epochScript.Run(ctx, r.rdb, []string{r.k.epoch}, hex.EncodeToString(fresh)).Text()
	if r.ok(err) != nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	known := r.epoch
	r.epoch = now
	return known != "" && known != now
}

// epochScript gives the epoch, setting it first when it is missing (SET NX GET would need
// Redis 7).
var epochScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]
`)

func (r *Redis) deliver(m *redis.Message) {
	r.mu.Lock()
	receive, commands := r.receive, r.commands
	r.mu.Unlock()
	switch m.Channel {
	case r.k.contentChannel:
		c, err := decodeContent([]byte(m.Payload), time.Now())
		if err != nil {
			r.log.Warn("cluster: content message ignored", slog.Any("error", err))
			return
		}
		if receive != nil {
			receive(c)
		}
	case r.k.commandChannel:
		var cmd Command
		if err := json.Unmarshal([]byte(m.Payload), &cmd); err != nil {
			r.log.Warn("cluster: command ignored", slog.Any("error", err))
			return
		}
		for _, fn := range commands {
			fn(cmd)
		}
	}
}

// Announce records this instance's presence, with its screens, for ttl.
func (r *Redis) Announce(ctx context.Context, p Presence, screens func() json.RawMessage, ttl time.Duration) error {
	p.Instance, p.Leader, p.Seen = r.id, r.leader.Load(), time.Now()
	if screens != nil {
		p.Screens = screens()
	}
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	pipe := r.rdb.Pipeline()
	pipe.Set(ctx, r.k.instance(r.id), b, ttl)
	pipe.ZAdd(ctx, r.k.instances, redis.Z{Score: float64(p.Seen.UnixMilli()), Member: r.id})
	_, err = pipe.Exec(ctx)
	return r.ok(err)
}

// Presences are the instances that announced themselves lately, this one included.
func (r *Redis) Presences(ctx context.Context, within time.Duration) ([]Presence, error) {
	ids, err := r.rdb.ZRangeArgs(ctx, scoresFrom(r.k.instances, time.Now().Add(-within))).Result()
	if err := r.ok(err); err != nil || len(ids) == 0 {
		return nil, err
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = r.k.instance(id)
	}
	vals, err := r.rdb.MGet(ctx, keys...).Result()
	if err := r.ok(err); err != nil {
		return nil, err
	}
	var out []Presence
	for _, v := range vals {
		if s, ok := v.(string); ok {
			var p Presence
			if json.Unmarshal([]byte(s), &p) == nil {
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// Tokens is the cluster's store of the Spencer client's tokens: the access token until it
// expires, and the rotating refresh token. Redis must therefore be private to the
// installation (a password, TLS with rediss://, a private network).
func (r *Redis) Tokens() spencerclient.TokenStore { return redisTokens{r} }

type redisTokens struct{ r *Redis }

func (t redisTokens) LoadAccess(ctx context.Context) (spencerclient.SharedToken, bool, error) {
	b, err := t.r.rdb.Get(ctx, t.r.k.token).Bytes()
	if err := t.r.ok(err); errors.Is(err, redis.Nil) {
		return spencerclient.SharedToken{}, false, nil
	} else if err != nil {
		return spencerclient.SharedToken{}, false, err
	}
	var tok spencerclient.SharedToken
	if err := json.Unmarshal(b, &tok); err != nil {
		return spencerclient.SharedToken{}, false, nil
	}
	return tok, true, nil
}

func (t redisTokens) SaveAccess(ctx context.Context, tok spencerclient.SharedToken) error {
	ttl := time.Until(tok.Expiry)
	if ttl <= 0 {
		return nil
	}
	b, err := json.Marshal(tok)
	if err != nil {
		return err
	}
	return t.r.ok(t.r.rdb.Set(ctx, t.r.k.token, b, ttl).Err())
}

func (t redisTokens) LoadRefresh(ctx context.Context) (string, error) {
	s, err := t.r.rdb.Get(ctx, t.r.k.refresh).Result()
	if err := t.r.ok(err); errors.Is(err, redis.Nil) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	return s, nil
}

func (t redisTokens) SaveRefresh(ctx context.Context, tok string) error {
	return t.r.ok(t.r.rdb.Set(ctx, t.r.k.refresh, tok, 0).Err())
}
