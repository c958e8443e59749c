package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/spencer-signage/signage/server"
	"github.com/spencer-signage/signage/server/news"
	"github.com/spencer-signage/signage/server/news/redistest"
	"github.com/spencer-signage/signage/spencerclient"
	"github.com/spencer-signage/signage/spencerclient/spencertest"
)

// instance is one server of the bench's cluster, in this process.
type instance struct {
	srv    *server.Server
	engine *news.Redis
	ws     string
}

// benchCluster runs three instances on one Redis (Debian's redis-server, started here on a
// free port) and one fake Spencer, spreads n screens over them from the client process,
// and measures the fan-out of a change and the time from the change upstream to the last
// screen, beside single's figures (one instance, the same number of screens, this run). It
// also counts the cluster's publications requests per interval.
func benchCluster(rep *report, n int, single fanoutStats, o options) error {
	rs, err := redistest.Start()
	if err != nil {
		rep.add("cluster", "not measured: "+err.Error(), "", nil)
		return nil
	}
	defer rs.Stop()

	fake := spencertest.NewServer()
	defer fake.Close()
	fake.SetPublications(lobby, newsOfAbout(20<<10, 0))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var ins []*instance
	defer func() {
		for _, in := range ins {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			in.srv.Close(ctx) //nolint:errcheck // the bench is over
			cancel()
			in.engine.Close() //nolint:errcheck
		}
	}()
	for range 3 {
		in, err := startInstance(fake, rs.URL(0), log)
		if err != nil {
			return err
		}
		ins = append(ins, in)
	}
	var leader *instance
	deadline := time.Now().Add(20 * time.Second)
	for leader == nil || !allHaveContent(ins) {
		if time.Now().After(deadline) {
			return fmt.Errorf("cluster: no leader, or an instance without content")
		}
		for _, in := range ins {
			if in.engine.Leader() {
				leader = in
			}
		}
		time.Sleep(50 * time.Millisecond)
	}

	exe, err := os.Executable()
	if err != nil {
		return err
	}
	var urls []string
	for _, in := range ins {
		urls = append(urls, in.ws)
	}
	p, _, err := startClients(exe, strings.Join(urls, ","), n, true, o.profile)
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(p.stdin, "done")
		p.cmd.Wait() //nolint:errcheck
	}()
	var held []string
	for _, in := range ins {
		held = append(held, fmt.Sprint(in.srv.Hub().Total()))
	}
	time.Sleep(300 * time.Millisecond) // the screens' first heartbeats settle

	fake.SetPublications(lobby, newsOfAbout(20<<10, 1))
	changed := time.Now()
	leader.srv.News().Get(lobby).FetchNow()
	fs, err := p.fanout(changed)
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	rep.add(fmt.Sprintf("cluster: %d screens over 3 instances (%s)", n, strings.Join(held, " + ")),
		fmt.Sprintf("first→last %v (p99 %v, missed %d)", fs.spread.Round(time.Millisecond), fs.p99.Round(time.Millisecond), fs.missing), "", nil)
	rep.add("  change upstream → last screen: one instance / cluster",
		fmt.Sprintf("%v / %v", (single.toFirst+single.spread).Round(time.Millisecond), (fs.toFirst+fs.spread).Round(time.Millisecond)), "", nil)

	// The cluster asks Spencer as one instance does: one request per userlist per interval.
	from, tokens := fake.PublicationRequestsFor(lobby), fake.TokensIssued()
	time.Sleep(5 * time.Second)
	rate := float64(fake.PublicationRequestsFor(lobby)-from) * 12
	rep.add("cluster: publications/min, token requests", fmt.Sprintf("%.0f, %d", rate, fake.TokensIssued()-tokens),
		"one per interval (60), 0", ptr(rate <= 60*1.15 && fake.TokensIssued() == tokens))
	return nil
}

// startInstance starts one instance of the cluster, wired as cmd/signage wires it.
func startInstance(fake *spencertest.Server, redisURL string, log *slog.Logger) (*instance, error) {
	cfg := benchConfig(fake)
	cfg.Cluster.RedisURL, cfg.Cluster.KeyPrefix = redisURL, "bench:"
	engine, err := news.NewRedis(news.RedisConfig{URL: redisURL, Prefix: "bench:", Log: log})
	if err != nil {
		return nil, err
	}
	client, err := spencerclient.New(spencerclient.Config{APIURL: fake.APIURL(), TokenURL: fake.TokenURL(),
		ClientID: spencertest.ClientID, ClientSecret: spencertest.ClientSecret, Logger: log, Tokens: engine.Tokens()})
	if err != nil {
		return nil, err
	}
	hub := server.NewHub(cfg.Server.MaxScreens, cfg.Server.MaxScreensPerAddress, log)
	poller := news.NewPoller(client, engine, hub, server.NewsConfig(cfg), log)
	srv := server.New(cfg, server.Options{News: poller, Hub: hub, TokenStatus: client.TokenStatus, Version: "bench", Logger: log})
	engine.Start()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv.Open(ln)
	return &instance{srv: srv, engine: engine, ws: "ws://" + ln.Addr().String() + "/screens/" + lobby + "/ws"}, nil
}

func allHaveContent(ins []*instance) bool {
	for _, in := range ins {
		if ul := in.srv.News().Get(lobby); ul == nil || ul.Content() == nil {
			return false
		}
	}
	return true
}
