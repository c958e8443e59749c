package main

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spencer-signage/signage/server"
	"github.com/spencer-signage/signage/server/news"
	"github.com/spencer-signage/signage/spencerclient"
	"github.com/spencer-signage/signage/spencerclient/spencertest"
)

const (
	lobby    = spencertest.DemoLobby
	interval = time.Second
)

type options struct {
	quick   bool
	parts   map[string]bool
	profile string // directory for profiles, "" for none
}

type row struct{ name, value, target, verdict string }

type report struct{ rows []row }

func (r *report) add(name, value, target string, pass *bool) {
	v := ""
	if pass != nil {
		v = "MISS"
		if *pass {
			v = "PASS"
		}
	}
	r.rows = append(r.rows, row{name, value, target, v})
	fmt.Fprintf(os.Stderr, "  %-58s %-34s %s\n", name, value, v)
}

func (r *report) print() {
	w := [4]int{len("measure"), len("value"), len("target"), len("verdict")}
	for _, x := range r.rows {
		for i, s := range []string{x.name, x.value, x.target, x.verdict} {
			w[i] = max(w[i], len([]rune(s)))
		}
	}
	line := func(cells ...string) {
		fmt.Print("|")
		for i, c := range cells {
			fmt.Printf(" %s%s |", c, strings.Repeat(" ", w[i]-len([]rune(c))))
		}
		fmt.Println()
	}
	fmt.Println()
	line("measure", "value", "target", "verdict")
	fmt.Print("|")
	for _, n := range w {
		fmt.Print(strings.Repeat("-", n+2), "|")
	}
	fmt.Println()
	for _, x := range r.rows {
		line(x.name, x.value, x.target, x.verdict)
	}
}

func ptr(b bool) *bool { return &b }

// env is the server under test and its fake upstream, in this process.
type env struct {
	fake *spencertest.Server
	srv  *server.Server
	base string
}

func start() (*env, error) {
	fake := spencertest.NewServer()
	fake.SetPublications(lobby, newsOfAbout(20<<10, 0))
	cfg := benchConfig(fake)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	client, err := spencerclient.New(spencerclient.Config{APIURL: fake.APIURL(), TokenURL: fake.TokenURL(),
		ClientID: spencertest.ClientID, ClientSecret: spencertest.ClientSecret, Logger: log})
	if err != nil {
		return nil, err
	}
	hub := server.NewHub(cfg.Server.MaxScreens, cfg.Server.MaxScreensPerAddress, log)
	poller := news.NewPoller(client, news.NewMemory(news.MemoryConfig{DataDir: cfg.Server.DataDir, Keep: cfg.Screens.IdleAfter.Duration, Log: log}), hub, server.NewsConfig(cfg), log)
	srv := server.New(cfg, server.Options{News: poller, Hub: hub, TokenStatus: client.TokenStatus, Version: "bench", Logger: log})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv.Open(ln)
	e := &env{fake: fake, srv: srv, base: "http://" + ln.Addr().String()}
	deadline := time.Now().Add(10 * time.Second)
	for srv.News().Get(lobby).Content() == nil {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no content from the fake")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return e, nil
}

// benchConfig is the configuration of a server under test, polling fake.
func benchConfig(fake *spencertest.Server) server.Config {
	cfg := server.DefaultConfig()
	cfg.Spencer.Demo = false
	cfg.Spencer.APIURL, cfg.Spencer.TokenURL = fake.APIURL(), fake.TokenURL()
	cfg.Spencer.ClientID, cfg.Spencer.ClientSecret = spencertest.ClientID, spencertest.ClientSecret
	cfg.Spencer.PollInterval = server.Duration{Duration: interval}
	cfg.Server.DataDir = ""
	cfg.Server.MaxScreens, cfg.Server.MaxScreensPerAddress = 20000, 20000
	cfg.Screens.Userlists = []server.UserlistConfig{{ID: lobby, Name: "Lobby"}}
	cfg.Screens.DefaultUserlist = lobby
	return cfg
}

// newsOfAbout makes publications whose JSON feed is about size bytes; n varies a title.
func newsOfAbout(size, n int) []map[string]any {
	var out []map[string]any
	body := strings.Repeat("The canteen reopens on Monday with a new menu and longer opening hours. ", 12)
	for i := 0; i*2200 < size; i++ {
		out = append(out, map[string]any{
			"id": fmt.Sprintf("p%d", i), "title": fmt.Sprintf("News item %d (change %d)", i, n),
			"body": "<p>" + body + "</p>", "publishedAt": time.Date(2026, 11, 1+i%28, 9, 0, 0, 0, time.UTC).Format(time.RFC3339),
		})
	}
	return out
}

func run(o options) error {
	fmt.Fprintf(os.Stderr, "spencer-signage bench: %d cores, %s, open-file limit %d\n", runtime.NumCPU(), runtime.Version(), openFileLimit())
	if o.profile != "" {
		if err := os.MkdirAll(o.profile, 0o755); err != nil {
			return err
		}
	}
	e, err := start()
	if err != nil {
		return err
	}
	rep := &report{}
	if o.parts["feed"] {
		if err := benchFeed(e, rep, o); err != nil {
			return err
		}
	}
	if o.parts["page"] {
		if err := benchPage(e, rep); err != nil {
			return err
		}
	}
	if o.parts["media"] {
		if err := benchMedia(rep, o); err != nil {
			return err
		}
	}
	if o.parts["fanout"] {
		runs := []fanoutRun{
			{n: 10000, deflate: true, spreadTarget: 250 * time.Millisecond, memTarget: 8 << 10, upstream: true},
			{n: 10000, deflate: false, memTarget: 8 << 10},
			{n: 18000, deflate: true, spreadTarget: 500 * time.Millisecond, held: true},
		}
		if o.quick {
			runs = []fanoutRun{{n: 1000, deflate: true, upstream: true}, {n: 1000, deflate: false}, {n: 2000, deflate: true}}
		}
		single, err := benchFanout(e, rep, runs, o)
		if err != nil {
			return err
		}
		if o.parts["cluster"] {
			if err := benchCluster(rep, runs[0].n, single, o); err != nil {
				return err
			}
		}
	}
	if o.parts["kiosk"] {
		benchKiosk(rep, o)
	}
	rep.print()
	return nil
}

// startProfile starts a CPU profile into dir/name.cpu.pprof; the returned func stops it.
func startProfile(o options, name string) func() {
	if o.profile == "" {
		return func() {}
	}
	f, err := os.Create(filepath.Join(o.profile, name+".cpu.pprof"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

func writeHeapProfile(o options, name string) {
	if o.profile == "" {
		return
	}
	f, err := os.Create(filepath.Join(o.profile, name+".heap.pprof"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
		return
	}
	defer f.Close()
	pprof.Lookup("heap").WriteTo(f, 0) //nolint:errcheck
}

// throughput is what a load run measured: requests per second, and the process's CPU time
// per request (client and server both live here), which other processes on the machine
// disturb far less than the rate.
type throughput struct{ rate, cpuPerReq float64 }

// load runs conc clients against url for d.
func load(url string, header http.Header, conc int, d time.Duration, want int) (throughput, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var n atomic.Int64
	var firstErr atomic.Value
	stop := time.Now().Add(d)
	warm := time.Now().Add(d / 6)
	var cpu0 atomic.Int64
	go func() {
		time.Sleep(time.Until(warm))
		cpu0.Store(int64(cpuTime()))
	}()
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for time.Now().Before(stop) {
				req, _ := http.NewRequest("GET", url, nil)
				req.Header = header.Clone()
				resp, err := client.Do(req)
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				io.Copy(io.Discard, resp.Body) //nolint:errcheck
				resp.Body.Close()
				if resp.StatusCode != want {
					firstErr.CompareAndSwap(nil, fmt.Errorf("%s: status %d", url, resp.StatusCode))
					return
				}
				if time.Now().After(warm) {
					n.Add(1)
				}
			}
		})
	}
	wg.Wait()
	cpu := cpuTime() - time.Duration(cpu0.Load())
	if err, _ := firstErr.Load().(error); err != nil {
		return throughput{}, err
	}
	return throughput{rate: float64(n.Load()) / time.Since(warm).Seconds(), cpuPerReq: float64(cpu) / float64(n.Load())}, nil
}

// cpuTime is the user and system time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru) //nolint:errcheck
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// answer is one of our responses, replayed by the bare handler: the same status, headers
// (Content-Length included) and body, from a header map copied once into each response.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a *answer) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	for k, v := range a.header {
		h[k] = v
	}
	w.WriteHeader(a.status)
	w.Write(a.body) //nolint:errcheck
}

// fetch asks url once and keeps the answer; Date is left to net/http, which adds it.
func fetch(url string, h http.Header) (*answer, error) {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header = h
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	hdr := resp.Header.Clone()
	delete(hdr, "Date")
	return &answer{status: resp.StatusCode, header: hdr, body: b}, err
}

// sameAnswer reports how two answers differ in status, headers (but Date) and body, "" if not.
func sameAnswer(a, b *answer) string {
	switch {
	case a.status != b.status:
		return fmt.Sprintf("status %d vs %d", a.status, b.status)
	case !slices.Equal(a.body, b.body):
		return "bodies differ"
	}
	keys := slices.Sorted(maps.Keys(a.header))
	if other := slices.Sorted(maps.Keys(b.header)); !slices.Equal(keys, other) {
		return fmt.Sprintf("header names %v vs %v", keys, other)
	}
	for _, k := range keys {
		if !slices.Equal(a.header[k], b.header[k]) {
			return fmt.Sprintf("%s: %q vs %q", k, a.header[k], b.header[k])
		}
	}
	return ""
}

// benchFeed compares /api/feed.json with a bare net/http handler that sends the same
// status, headers and bytes: the ratio is what routing and middleware cost.
func benchFeed(e *env, rep *report, o options) error {
	feedURL := e.base + "/api/feed.json"
	identity := http.Header{"Accept-Encoding": {"identity"}}
	gzh := http.Header{"Accept-Encoding": {"gzip"}}
	raw, err := fetch(feedURL, identity)
	if err != nil {
		return err
	}
	gz, err := fetch(feedURL, gzh)
	if err != nil {
		return err
	}
	revalidate := http.Header{"Accept-Encoding": {"identity"}, "If-None-Match": {raw.header.Get("Etag")}}
	notMod, err := fetch(feedURL, revalidate)
	if err != nil {
		return err
	}
	if raw.status != 200 || gz.status != 200 || notMod.status != 304 {
		return fmt.Errorf("feed answers %d, %d, %d; want 200, 200, 304", raw.status, gz.status, notMod.status)
	}
	bare := http.NewServeMux()
	bare.Handle("/raw", raw)
	bare.Handle("/gz", gz)
	bare.Handle("/304", notMod)
	bare.HandleFunc("/gzip-per-request", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		zw.Write(raw.body) //nolint:errcheck
		zw.Close()
	})
	bareURL, stopBare, err := serveBare(bare)
	if err != nil {
		return err
	}
	defer stopBare()
	// The baseline must be ours minus routing and middleware: check that it answers alike.
	for _, c := range []struct {
		path string
		h    http.Header
		ours *answer
	}{{"/raw", identity, raw}, {"/gz", gzh, gz}, {"/304", revalidate, notMod}} {
		b, err := fetch(bareURL+c.path, c.h)
		if err != nil {
			return err
		}
		if diff := sameAnswer(c.ours, b); diff != "" {
			return fmt.Errorf("bare %s does not answer as ours: %s", c.path, diff)
		}
	}

	d := 1200 * time.Millisecond
	rounds := 4 // even: each side goes first as often as the other
	if o.quick {
		d, rounds = 600*time.Millisecond, 2
	}
	const conc = 32
	stop := startProfile(o, "feed")
	type pair struct {
		name       string
		ours, bare string
		h          http.Header
		status     int
		o, b       throughput
	}
	pairs := []*pair{
		{name: "identity", ours: feedURL, bare: bareURL + "/raw", h: identity, status: 200},
		{name: "gzip", ours: feedURL, bare: bareURL + "/gz", h: gzh, status: 200},
		{name: "304", ours: feedURL, bare: bareURL + "/304", h: revalidate, status: 304},
	}
	// A warm-up of both sides, not counted: the first load of a run pays for connections,
	// page faults and heap growth that later ones do not.
	for _, p := range pairs {
		for _, url := range []string{p.ours, p.bare} {
			if _, err := load(url, p.h, conc, d/3, p.status); err != nil {
				return err
			}
		}
	}
	// Interleave the runs, and alternate which side goes first, so that a noisy
	// neighbour or a drifting clock hurts both sides alike.
	for round := range rounds {
		for _, p := range pairs {
			first, second := p.ours, p.bare
			if round%2 == 1 {
				first, second = second, first
			}
			a, err := load(first, p.h, conc, d, p.status)
			if err != nil {
				return err
			}
			b, err := load(second, p.h, conc, d, p.status)
			if err != nil {
				return err
			}
			if round%2 == 1 {
				a, b = b, a
			}
			k := float64(rounds)
			p.o.rate, p.o.cpuPerReq = p.o.rate+a.rate/k, p.o.cpuPerReq+a.cpuPerReq/k
			p.b.rate, p.b.cpuPerReq = p.b.rate+b.rate/k, p.b.cpuPerReq+b.cpuPerReq/k
		}
	}
	stop()
	perReq, err := load(bareURL+"/gzip-per-request", gzh, conc, d, 200)
	if err != nil {
		return err
	}
	names := []string{
		fmt.Sprintf("feed.json %d B: ours / bare net/http, same headers", len(raw.body)),
		fmt.Sprintf("feed.json gzip %d B: ours / bare", len(gz.body)),
		"feed.json 304 (If-None-Match): ours / bare 304",
	}
	for i, p := range pairs {
		ratio := p.o.rate / p.b.rate
		rep.add(names[i], fmt.Sprintf("%.0f / %.0f req/s = %.2f", p.o.rate, p.b.rate, ratio), "≥ 0.95", ptr(ratio >= 0.95))
		rep.add(fmt.Sprintf("  CPU per request, client and server (%s): bare / ours", p.name),
			fmt.Sprintf("%.1f / %.1f µs = %.2f", p.b.cpuPerReq/1e3, p.o.cpuPerReq/1e3, p.b.cpuPerReq/p.o.cpuPerReq), "", nil)
	}
	rep.add("feed.json gzip / identity (ours)", fmt.Sprintf("%.2f×", pairs[1].o.rate/pairs[0].o.rate), "", nil)
	rep.add("bare gzip per request (for scale)", fmt.Sprintf("%.0f req/s", perReq.rate), "", nil)
	return nil
}

// benchPage measures the screen page's time to first byte and its weight.
func benchPage(e *env, rep *report) error {
	url := e.base + "/screens/" + lobby
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	var ttfb []time.Duration
	var html []byte
	for i := 0; i < 200; i++ {
		var start, first time.Time
		trace := &httptrace.ClientTrace{GotFirstResponseByte: func() { first = time.Now() }}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", url, nil)
		start = time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		html, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		ttfb = append(ttfb, first.Sub(start))
	}
	slices.Sort(ttfb)
	median := ttfb[len(ttfb)/2]
	weight := len(html)
	for _, m := range regexp.MustCompile(`(?:href|src)="(/static/[^"]+)"`).FindAllSubmatch(html, -1) {
		resp, err := client.Get(e.base + string(m[1]))
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		weight += len(b)
	}
	rep.add("screen page time to first byte (median of 200)", median.Round(10*time.Microsecond).String(), "≤ 5ms", ptr(median <= 5*time.Millisecond))
	rep.add("screen page weight (HTML+CSS+JS, no images)", fmt.Sprintf("%d B (HTML %d B)", weight, len(html)), "≤ 60 KB", ptr(weight <= 60<<10))
	return nil
}

// serveBare serves h on a loopback port of its own, the baseline a part compares ours
// with: plain net/http with the same server settings as ours (server.New), whose timeouts
// cost a deadline or two per request, so that the ratio is what routing and middleware
// cost. It returns the server's base URL and what stops it.
func serveBare(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10}
	go hs.Serve(ln) //nolint:errcheck // until Close
	return "http://" + ln.Addr().String(), func() { hs.Close() }, nil
}
