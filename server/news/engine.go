package news

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"time"

	"github.com/spencer-signage/signage/spencerclient"
)

// Engine shares the news of every userlist between the instances that serve it, after
// Centrifugo's engines: one in memory (the default, nothing to install), one in Redis for
// several instances. A single instance is a cluster of one: the memory engine does all
// that the Redis one does, for one member, so that the code above it never asks which it
// runs on. Through it the instances agree on one leader, the only one that asks Spencer;
// the leader publishes each change and every instance, the leader included, receives it;
// the others tell the leader which on-demand userlists their readers and screens want;
// and what the operator sets for the whole cluster (announcements) is kept in its shared
// maps.
type Engine interface {
	// Instance is this instance's name in the cluster.
	Instance() string
	// Start joins the cluster: it subscribes, competes for the lease and runs the resync
	// functions once subscribed. Set the receivers and handlers first. Calling it again
	// does nothing.
	Start()
	// Close gives the lease back and stops.
	Close() error
	// Healthy reports whether the store the instances share answers.
	Healthy() bool

	// Publish makes c the last good content of its userlist and hands it to the receiver
	// of every instance. Only the leader publishes; a Redis engine refuses the
	// publication of an instance that is no longer the leader.
	Publish(ctx context.Context, c *Content) error
	// Last is the content last published for a userlist; nil when there is none.
	Last(ctx context.Context, userlist string) (*Content, error)
	// All is the last content of every userlist that has one.
	All(ctx context.Context) ([]*Content, error)
	// Receive sets the function that takes every published content. It is called for
	// one userlist at a time, in the order published; set it before Start.
	Receive(fn func(*Content))
	// OnResync adds what to do each time the instance (re)joins the cluster: load what
	// was published, or changed, while it could not hear. emptied says that the shared
	// store lost what it held since (Redis restarted without persistence, or was
	// flushed), so that the instances give back what they have.
	OnResync(fn func(emptied bool))

	// Touch records that a reader (watched false) or a screen (watched true) of some
	// instance wants a userlist now.
	Touch(ctx context.Context, userlist string, watched bool) error
	// Interest reports whether a userlist was read, and whether it was watched, since.
	Interest(ctx context.Context, userlist string, since time.Time) (read, watched bool, err error)
	// Interested lists the userlists read or watched since.
	Interested(ctx context.Context, since time.Time) ([]string, error)

	// Leader reports whether this instance is the one that polls Spencer now.
	Leader() bool
	// OnLeadership sets the function told when this instance becomes or stops being the
	// leader; it is told at once when this instance leads already.
	OnLeadership(fn func(leader bool))

	// SaveStatus records the polling state of a userlist, for the status page of every
	// instance; Statuses returns what the leader recorded.
	SaveStatus(ctx context.Context, userlist string, st Status) error
	Statuses(ctx context.Context) (map[string]Status, error)

	// Send hands a command to every instance's command handlers, this one's included,
	// with From set to this instance.
	Send(ctx context.Context, cmd Command) error
	// OnCommand adds a command handler; set it before Start.
	OnCommand(fn func(Command))

	// Announce records this instance's presence for ttl. screens is what it holds, for
	// the status pages of the others: an engine asks for it only when there may be
	// others to read it.
	Announce(ctx context.Context, p Presence, screens func() json.RawMessage, ttl time.Duration) error
	// Presences are the instances that announced themselves within, this one included.
	Presences(ctx context.Context, within time.Duration) ([]Presence, error)

	// MapSet sets key of the shared map name to value, as o says, and tells every
	// instance that the map changed (a Command of kind CommandChanged). Shared maps hold
	// what the operator sets for the whole cluster, such as announcements. A map full
	// at o.Limit is ErrMapFull, decided in one step with the write, whoever else writes.
	MapSet(ctx context.Context, name, key string, value []byte, o MapOptions) error
	// MapDelete removes key from the shared map name; it reports whether it was there.
	MapDelete(ctx context.Context, name, key string) (bool, error)
	// MapAll is the whole shared map name, less the entries whose TTL ran out. It is
	// ErrEmptied when the store is found to have lost what it held (before the instance
	// resynced), rather than an empty map.
	MapAll(ctx context.Context, name string) (map[string][]byte, error)

	// Secret is the cluster's random key name, the same on every instance and across
	// restarts: the one kept, else offer is kept (a new random key when offer is nil).
	// An instance that knows the key offers it again after the store lost it.
	Secret(ctx context.Context, name string, offer []byte) ([]byte, error)
}

// Command is what one instance asks of the others: the leader to poll or fetch a
// userlist now, the holders of screens to reload them or have them show their name.
type Command struct {
	From     string `json:"from"` // the instance that sent it
	Kind     string `json:"kind"` // CommandPoll, CommandFetch, CommandReload, CommandIdentify or CommandChanged
	Userlist string `json:"userlist,omitempty"`
	Screen   string `json:"screen,omitempty"`
	// Managed is a screen the operator set up from /admin, by its id: whichever pages
	// show it, on whichever instance.
	Managed string `json:"managed,omitempty"`
	All     bool   `json:"all,omitempty"`
	Name    string `json:"name,omitempty"` // CommandChanged: the shared map that changed
}

// The kinds of Command.
const (
	CommandPoll   = "poll"   // the leader starts polling an on-demand userlist (a reader of another instance wants it)
	CommandFetch  = "fetch"  // the leader fetches a userlist now
	CommandReload = "reload" // the instance holding them reloads a screen, the screens of a userlist, a managed screen, or all
	// CommandIdentify: the pages of a managed screen show its name for a while, so
	// that the operator can tell which TV it is.
	CommandIdentify = "identify"
	// CommandChanged says that a shared map changed (MapSet, MapDelete), for every
	// instance to load it again.
	CommandChanged = "changed"
)

// Presence is one instance as the others see it: who it is, whether it leads, and what it
// wants to say about itself (its screens, for the status page).
type Presence struct {
	Instance string          `json:"instance"`
	Leader   bool            `json:"leader"`
	Version  string          `json:"version"`
	Started  time.Time       `json:"started"`
	Seen     time.Time       `json:"seen"`
	Screens  json.RawMessage `json:"screens,omitempty"`
	// Token is the leader's access token status (never the token).
	Token *spencerclient.TokenStatus `json:"token,omitempty"`
}

// MapOptions say how MapSet writes an entry.
type MapOptions struct {
	// Limit is how many entries the map may hold; a new key beyond it is ErrMapFull (a
	// key already there is replaced). 0: no limit.
	Limit int
	// TTL is how long the entry lasts; it then goes away by itself, without a
	// CommandChanged. 0: until it is deleted.
	TTL time.Duration
}

// ErrMapFull is MapSet's answer when the map holds MapOptions.Limit entries already.
var ErrMapFull = errors.New("the shared map is full")

// ErrNotLeader is Publish's answer on an instance that no longer holds the lease: its
// content is not shared, so that two pollers never overwrite each other.
var ErrNotLeader = errors.New("not the leader of the cluster")

// ErrEmptied is MapAll's answer when Redis lost what it held since this instance last
// looked (restarted without persistence, or flushed): the empty map is not the operator's
// doing. The instance resyncs, giving back what it has, and reads again.
var ErrEmptied = errors.New("Redis lost what it held; resyncing")

// mapName is what a shared map or a secret may be called: a word that is safe in a file
// name and a Redis key alike.
var mapName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// errMapName is the answer for a name that mapName refuses.
var errMapName = errors.New("a shared map or secret is named in lower-case letters, digits, - and _")

// secretSize is the length of a new random key, in bytes.
const secretSize = 32
