package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spencer-signage/signage/server"
	"github.com/spencer-signage/signage/server/news"
	"github.com/spencer-signage/signage/spencerclient"
	"github.com/spencer-signage/signage/spencerclient/spencertest"
)

// The kiosk part measures what a screen costs the device it runs on: the CPU time of a
// headless Chromium's whole process tree (browser, renderer, GPU and utility processes)
// over a minute, at 1920×1080 with --disable-gpu, as a TV's chip that renders in software
// would spend it. Between two slide changes the screen should cost about what a static
// page does; the static page is the same screen with its script off (the same photo,
// texts and styles, nothing that moves). Read from /proc/<pid>/stat, in clock ticks.

const (
	kioskTarget = 3 * time.Second // of CPU a minute, between slide changes
	// clockTick is the unit of /proc's CPU times: USER_HZ, 100 a second on every Linux
	// Chromium runs on.
	clockTick = 10 * time.Millisecond
)

// benchKiosk adds the kiosk rows; without Chromium it says so and goes on.
func benchKiosk(rep *report, o options) {
	if err := kioskRows(rep, o); err != nil {
		rep.add("kiosk CPU between slide changes", "not measured: "+err.Error(), "≤ 3 s/min", nil)
	}
}

func kioskRows(rep *report, o options) error {
	chromium := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			chromium = p
			break
		}
	}
	if chromium == "" {
		return fmt.Errorf("no Chromium on PATH (apt-get install chromium)")
	}
	k, err := startKiosk()
	if err != nil {
		return err
	}
	defer k.stop()
	settle, window := 10*time.Second, time.Minute
	if o.quick {
		settle, window = 5*time.Second, 15*time.Second
	}
	screen := k.base + "/screens/" + lobby
	// A slide's time longer than the window: nothing changes slide while it is measured.
	still, err := k.cpu(chromium, screen+"?interval=3600&clock=1", true, settle, window)
	if err != nil {
		return err
	}
	static, err := k.cpu(chromium, screen+"?interval=3600&clock=1", false, settle, window)
	if err != nil {
		return err
	}
	rotating, err := k.cpu(chromium, screen+"?interval=12&clock=1", true, settle, window)
	if err != nil {
		return err
	}
	perMin := func(d time.Duration) time.Duration {
		return time.Duration(float64(d) * float64(time.Minute) / float64(window))
	}
	s, st, r := perMin(still), perMin(static), perMin(rotating)
	fmtMin := func(d time.Duration) string { return fmt.Sprintf("%.2f s/min", d.Seconds()) }
	rep.add("kiosk CPU, static page (the screen without its script)", fmtMin(st), "", nil)
	rep.add("kiosk CPU between slide changes (1920×1080, no GPU, photos)",
		fmt.Sprintf("%s (%.1f× the static page)", fmtMin(s), s.Seconds()/math.Max(st.Seconds(), 0.01)), "≤ 3 s/min", ptr(s <= kioskTarget))
	rep.add("kiosk CPU rotating every 12 s (5 slide changes a minute)", fmtMin(r), "", nil)
	return nil
}

// kiosk is a server with one userlist of news with photos (JPEG, as Spencer's are), on an
// image host of their own that the server fetches them from and keeps them, as it does
// Spencer's. The pages load them from the server's /media/, through a proxy in front of it
// that counts those requests: a page has loaded once it has them.
type kiosk struct {
	srv    *server.Server
	base   string // the proxy's
	photos atomic.Int64
	stop   func()
}

var kioskPhotos = []string{"hall.jpg", "park.jpg"}

func startKiosk() (*kiosk, error) {
	k := &kiosk{}
	photos := map[string][]byte{}
	for i, name := range kioskPhotos {
		photos[name] = photo(1600, 900, i)
	}
	imgLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	images := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := photos[path.Base(r.URL.Path)]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		w.Write(b) //nolint:errcheck // the browser went away
	})}
	go images.Serve(imgLn) //nolint:errcheck // until Close
	imageBase := "http://" + imgLn.Addr().String()

	fake := spencertest.NewServer()
	day := func(d int) string {
		return time.Now().Add(time.Duration(-d) * 24 * time.Hour).UTC().Format(time.RFC3339)
	}
	fake.SetPublications(lobby, []map[string]any{
		{"id": "k1", "title": "Town hall on Friday: our plans for next year", "publishedAt": day(0), "image": imageBase + "/hall.jpg",
			"summary": "Join the leadership team in the auditorium at 16:00, or follow the stream on the intranet. Questions can be sent in advance through the Spencer app.",
			"url":     "https://intranet.example.com/news/town-hall", "author": "Internal Communications"},
		{"id": "k2", "title": "Snow expected tonight: the car park is gritted", "publishedAt": day(1), "image": imageBase + "/park.jpg",
			"summary": "Park on levels −1 and −2; the roof level stays closed.", "author": "Facility Management"},
		{"id": "k3", "title": "Bring your own cup and save 20 cents", "publishedAt": day(2), "author": "Canteen Team",
			"summary": "Every hot drink in a cup you bring yourself is 20 cents cheaper."},
	})
	closeAll := func() {
		images.Close()
		fake.Close()
	}
	cfg := benchConfig(fake)
	cfg.Spencer.PollInterval = server.Duration{Duration: time.Minute}
	cfg.Media.AllowedHosts = []string{imgLn.Addr().String()} // loopback, else never fetched
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	client, err := spencerclient.New(spencerclient.Config{APIURL: fake.APIURL(), TokenURL: fake.TokenURL(),
		ClientID: spencertest.ClientID, ClientSecret: spencertest.ClientSecret, Logger: log})
	if err != nil {
		closeAll()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		closeAll()
		return nil, err
	}
	hub := server.NewHub(cfg.Server.MaxScreens, cfg.Server.MaxScreensPerAddress, log)
	poller := news.NewPoller(client, news.NewMemory(news.MemoryConfig{DataDir: cfg.Server.DataDir, Keep: cfg.Screens.IdleAfter.Duration, Log: log}), hub, server.NewsConfig(cfg), log)
	k.srv = server.New(cfg, server.Options{News: poller, Hub: hub, TokenStatus: client.TokenStatus, Version: "bench", Logger: log})
	k.srv.Open(ln)
	front, err := k.front("http://" + ln.Addr().String())
	if err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		k.srv.Close(ctx) //nolint:errcheck
		closeAll()
		return nil, err
	}
	k.stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		front.Close()
		k.srv.Close(ctx) //nolint:errcheck
		closeAll()
	}
	if err := k.kept(); err != nil {
		k.stop()
		return nil, err
	}
	return k, nil
}

// front serves a proxy to the server at target that counts the pages' requests for
// /media/, and points k.base at it. It passes the browser's Host on, as a proxy in front
// of the server must (the WebSocket's origin check and the page's policy name it).
func (k *kiosk) front(target string) (*http.Server, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(u)
		r.Out.Host = r.In.Host
	}}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/media/") {
			k.photos.Add(1)
		}
		rp.ServeHTTP(w, r)
	})}
	go srv.Serve(ln) //nolint:errcheck // until Close
	k.base = "http://" + ln.Addr().String()
	return srv, nil
}

// kept waits until the screen's page shows the photos from /media/: the server has
// fetched and kept them.
func (k *kiosk) kept() error {
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(k.base + "/screens/" + lobby)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Count(string(b), `src="/media/`) >= len(kioskPhotos) {
				k.photos.Store(0)
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the server did not keep the photos in a minute")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// loaded waits until the page opened after the photos had been asked for seen times has
// them and, when scripted, holds its WebSocket: Chromium takes its time to start
// on a busy machine.
func (k *kiosk) loaded(seen int64, scripted bool) error {
	deadline := time.Now().Add(time.Minute)
	for k.photos.Load() < seen+int64(len(kioskPhotos)) || scripted && k.srv.Hub().Total() != 1 {
		if time.Now().After(deadline) {
			return fmt.Errorf("the page did not load in a minute (%d photos, %d screens connected)", k.photos.Load()-seen, k.srv.Hub().Total())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

// cpu opens url in a headless Chromium of its own at 1920×1080 without a GPU (scripted:
// with JavaScript, else without), waits for the page and for settle more, and returns
// the CPU time its process tree spends over window.
func (k *kiosk) cpu(chromium, url string, scripted bool, settle, window time.Duration) (time.Duration, error) {
	dir, err := os.MkdirTemp("", "signage-bench-kiosk")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars", "--mute-audio",
		"--window-size=1920,1080", "--remote-debugging-port=0", "--user-data-dir=" + dir}
	if !scripted {
		args = append(args, "--blink-settings=scriptEnabled=false")
	}
	seen := k.photos.Load()
	cmd := exec.Command(chromium, append(args, url)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) //nolint:errcheck // the whole group, ours
		cmd.Wait()                                      //nolint:errcheck
	}()
	if err := k.loaded(seen, scripted); err != nil {
		return 0, err
	}
	time.Sleep(settle)
	before := treeCPU(cmd.Process.Pid)
	time.Sleep(window)
	if scripted && k.srv.Hub().Total() != 1 {
		return 0, fmt.Errorf("the screen lost its connection while measured")
	}
	var spent time.Duration
	for pid, t := range treeCPU(cmd.Process.Pid) {
		spent += t - before[pid] // a process started in the window counts from 0
	}
	return spent, nil
}

// photo is a width×height JPEG that compresses and decodes as a photograph does: smooth
// light over a scene, and fine grain.
func photo(width, height, seed int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	rnd := uint32(2463534242 + seed*7919)
	for y := range height {
		for x := range width {
			rnd ^= rnd << 13
			rnd ^= rnd >> 17
			rnd ^= rnd << 5
			grain := float64(rnd%24) - 12
			fx, fy := float64(x)/float64(width), float64(y)/float64(height)
			light := 0.5 + 0.5*math.Sin(fx*5+float64(seed))*math.Cos(fy*3)
			img.Set(x, y, color.RGBA{
				R: clamp8(40 + 150*light*fx + grain),
				G: clamp8(60 + 120*light + grain),
				B: clamp8(90 + 140*(1-fy)*light + grain),
				A: 255,
			})
		}
	}
	var buf bytes.Buffer
	jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}) //nolint:errcheck // into memory
	return buf.Bytes()
}

func clamp8(v float64) uint8 { return uint8(math.Max(0, math.Min(255, v))) }

// treeCPU is the CPU time (user and system) of pid and of each of its descendants. A
// process that ends within the window takes its time with it, which the tree's steady
// state makes rare; counting what its parent reaped instead would count its life before
// the window too.
func treeCPU(pid int) map[int]time.Duration {
	out := map[int]time.Duration{}
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			continue
		}
		// The fields after the command's name, which is in parentheses and may hold spaces:
		// utime and stime are the 14th and 15th of the line.
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) < 13 {
			continue
		}
		utime, _ := strconv.ParseInt(fields[11], 10, 64)
		stime, _ := strconv.ParseInt(fields[12], 10, 64)
		out[p] = time.Duration(utime+stime) * clockTick
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", p))
		for _, t := range tasks {
			b, _ := os.ReadFile(t)
			for _, c := range strings.Fields(string(b)) {
				if child, err := strconv.Atoi(c); err == nil {
					queue = append(queue, child)
				}
			}
		}
	}
	return out
}
