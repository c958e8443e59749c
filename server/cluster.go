package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/spencer-signage/signage/server/news"
)

// Cluster is what the server needs of the other instances it shares the work with (the
// Redis engine); nil for a single instance.
type Cluster interface {
	Instance() string
	Healthy() bool // Redis answers
	Leader() bool
	Send(ctx context.Context, cmd news.Command) error
	OnCommand(fn func(news.Command))
	// OnResync: after (re)subscribing, since what was said meanwhile was not heard;
	// emptied when Redis lost what it held.
	OnResync(fn func(emptied bool))
	Announce(ctx context.Context, p news.Presence, ttl time.Duration) error
	Presences(ctx context.Context, within time.Duration) ([]news.Presence, error)
	sharedMaps
}

var _ Cluster = (*news.Redis)(nil)

// announceEvery is how often an instance tells the cluster who it is and which screens it
// holds; an instance not heard of for presenceTTL is gone.
const (
	announceEvery = 5 * time.Second
	presenceTTL   = 3 * announceEvery
)

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
	screens, _ := json.Marshal(s.localScreens(time.Now()))
	p := news.Presence{Version: s.opts.Version, Started: s.started, Screens: screens}
	if s.opts.TokenStatus != nil && s.news.Leading() {
		ts := s.opts.TokenStatus()
		p.Token = &ts
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.cluster.Announce(ctx, p, presenceTTL); err != nil {
		s.log.Debug("cluster: presence not announced", slog.Any("error", err))
	}
}

// presences are the instances of the cluster, nil for a single instance or when Redis
// does not answer.
func (s *Server) presences() []news.Presence {
	if s.cluster == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	ps, err := s.cluster.Presences(ctx, presenceTTL)
	if err != nil {
		return nil
	}
	return ps
}

// onCommand acts on what another instance asks of this one's screens.
func (s *Server) onCommand(cmd news.Command) {
	if cmd.Kind == news.CommandChanged && cmd.Name == announcementsMap {
		s.reloadAnnouncements()
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

// resyncAnnouncements runs each time this instance (re)subscribes: when Redis lost what it
// held, the board went with it, and this instance puts back what it shows; then it reads
// the board, for what changed while it could not hear.
func (s *Server) resyncAnnouncements(emptied bool) {
	if emptied {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		n := s.announcements.restore(ctx)
		cancel()
		if n > 0 {
			s.log.Info("cluster: Redis came back empty; announcements put back", slog.Int("announcements", n))
		}
	}
	s.reloadAnnouncements()
}
