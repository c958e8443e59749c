package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	fmt.Fprintf(os.Stderr, "  %-52s %-26s %s\n", name, value, v)
}

func (r *report) print() {
	fmt.Println()
	fmt.Printf("| %-52s | %-26s | %-22s | %-7s |\n", "measure", "value", "target", "verdict")
	fmt.Printf("|%s|%s|%s|%s|\n", strings.Repeat("-", 54), strings.Repeat("-", 28), strings.Repeat("-", 24), strings.Repeat("-", 9))
	for _, x := range r.rows {
		fmt.Printf("| %-52s | %-26s | %-22s | %-7s |\n", x.name, x.value, x.target, x.verdict)
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
	cfg := server.DefaultConfig()
	cfg.Spencer.Demo = false
	cfg.Spencer.APIURL, cfg.Spencer.TokenURL = fake.APIURL(), fake.TokenURL()
	cfg.Spencer.ClientID, cfg.Spencer.ClientSecret = spencertest.ClientID, spencertest.ClientSecret
	cfg.Spencer.PollInterval = server.Duration{Duration: interval}
	cfg.Server.DataDir = ""
	cfg.Server.MaxScreens, cfg.Server.MaxScreensPerAddress = 20000, 20000
	cfg.Screens.Userlists = []server.UserlistConfig{{ID: lobby, Name: "Lobby"}}
	cfg.Screens.DefaultUserlist = lobby
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	client, err := spencerclient.New(spencerclient.Config{APIURL: fake.APIURL(), TokenURL: fake.TokenURL(),
		ClientID: spencertest.ClientID, ClientSecret: spencertest.ClientSecret, Logger: log})
	if err != nil {
		return nil, err
	}
	hub := server.NewHub(cfg.Server.MaxScreens, cfg.Server.MaxScreensPerAddress, log)
	poller := news.NewPoller(client, news.NewMemory(cfg.Screens.IdleAfter.Duration), hub, server.NewsConfig(cfg), log)
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

func run(quick bool) error {
	fmt.Fprintf(os.Stderr, "spencer-signage bench: %d cores, %s\n", runtime.NumCPU(), runtime.Version())
	e, err := start()
	if err != nil {
		return err
	}
	rep := &report{}
	if err := benchFeed(e, rep, quick); err != nil {
		return err
	}
	if err := benchPage(e, rep); err != nil {
		return err
	}
	sizes := []int{1000, 5000, 10000}
	if quick {
		sizes = []int{200, 1000}
	}
	if err := benchFanout(e, rep, sizes); err != nil {
		return err
	}
	rep.print()
	return nil
}

// load runs conc clients against url for d and returns requests per second.
func load(url string, header http.Header, conc int, d time.Duration, want int) (float64, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var n atomic.Int64
	var firstErr atomic.Value
	stop := time.Now().Add(d)
	warm := time.Now().Add(d / 6)
	var startAt time.Time
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for time.Now().Before(stop) {
				req, _ := http.NewRequest("GET", url, nil)
				maps := header.Clone()
				if maps != nil {
					req.Header = maps
				}
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
	startAt = warm
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return 0, err
	}
	return float64(n.Load()) / time.Since(startAt).Seconds(), nil
}

// benchFeed compares /api/feed.json with a bare net/http handler writing the same bytes.
func benchFeed(e *env, rep *report, quick bool) error {
	get := func(h http.Header) ([]byte, http.Header, error) {
		req, _ := http.NewRequest("GET", e.base+"/api/feed.json", nil)
		req.Header = h
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return b, resp.Header, err
	}
	raw, rh, err := get(http.Header{"Accept-Encoding": {"identity"}})
	if err != nil {
		return err
	}
	gz, _, err := get(http.Header{"Accept-Encoding": {"gzip"}})
	if err != nil {
		return err
	}
	bare := http.NewServeMux()
	bare.HandleFunc("/raw", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/feed+json")
		w.Write(raw) //nolint:errcheck
	})
	bare.HandleFunc("/gz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/feed+json")
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(gz) //nolint:errcheck
	})
	bare.HandleFunc("/gzip-per-request", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		zw.Write(raw) //nolint:errcheck
		zw.Close()
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: bare}
	go hs.Serve(ln) //nolint:errcheck
	defer hs.Close()
	bareURL := "http://" + ln.Addr().String()
	d := 3 * time.Second
	if quick {
		d = time.Second
	}
	const conc = 32
	identity := http.Header{"Accept-Encoding": {"identity"}}
	gzh := http.Header{"Accept-Encoding": {"gzip"}}
	// Interleave the runs so that a noisy neighbour hurts both sides alike.
	var ours, bareRaw, oursGz, bareGz, notMod, perReq float64
	for round := 0; round < 2; round++ {
		a, err := load(e.base+"/api/feed.json", identity, conc, d/2, 200)
		if err != nil {
			return err
		}
		b, err := load(bareURL+"/raw", identity, conc, d/2, 200)
		if err != nil {
			return err
		}
		c, err := load(e.base+"/api/feed.json", gzh, conc, d/2, 200)
		if err != nil {
			return err
		}
		g, err := load(bareURL+"/gz", gzh, conc, d/2, 200)
		if err != nil {
			return err
		}
		ours, bareRaw, oursGz, bareGz = ours+a/2, bareRaw+b/2, oursGz+c/2, bareGz+g/2
	}
	notMod, err = load(e.base+"/api/feed.json", http.Header{"Accept-Encoding": {"identity"}, "If-None-Match": {rh.Get("ETag")}}, conc, d/2, 304)
	if err != nil {
		return err
	}
	perReq, err = load(bareURL+"/gzip-per-request", gzh, conc, d/2, 200)
	if err != nil {
		return err
	}
	ratio := ours / bareRaw
	rep.add(fmt.Sprintf("feed.json %d B: ours / bare net/http", len(raw)), fmt.Sprintf("%.0f / %.0f req/s = %.2f", ours, bareRaw, ratio), "≥ 0.95", ptr(ratio >= 0.95))
	rep.add(fmt.Sprintf("feed.json gzip %d B: ours / bare", len(gz)), fmt.Sprintf("%.0f / %.0f req/s = %.2f", oursGz, bareGz, oursGz/bareGz), "≥ 0.95", ptr(oursGz/bareGz >= 0.95))
	rep.add("feed.json gzip / identity (ours)", fmt.Sprintf("%.2f×", oursGz/ours), "≥ 1.4×", ptr(oursGz/ours >= 1.4))
	rep.add("feed.json 304 (If-None-Match)", fmt.Sprintf("%.0f req/s", notMod), "", nil)
	rep.add("bare gzip per request (for scale)", fmt.Sprintf("%.0f req/s", perReq), "", nil)
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

func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	m := regexp.MustCompile(`VmRSS:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		return 0
	}
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return kb << 10
}

// benchFanout connects n screens from a child process, changes the content upstream
// once, and measures how the deck spreads; it also counts upstream requests per
// interval with the screens connected against one screen.
func benchFanout(e *env, rep *report, sizes []int) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	ws := "ws" + strings.TrimPrefix(e.base, "http") + "/screens/" + lobby + "/ws"
	oneScreenRate, err := upstreamRate(e, 1, exe, ws)
	if err != nil {
		return err
	}
	for i, n := range sizes {
		runtime.GC()
		before := rssBytes()
		cmd := exec.Command(exe, "-clients", strconv.Itoa(n), "-ws", ws)
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			return err
		}
		out := bufio.NewReader(stdout)
		line, err := out.ReadString('\n')
		if err != nil || strings.TrimSpace(line) != "ready" {
			cmd.Process.Kill() //nolint:errcheck
			return fmt.Errorf("clients for %d screens: %q %v", n, line, err)
		}
		runtime.GC()
		time.Sleep(500 * time.Millisecond)
		after := rssBytes()
		perScreen := float64(after-before) / float64(n)

		e.fake.SetPublications(lobby, newsOfAbout(20<<10, i+1))
		changed := time.Now()
		e.srv.News().Get(lobby).FetchNow()
		fmt.Fprintln(stdin, "go")
		line, err = out.ReadString('\n')
		if err != nil {
			return err
		}
		var times []int64
		if err := json.Unmarshal([]byte(line), &times); err != nil {
			return err
		}
		var lat []time.Duration
		var first, last int64
		missing := 0
		for _, t := range times {
			if t == 0 {
				missing++
				continue
			}
			if first == 0 || t < first {
				first = t
			}
			last = max(last, t)
			lat = append(lat, time.Duration(t-changed.UnixNano()))
		}
		slices.Sort(lat)
		spread := time.Duration(last - first)
		p99 := lat[len(lat)*99/100]
		// p99 from the first screen's receipt: the fetch upstream is not the hub's work.
		p99hub := time.Duration(int64(p99) - (first - changed.UnixNano()))
		target := n == 10000
		rep.add(fmt.Sprintf("fan-out %d screens: spread first→last", n), spread.Round(time.Millisecond).String(), "≤ 300ms at 10,000", verdict(target, spread <= 300*time.Millisecond))
		rep.add(fmt.Sprintf("fan-out %d screens: p99 after first receipt", n), fmt.Sprintf("%v (missed %d)", p99hub.Round(time.Millisecond), missing), "≤ 250ms at 10,000", verdict(target, p99hub <= 250*time.Millisecond && missing == 0))
		rep.add(fmt.Sprintf("server RSS per connected screen (%d)", n), fmt.Sprintf("%.1f KiB", perScreen/1024), "≤ 10 KiB", verdict(n >= 5000, perScreen <= 10*1024))
		if i == len(sizes)-1 {
			rate, tokens := measureUpstream(e, 5*time.Second)
			rep.add(fmt.Sprintf("upstream with %d screens: publications/min", n), fmt.Sprintf("%.0f (1 screen: %.0f)", rate, oneScreenRate), "one per interval (60)", ptr(rate <= 60*1.15 && rate <= oneScreenRate*1.2+3))
			rep.add(fmt.Sprintf("upstream with %d screens: token requests/min", n), fmt.Sprintf("%.1f", tokens), "0 (token reused)", ptr(tokens < 1))
		}
		fmt.Fprintln(stdin, "done")
		cmd.Wait() //nolint:errcheck
		deadline := time.Now().Add(20 * time.Second)
		for e.srv.Hub().Total() > 0 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

func verdict(applies, pass bool) *bool {
	if !applies {
		return nil
	}
	return &pass
}

// measureUpstream counts publications and token requests over d, per minute.
func measureUpstream(e *env, d time.Duration) (pubs, tokens float64) {
	p0, t0 := e.fake.PublicationRequests(), e.fake.TokenRequests()
	time.Sleep(d)
	scale := float64(time.Minute) / float64(d)
	return float64(e.fake.PublicationRequests()-p0) * scale, float64(e.fake.TokenRequests()-t0) * scale
}

// upstreamRate is the publications rate with n screens of a child process connected.
func upstreamRate(e *env, n int, exe, ws string) (float64, error) {
	cmd := exec.Command(exe, "-clients", strconv.Itoa(n), "-ws", ws)
	if _, err := cmd.StdinPipe(); err != nil { // held open: the clients wait on it
		return 0, err
	}
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	out := bufio.NewReader(stdout)
	if line, err := out.ReadString('\n'); err != nil || strings.TrimSpace(line) != "ready" {
		cmd.Process.Kill() //nolint:errcheck
		return 0, fmt.Errorf("one client: %q %v", line, err)
	}
	rate, _ := measureUpstream(e, 5*time.Second)
	cmd.Process.Kill() //nolint:errcheck
	cmd.Wait()         //nolint:errcheck
	return rate, nil
}
