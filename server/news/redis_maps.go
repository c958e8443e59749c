package news

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// A shared map is a hash (KEY map:NAME); the entries that have a TTL are also in a sorted
// set scored by when they expire (KEY map:NAME:ttl), and every script that reads or
// writes the map first drops what expired, so that no reader sees it and no cap counts
// it. Hash fields cannot expire by themselves before Redis 7.4.

func (r *Redis) mapKeys(name string) []string {
	return []string{r.k.prefix + "map:" + name, r.k.prefix + "map:" + name + ":ttl"}
}

var mapSetScript = redis.NewScript(`
local gone = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[5])
for _, k in ipairs(gone) do redis.call('HDEL', KEYS[1], k) end
if #gone > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[5]) end
local limit = tonumber(ARGV[3])
if limit > 0 and redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and redis.call('HLEN', KEYS[1]) >= limit then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[4] == '0' then
  redis.call('ZREM', KEYS[2], ARGV[1])
else
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
end
return 1`)

// MapSet sets an entry, counting the map against the limit in the same script, so that
// instances writing at once never pass it together.
func (r *Redis) MapSet(ctx context.Context, name, key string, value []byte, o MapOptions) error {
	if !mapName.MatchString(name) {
		return errMapName
	}
	now := time.Now()
	expires := "0"
	if o.TTL > 0 {
		expires = strconv.FormatInt(now.Add(o.TTL).UnixMilli(), 10)
	}
	n, err := mapSetScript.Run(ctx, r.rdb, r.mapKeys(name), key, value, o.Limit, expires, now.UnixMilli()).Int()
	if err := r.ok(err); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	if n == 0 {
		return ErrMapFull
	}
	return r.Send(ctx, Command{Kind: CommandChanged, Name: name})
}

// MapDelete removes an entry.
func (r *Redis) MapDelete(ctx context.Context, name, key string) (bool, error) {
	if !mapName.MatchString(name) {
		return false, errMapName
	}
	keys := r.mapKeys(name)
	var del *redis.IntCmd
	_, err := r.rdb.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		del = pipe.HDel(ctx, keys[0], key)
		pipe.ZRem(ctx, keys[1], key)
		return nil
	})
	if err := r.ok(err); err != nil {
		return false, fmt.Errorf("redis: %w", err)
	}
	if del.Val() == 0 {
		return false, nil
	}
	return true, r.Send(ctx, Command{Kind: CommandChanged, Name: name})
}

// mapAllScript reads a shared map with the epoch, in one step, so that a map read after
// Redis lost its data is known for what it is.
var mapAllScript = redis.NewScript(`
local gone = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[1])
for _, k in ipairs(gone) do redis.call('HDEL', KEYS[2], k) end
if #gone > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[1]) end
return {redis.call('GET', KEYS[1]), redis.call('HGETALL', KEYS[2])}
`)

// MapAll is the whole shared map. Read while Redis is found to have lost what it held
// (before this instance resynced), it is ErrEmptied rather than an empty map, and a resync
// starts.
func (r *Redis) MapAll(ctx context.Context, name string) (map[string][]byte, error) {
	if !mapName.MatchString(name) {
		return nil, errMapName
	}
	res, err := mapAllScript.Run(ctx, r.rdb, append([]string{r.k.epoch}, r.mapKeys(name)...), time.Now().UnixMilli()).Slice()
	if err := r.ok(err); err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	if len(res) != 2 {
		return nil, fmt.Errorf("redis: unexpected answer %v", res)
	}
	epoch, _ := res[0].(string)
	r.mu.Lock()
	known := r.epoch
	r.mu.Unlock()
	if known != "" && epoch != known {
		if r.resyncDue.CompareAndSwap(false, true) {
			go r.runResync()
		}
		return nil, ErrEmptied
	}
	pairs, _ := res[1].([]any)
	out := make(map[string][]byte, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		k, _ := pairs[i].(string)
		v, _ := pairs[i+1].(string)
		out[k] = []byte(v)
	}
	return out, nil
}

var secretScript = redis.NewScript(`
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v then return v end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return ARGV[2]`)

// Secret is the key kept in Redis: the first instance to ask makes it, in one step, so
// that two starting at once agree.
func (r *Redis) Secret(ctx context.Context, name string, offer []byte) ([]byte, error) {
	if !mapName.MatchString(name) {
		return nil, errMapName
	}
	if offer == nil {
		offer = make([]byte, secretSize)
		rand.Read(offer) //nolint:errcheck // never fails
	}
	v, err := secretScript.Run(ctx, r.rdb, []string{r.k.prefix + "secrets"}, name, offer).Text()
	if err := r.ok(err); err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	if v == "" {
		return nil, errors.New("redis: an empty secret")
	}
	return []byte(v), nil
}
