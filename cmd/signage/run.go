package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/spencer-signage/signage/server"
	"github.com/spencer-signage/signage/server/news"
	"github.com/spencer-signage/signage/spencerclient"
	"github.com/spencer-signage/signage/spencerclient/spencertest"
)

// version is set at build time with -ldflags "-X main.version=…"; the VCS revision is
// used when it is not.
var version = "dev"

// demoPoll is the longest poll interval in demo mode.
const demoPoll = 10 * time.Second

// shutdownTimeout bounds a graceful shutdown (SIGTERM to exit).
const shutdownTimeout = 8 * time.Second

// Run starts the server and blocks until ctx ends; it returns the process exit status:
// 0 after a clean shutdown, 1 when the server fails, 2 for a bad command line or config.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("signage", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "config.toml", "path of the configuration file")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stdout, "signage", buildVersion())
		return 0
	}
	cfg, err := server.LoadConfig(*configPath, getenv)
	if err != nil {
		var ce *server.ConfigError
		if errors.As(err, &ce) {
			for _, p := range ce.Problems {
				fmt.Fprintln(stderr, p)
			}
		} else {
			fmt.Fprintln(stderr, "config:", err)
		}
		return 2
	}
	log := newLogger(cfg.Server.LogFormat, stderr)

	if err := ensureDataDir(cfg.Server.DataDir); err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		// Most often another server (or another signage) holds the port.
		log.Error("cannot listen: set server.listen or SIGNAGE_LISTEN to another address", slog.String("listen", cfg.Server.Listen), slog.Any("error", err))
		return 1
	}
	base := cfg.Server.PublicURL
	if base == "" {
		base = "http://" + displayAddr(ln.Addr())
	}

	spencer := cfg.Spencer
	apiURL, tokenURL := spencer.APIBase(), spencer.TokenEndpoint()
	clientID, clientSecret := spencer.ClientID, spencer.ClientSecret
	var demoImages http.Handler
	if spencer.Demo {
		fake, err := spencertest.Start("127.0.0.1:0")
		if err != nil {
			log.Error("demo upstream did not start", slog.Any("error", err))
			return 1
		}
		defer fake.Close()
		// The demo's images live on the fake, which is the API host: the server fetches
		// them as it does the images of real news (allowed as the API host is, although it
		// is loopback). Without media.proxy, screens load them from our own origin.
		imageBase := ""
		if !cfg.Media.Proxy {
			imageBase = base + server.DemoImagesPath
			demoImages = fake.ImageHandler()
		}
		fake.LoadDemo(30*time.Second, imageBase)
		apiURL, tokenURL = fake.APIURL(), fake.TokenURL()
		clientID, clientSecret = spencertest.ClientID, spencertest.ClientSecret
		spencer.AuthStyle, spencer.TokenAuth = spencertest.StyleForm.String(), "body"
		// The demo upstream is in this process and changes an item every 30 s: poll it
		// often enough that a first-time user sees the change arrive.
		if cfg.Spencer.PollInterval.Duration > demoPoll {
			cfg.Spencer.PollInterval.Duration = demoPoll
		}
		log.Warn("DEMO MODE: showing sample news from a built-in fake Spencer, not your organisation's; set spencer.demo = false and credentials for real news",
			slog.String("fake_spencer", fake.URL), slog.Duration("poll_interval", cfg.Spencer.PollInterval.Duration))
	}
	// The engine: Redis when instances share the work; else a cluster of one in memory,
	// which keeps what the operator sets in data_dir. Nothing above it asks which.
	var engine news.Engine
	var tokens spencerclient.TokenStore // nil: the client keeps its own (the refresh token in data_dir)
	if cfg.Cluster.RedisURL != "" {
		// go-redis logs its own retries to stderr; the engine logs each outage once, so
		// those lines go to the debug level.
		redis.SetLogger(redisLog{log})
		cluster, err := news.NewRedis(news.RedisConfig{URL: cfg.Cluster.RedisURL, Prefix: cfg.Cluster.KeyPrefix, Log: log})
		if err != nil {
			ln.Close()
			fmt.Fprintln(stderr, "config:", err)
			return 2
		}
		engine, tokens = cluster, cluster.Tokens()
		log.Info("cluster: sharing the work through Redis", slog.String("instance", cluster.Instance()), slog.String("key_prefix", cfg.Cluster.KeyPrefix))
	} else {
		engine = news.NewMemory(news.MemoryConfig{DataDir: cfg.Server.DataDir, Keep: cfg.Screens.IdleAfter.Duration, Log: log})
	}
	client, err := spencerclient.New(spencerclient.Config{
		APIURL:       apiURL,
		TokenURL:     tokenURL,
		ClientID:     clientID,
		ClientSecret: clientSecret,
		Locale:       spencer.Locale,
		Timeout:      spencer.RequestTimeout.Duration,
		UserAgent:    "spencer-signage/" + buildVersion(),
		Logger:       log,
		AuthStyle:    spencer.AuthStyle,
		TokenAuth:    spencer.TokenAuth,
		RefreshToken: spencer.RefreshToken,
		StateDir:     cfg.Server.DataDir,
		Tokens:       tokens,
	})
	if err != nil {
		ln.Close()
		fmt.Fprintln(stderr, "config:", err)
		return 2
	}
	// client → news (poller and engine) → hub → server; the hub tells the poller which
	// userlists screens watch. Open starts the engine once all that listens to it is wired.
	hub := server.NewHub(cfg.Server.MaxScreens, cfg.Server.MaxScreensPerAddress, log)
	poller := news.NewPoller(client, engine, hub, server.NewsConfig(cfg), log)
	srv := server.New(cfg, server.Options{
		News:        poller,
		Hub:         hub,
		TokenStatus: client.TokenStatus,
		Skipped:     client.SkippedTotal,
		Version:     buildVersion(),
		Logger:      log,
		Demo:        spencer.Demo,
		DemoImages:  demoImages,
		Authorizer:  client,
		APIURL:      apiURL,
	})
	srv.Open(ln)
	log.Info("serving", slog.String("url", base+"/"), slog.String("version", buildVersion()))
	for _, ul := range cfg.Screens.Userlists {
		log.Info("screen", slog.String("name", ul.Name), slog.String("url", base+"/screens/"+ul.ID))
	}

	status := 0
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-srv.Err():
		log.Error("server failed", slog.Any("error", err))
		status = 1
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Close(sctx); err != nil {
		log.Warn("shutdown incomplete", slog.Any("error", err))
	}
	engine.Close() //nolint:errcheck // gives the lease back; it runs out anyway
	log.Info("stopped")
	return status
}

// redisLog hands go-redis's messages to our logger at debug level.
type redisLog struct{ log *slog.Logger }

func (r redisLog) Printf(ctx context.Context, format string, v ...any) {
	r.log.DebugContext(ctx, "redis client: "+fmt.Sprintf(format, v...))
}

// newLogger logs text on a terminal and JSON otherwise, unless server.log_format says.
func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "auto" || format == "" {
		format = "json"
		if f, ok := w.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				format = "text"
			}
		}
	}
	opts := &slog.HandlerOptions{ReplaceAttr: durationAsText}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// durationAsText writes a duration as people and the config file write it ("10s"); the
// JSON handler would write nanoseconds (10000000000).
func durationAsText(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		a.Value = slog.StringValue(a.Value.Duration().String())
	}
	return a
}

// displayAddr turns ":8080" or "[::]:8080" into "localhost:8080" for a clickable URL.
func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

func buildVersion() string {
	if version != "dev" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v := "dev-" + s.Value[:12]
				if strings.Contains(fmt.Sprint(info.Settings), "vcs.modified true") {
					v += "-dirty"
				}
				return v
			}
		}
	}
	return version
}
