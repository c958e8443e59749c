// Package server serves Spencer news to screens, embeds and feed readers: what is rendered
// of each content of the news, the messages screens are sent, and the HTTP routes.
package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"

	"github.com/spencer-signage/signage/server/feed"
	"github.com/spencer-signage/signage/server/media"
	"github.com/spencer-signage/signage/server/news"
	"github.com/spencer-signage/signage/server/screens"
	"github.com/spencer-signage/signage/spencerclient"
	"github.com/spencer-signage/signage/static"
	"github.com/spencer-signage/signage/views"
)

// Options are the parts of a Server that do not come from the config file.
type Options struct {
	// News is the news of each userlist (required); the server subscribes to it before it
	// starts it, and shares the work with the other instances through its engine.
	News *news.Poller
	// Hub holds the screens; it is also News's watchers. New makes one when nil.
	Hub         *screens.Hub
	TokenStatus func() spencerclient.TokenStatus // for /admin; nil when unknown
	// Skipped counts publications skipped for want of a title and a body; nil when unknown.
	Skipped    func() int64
	Version    string // the build's version, shown and sent to screens
	Logger     *slog.Logger
	Demo       bool
	DemoImages http.Handler // demo mode: the fake's images, served at DemoImagesPath
	// Authorizer fetches the images that live on the API host with the Spencer client's
	// token (the client itself); nil fetches them without.
	Authorizer media.Authorizer
	// APIURL is the API base the client asks, when it is not the configured one (demo
	// mode's fake): its host is allowed to the media fetches, and has the token.
	APIURL string
	// HeartbeatInterval is how often screens send a heartbeat (30 s; tests shorten it).
	HeartbeatInterval time.Duration
	// AlertCheckInterval is how often alerts are evaluated (15 s; tests shorten it).
	AlertCheckInterval time.Duration
	// Now is the clock of the quiet hours, of the announcements' expiry and of the time the
	// screens show (time.Now when nil; tests drive it rather than wait for 19:00).
	Now func() time.Time
	// PairingCodeTTL is how long a kiosk's pairing code lasts (15 minutes; tests shorten
	// it rather than wait).
	PairingCodeTTL time.Duration
}

// DemoImagesPath is where demo mode serves the sample news' images from our own origin,
// so that screens on other machines can load them when media.proxy is false.
const DemoImagesPath = "/demo/images"

// NewsConfig is the configuration of the poller that config asks for.
func NewsConfig(cfg Config) news.Config {
	names := map[string]string{}
	for _, ul := range cfg.Screens.Userlists {
		names[ul.ID] = ul.Name
	}
	return news.Config{
		Interval:    cfg.Spencer.PollInterval.Duration,
		IdleAfter:   cfg.Screens.IdleAfter.Duration,
		MaxOnDemand: cfg.Screens.MaxOnDemand,
		// A fetch may need a token renewal, the request, a renewal after a 401 and a retry.
		Timeout: 3 * cfg.Spencer.RequestTimeout.Duration,
		Locale:  cfg.Spencer.Locale,
		Names:   names,
		DataDir: cfg.Server.DataDir,
	}
}

// Server is the HTTP server of the screens, embeds, feeds and the status page: it renders
// each new content of the news once and hands it to the hub.
type Server struct {
	cfg      Config
	opts     Options
	log      *slog.Logger
	echo     *echo.Echo
	http     *http.Server
	news     *news.Poller
	hub      *screens.Hub
	editions *editions
	media    *media.Library // nil with media.proxy = false
	static   *static.Files
	assets   views.Assets
	build    string
	names    map[string]string

	metrics   *metrics
	gone      *departures   // screens that disconnected lately, for /admin
	alerts    *alerter      // nil without alerts.webhook_url
	csrf      csrfTokens    // of the admin actions
	guesses   *guesses      // wrong admin tokens per client
	heartbeat time.Duration // how often screens report; two missed and a screen is offline
	upgrader  *websocket.Upgrader
	proxies   *proxies
	// publicHost is the host[:port] of public_url, "" without one.
	publicHost  string
	crossOrigin *http.CrossOriginProtection
	screenSeq   atomic.Int64
	ln          net.Listener
	serveErr    chan error

	cluster      cluster // News's engine: Redis, or a cluster of one in memory
	started      time.Time
	stopAnnounce chan struct{}

	now           func() time.Time
	quiet         quietHours
	quietNow      atomic.Bool // the quiet hours hold now
	announcements *announcements
	layers        layers
	stopTick      chan struct{}

	// The kiosks set up with a pairing code: those that wait with a code (a hub of their
	// own, by device, since they show nothing of any userlist), and this instance's copy
	// of the managed screens, read again (one at a time) whenever they change.
	waiting     *screens.Hub
	pairing     pairing
	codeGuesses *guesses // wrong pairing codes per client
	managed     managedScreens
	managedLoad sync.Mutex
}

// New wires a server from its config and parts; Open starts it.
func New(cfg Config, opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Hub == nil {
		opts.Hub = NewHub(cfg.Server.MaxScreens, cfg.Server.MaxScreensPerAddress, opts.Logger)
	}
	s := &Server{
		cfg:       cfg,
		opts:      opts,
		log:       opts.Logger,
		news:      opts.News,
		hub:       opts.Hub,
		editions:  &editions{log: opts.Logger, feedIDs: feed.NewIDs(upstreamIdentity(cfg.Spencer, opts.Demo)), loc: cfg.Screens.Location()},
		static:    static.New(),
		names:     map[string]string{},
		serveErr:  make(chan error, 1),
		heartbeat: 30 * time.Second,
		cluster:   opts.News.Engine(),
		started:   time.Now(),
		now:       opts.Now,
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.guesses, s.codeGuesses = newGuesses(s.now), newGuesses(s.now)
	s.pairing.ttl = defaultCodeTTL
	if opts.PairingCodeTTL > 0 {
		s.pairing.ttl = opts.PairingCodeTTL
	}
	s.waiting = NewHub(maxWaiting, cfg.Server.MaxScreensPerAddress, opts.Logger.With(slog.String("hub", "pairing")))
	s.quiet, _ = parseQuietHours(cfg.Screens.QuietHours, cfg.Screens.Location()) // validated with the config
	if lib, err := s.openMedia(); err != nil {
		// Only a policy the config check let through would do this: kept in memory, the
		// images need no disk.
		s.log.Error("media off: pages load the images from their hosts", slog.Any("error", err))
	} else if lib != nil {
		s.media, s.editions.media = lib, lib
		lib.OnReady(s.onMedia)
	}
	s.announcements = &announcements{board: board{maps: s.cluster}, log: s.log, now: s.now, onChange: s.pushAnnouncements}
	s.csrf.init()
	s.proxies = newProxies(cfg.Server.TrustedProxies, cfg.Server.ClientIPHeader)
	if len(cfg.Server.TrustedProxies) > 0 && cfg.Server.AdminToken == "" {
		s.log.Warn("/admin, its API and /metrics refuse every request: server.trusted_proxies is set and server.admin_token is not, " +
			"and a request through a proxy on this machine cannot be told from this machine's own; set admin_token (or SIGNAGE_ADMIN_TOKEN)")
	}
	s.crossOrigin = http.NewCrossOriginProtection()
	if pub := cfg.Server.PublicURL; pub != "" {
		if u, err := url.Parse(pub); err == nil {
			s.publicHost = u.Host
		}
		s.crossOrigin.AddTrustedOrigin(originOf(pub)) //nolint:errcheck // validated with the config
	}
	if opts.HeartbeatInterval > 0 {
		s.heartbeat = opts.HeartbeatInterval
	}
	for _, ul := range cfg.Screens.Userlists {
		s.names[ul.ID] = ul.Name
	}
	s.build = opts.Version + "-" + s.static.Hash()
	s.assets = views.Assets{
		CSS:      s.static.Path("screen.css"),
		ScreenJS: s.static.Path("screen.js"),
		EmbedJS:  s.static.Path("embed.js"),
		IndexJS:  s.static.Path("index.js"),
		AdminJS:  s.static.Path("admin.js"),
		PairCSS:  s.static.Path("pair.css"),
		PairJS:   s.static.Path("pair.js"),
	}
	s.gone = newDepartures()
	s.hub.OnLeave(s.gone.add)
	s.hub.SetHeartbeat(s.heartbeat)
	s.waiting.SetHeartbeat(s.heartbeat)
	sources := metricSources{hub: s.hub, news: s.news, token: opts.TokenStatus, skipped: opts.Skipped, media: s.media}
	if s.clustered() {
		sources.cluster = s.cluster
	}
	s.metrics = newMetrics(sources)
	s.news.ObserveFetches(s.metrics.observeFetch)
	s.news.Subscribe(s.onChange)
	s.cluster.OnCommand(s.onCommand)
	s.cluster.OnResync(s.resync)
	if cfg.Alerts.WebhookURL != "" {
		every := 15 * time.Second
		if opts.AlertCheckInterval > 0 {
			every = opts.AlertCheckInterval
		}
		s.alerts = newAlerter(cfg.Alerts, s.status, s.names, s.log, every)
		s.alerts.quiet = s.quietNow.Load
		s.metrics.observeAlerts(s.alerts.hook)
		// One message per event for the whole cluster: the leader's.
		s.alerts.active = s.cluster.Leader
	}
	s.upgrader = screens.NewUpgrader(s.checkOrigin)
	s.echo = s.routes()
	s.http = &http.Server{
		Handler:           s.echo,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	return s
}

// onChange hears of every new content: it is rendered once, and the screens of its
// userlist get the new deck when the version changed, the stale flag when that changed,
// compared with what they were last told (a request may have rendered this content
// already: that is no reason to keep it from the screens).
func (s *Server) onChange(c *news.Content) {
	e := s.edition(c)
	if e == nil {
		return
	}
	prev := s.editions.announce(e)
	if prev == e {
		return
	}
	if prev == nil || prev.Version != e.Version {
		s.hub.Deck(e.Userlist, e.Version, e.DeckMessage)
	}
	if prev != nil && prev.Stale != e.Stale || prev == nil && e.Stale {
		s.hub.Status(e.Userlist, statusMessageOf(e))
	}
}

// edition is the rendered edition of c (nil for nil).
func (s *Server) edition(c *news.Content) *Edition {
	return s.editions.of(c, func(id string) bool { return s.news.Get(id) != nil })
}

// Handler is the server's HTTP handler, for tests that bring their own listener.
func (s *Server) Handler() http.Handler { return s.echo }

// Hub is the server's hub of screens.
func (s *Server) Hub() *screens.Hub { return s.hub }

// News is the server's news of each userlist.
func (s *Server) News() *news.Poller { return s.news }

// Build identifies the server's build and static files; screens reload when it changes.
func (s *Server) Build() string { return s.build }

// Open joins the cluster (starting the engine, which does nothing when it runs already),
// starts polling and serves on ln.
func (s *Server) Open(ln net.Listener) {
	s.ln = ln
	s.cluster.Start()
	s.news.Start()
	if s.media != nil {
		s.media.Start()
	}
	if s.alerts != nil {
		s.alerts.start()
	}
	s.stopAnnounce = make(chan struct{})
	go s.announce(s.stopAnnounce)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	if _, err := s.announcements.load(ctx); err != nil {
		s.log.Warn("announcements not loaded yet", slog.Any("error", err))
	}
	cancel()
	s.quietNow.Store(s.quiet.quiet(s.now()))
	s.stopTick = make(chan struct{})
	go s.tick(s.stopTick)
	go func() {
		err := s.http.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.serveErr <- err
	}()
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Err reports a failure of the HTTP server while it runs.
func (s *Server) Err() <-chan error { return s.serveErr }

// Close shuts down in reverse order of Open: stop accepting and finish requests, close
// the screens with a going-away frame (they reconnect to the next process), stop polling.
func (s *Server) Close(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	if s.stopAnnounce != nil {
		close(s.stopAnnounce)
	}
	if s.stopTick != nil {
		close(s.stopTick)
	}
	if s.alerts != nil {
		s.alerts.close()
	}
	s.hub.Close()
	s.waiting.Close()
	s.news.Stop()
	if s.media != nil {
		s.media.Close()
	}
	return err
}

// upstreamIdentity names the Spencer whose news this is, for the feeds' permanent ids:
// the customer, else the API's host; demo mode's upstream changes port at every start.
func upstreamIdentity(sp SpencerConfig, demo bool) string {
	switch {
	case demo:
		return "demo"
	case sp.Customer != "":
		return "customer:" + strings.ToLower(sp.Customer)
	}
	if u, err := url.Parse(sp.APIBase()); err == nil {
		return "api:" + strings.ToLower(u.Host)
	}
	return sp.APIBase()
}

// checkOrigin accepts WebSocket upgrades from pages of this server (its own host, or the
// host of public_url) and from clients that send no Origin (not browsers).
func (s *Server) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	host := origin
	if i := strings.Index(host, "://"); i >= 0 {
		host = host[i+3:]
	}
	if strings.EqualFold(host, r.Host) {
		return true
	}
	if pub := s.cfg.Server.PublicURL; pub != "" && strings.EqualFold(origin, originOf(pub)) {
		return true
	}
	return false
}

// originOf is the scheme://host[:port] of an absolute URL.
func originOf(u string) string {
	i := strings.Index(u, "://")
	if i < 0 {
		return u
	}
	rest := u[i+3:]
	if j := strings.IndexByte(rest, '/'); j >= 0 {
		rest = rest[:j]
	}
	return u[:i+3] + rest
}
