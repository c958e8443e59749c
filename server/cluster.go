package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"time"

	"github.com/spencer-signage/signage/server/news"
)

// cluster is what the server needs of the engine it shares the work with the other
// instances through: Redis for several instances, the memory engine for one (a cluster
// of one, whose commands and map changes come back to this instance at once). The server
// does the same with either.
type cluster interface {
	Instance() string
	Start()
	Healthy() bool // the shared store answers
	Leader() bool
	Send(ctx context.Context, cmd news.Command) error
	OnCommand(fn func(news.Command))
	// OnResync: after (re)joining, since what was said meanwhile was not heard; emptied
	// when the store lost what it held.
	OnResync(fn func(emptied bool))
	Announce(ctx context.Context, p news.Presence, screens func() json.RawMessage, ttl time.Duration) error
	Presences(ctx context.Context, within time.Duration) ([]news.Presence, error)
	Secret(ctx context.Context, name string, offer []byte) ([]byte, error)
	sharedMaps
}

var _ cluster = news.Engine(nil)

// announceEvery is how often an instance tells the cluster who it is and which screens it
// holds; an instance not heard of for presenceTTL is gone.
const (
	announceEvery = 5 * time.Second
	presenceTTL   = 3 * announceEvery
)

// clustered reports whether the operator set up several instances (cluster.redis_url):
// the status page, /readyz and /metrics then speak of the cluster, its instances and its
// Redis. It changes what is shown, never what is done.
func (s *Server) clustered() bool { return s.cfg.Cluster.RedisURL != "" }

// announce keeps this instance's presence in the cluster until stop.
func (s *Server) announce(stop <-chan struct{}) {
	t := time.NewTicker(announceEvery)
	defer t.Stop()
	for {
		s.announceOnce()
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

func (s *Server) announceOnce() {
	p := news.Presence{Version: s.opts.Version, Started: s.started}
	if s.opts.TokenStatus != nil && s.news.Leading() {
		ts := s.opts.TokenStatus()
		p.Token = &ts
	}
	screens := func() json.RawMessage {
		b, _ := json.Marshal(s.localScreens(time.Now()))
		return b
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.cluster.Announce(ctx, p, screens, presenceTTL); err != nil {
		s.log.Debug("cluster: presence not announced", slog.Any("error", err))
	}
}

// presences are the instances of the cluster, nil when the store does not answer.
func (s *Server) presences() []news.Presence {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	ps, err := s.cluster.Presences(ctx, presenceTTL)
	if err != nil {
		return nil
	}
	return ps
}

// newScreenID names a screen that connects: unique in the cluster, and saying where it is
// (the instance, then a number).
func (s *Server) newScreenID() string {
	return s.cluster.Instance() + ".s" + strconv.FormatInt(s.screenSeq.Add(1), 10)
}

// onCommand acts on what an instance asks of this one's screens and announcements.
func (s *Server) onCommand(cmd news.Command) {
	switch {
	case cmd.Kind == news.CommandChanged && cmd.Name == announcementsMap:
		s.reloadAnnouncements()
		return
	case cmd.Kind == news.CommandChanged && cmd.Name == managedMap:
		s.reloadManaged()
		return
	case cmd.Managed != "":
		s.onManagedCommand(cmd)
		return
	}
	if cmd.Kind != news.CommandReload || cmd.From == s.cluster.Instance() {
		return // the sender acted on its own screens already
	}
	n := s.reloadLocal(cmd.Screen, cmd.Userlist, cmd.All)
	if n > 0 {
		s.log.Info("reload requested by another instance", slog.String("from", cmd.From), slog.Int("screens", n))
	}
}

// reloadLocal reloads this instance's screen, screens of a userlist, or all of them.
func (s *Server) reloadLocal(screen, userlist string, all bool) int {
	switch {
	case screen != "":
		if s.hub.ReloadScreen(screen) {
			return 1
		}
		return 0
	case userlist != "":
		return s.hub.Reload(userlist)
	case all:
		return s.hub.Reload("")
	}
	return 0
}

// resync runs each time this instance (re)joins the cluster (for a single instance, once
// at the start): it loads the cluster's CSRF key, moves the announcements that the
// release before kept in data_dir onto the board, and then the announcements and the
// managed screens.
func (s *Server) resync(emptied bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.loadCSRFKey(ctx)
	s.importAnnouncements(ctx)
	s.resyncAnnouncements(ctx, emptied)
	s.resyncManaged(ctx, emptied)
}

// resyncAnnouncements: when the store lost what it held, the board went with it, and this
// instance puts back what it shows; then it reads the board, for what changed while it
// could not hear.
func (s *Server) resyncAnnouncements(ctx context.Context, emptied bool) {
	if emptied {
		n := s.announcements.restore(ctx)
		if n > 0 {
			s.log.Info("cluster: Redis came back empty; announcements put back", slog.Int("announcements", n))
		}
	}
	s.reloadAnnouncements()
}
