package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spencer-signage/signage/server"
	"github.com/spencer-signage/signage/server/media"
	"github.com/spencer-signage/signage/server/media/mediatest"
	"github.com/spencer-signage/signage/server/news"
	"github.com/spencer-signage/signage/spencerclient"
	"github.com/spencer-signage/signage/spencerclient/spencertest"
)

// benchMedia measures the publications' images through the server: serving a kept
// 1280 px JPEG from /media/ against http.ServeContent of the same file on a bare
// net/http server, and, in a process of its own so that its memory is its alone, the
// time to make the variants of an 8000 × 6000 photo and the resident memory it takes.
func benchMedia(rep *report, o options) error {
	dir, err := os.MkdirTemp("", "signage-bench-media-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	host := mediatest.NewHost()
	defer host.Close()
	photo := host.Put("/photo.jpg", "image/jpeg", mediatest.Scene(2400, 1600))

	fake := spencertest.NewServer()
	defer fake.Close()
	fake.SetPublications(lobby, []map[string]any{{"id": "p", "title": "A photo", "summary": "Kept by the server.", "image": photo}})
	cfg := benchConfig(fake)
	cfg.Server.DataDir = filepath.Join(dir, "data")
	cfg.Media.AllowedHosts = []string{host.Addr()}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	client, err := spencerclient.New(spencerclient.Config{APIURL: fake.APIURL(), TokenURL: fake.TokenURL(),
		ClientID: spencertest.ClientID, ClientSecret: spencertest.ClientSecret, Logger: log})
	if err != nil {
		return err
	}
	hub := server.NewHub(cfg.Server.MaxScreens, cfg.Server.MaxScreensPerAddress, log)
	poller := news.NewPoller(client, news.NewMemory(news.MemoryConfig{DataDir: cfg.Server.DataDir, Keep: cfg.Screens.IdleAfter.Duration, Log: log}), hub, server.NewsConfig(cfg), log)
	srv := server.New(cfg, server.Options{News: poller, Hub: hub, Version: "bench", Logger: log, Authorizer: client})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv.Open(ln)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Close(ctx) //nolint:errcheck
	}()
	base := "http://" + ln.Addr().String()

	// The 1280 px variant, once the server keeps it.
	variant := regexp.MustCompile(`/media/[0-9a-f]{32}-1280\.jpg`)
	var path string
	for deadline := time.Now().Add(30 * time.Second); path == ""; {
		if time.Now().After(deadline) {
			return fmt.Errorf("media: the photo was not kept")
		}
		page, err := fetch(base+"/screens/"+lobby, http.Header{})
		if err != nil {
			return err
		}
		path = variant.FindString(string(page.body))
		if path == "" {
			time.Sleep(50 * time.Millisecond)
		}
	}
	ours, err := fetch(base+path, http.Header{})
	if err != nil {
		return err
	}
	file := filepath.Join(cfg.Server.DataDir, "media", strings.TrimPrefix(path, "/media/"))
	bare := http.NewServeMux()
	bare.HandleFunc("/media/", func(w http.ResponseWriter, r *http.Request) {
		f, err := os.Open(file)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		defer f.Close()
		h := w.Header()
		for _, k := range []string{"Content-Type", "Etag", "Cache-Control", "X-Content-Type-Options"} {
			h[k] = ours.header[k]
		}
		http.ServeContent(w, r, "", time.Time{}, f)
	})
	bareBase, stopBare, err := serveBare(bare)
	if err != nil {
		return err
	}
	defer stopBare()
	bareURL := bareBase + path
	theirs, err := fetch(bareURL, http.Header{})
	if err != nil {
		return err
	}
	if string(theirs.body) != string(ours.body) || theirs.header.Get("Etag") != ours.header.Get("Etag") {
		return fmt.Errorf("media: the bare server does not answer as ours")
	}

	d, rounds := 1200*time.Millisecond, 4
	if o.quick {
		d, rounds = 600*time.Millisecond, 2
	}
	const conc = 32
	stop := startProfile(o, "media")
	var a, b throughput
	for _, u := range []string{base + path, bareURL} { // warm-up, not counted
		if _, err := load(u, http.Header{}, conc, d/3, 200); err != nil {
			return err
		}
	}
	for round := range rounds {
		first, second := base+path, bareURL
		if round%2 == 1 {
			first, second = second, first
		}
		x, err := load(first, http.Header{}, conc, d, 200)
		if err != nil {
			return err
		}
		y, err := load(second, http.Header{}, conc, d, 200)
		if err != nil {
			return err
		}
		if round%2 == 1 {
			x, y = y, x
		}
		k := float64(rounds)
		a.rate, a.cpuPerReq = a.rate+x.rate/k, a.cpuPerReq+x.cpuPerReq/k
		b.rate, b.cpuPerReq = b.rate+y.rate/k, b.cpuPerReq+y.cpuPerReq/k
	}
	stop()
	ratio := a.rate / b.rate
	rep.add(fmt.Sprintf("/media/ 1280 px JPEG %d B: ours / http.ServeContent", len(ours.body)),
		fmt.Sprintf("%.0f / %.0f req/s = %.2f", a.rate, b.rate, ratio), "≥ 0.9", ptr(ratio >= 0.9))
	rep.add("  CPU per request, client and server: ServeContent / ours",
		fmt.Sprintf("%.1f / %.1f µs = %.2f", b.cpuPerReq/1e3, a.cpuPerReq/1e3, b.cpuPerReq/a.cpuPerReq), "", nil)

	// The variants of a camera's photo, in a process of its own.
	src := filepath.Join(dir, "8000x6000.jpg")
	big := mediatest.Scene(8000, 6000)
	if err := os.WriteFile(src, big, 0o644); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	out, err := exec.Command(exe, "-variants", src).Output()
	if err != nil {
		return fmt.Errorf("media: the variants process: %w", err)
	}
	var v variantsRun
	if err := json.Unmarshal(out, &v); err != nil {
		return fmt.Errorf("media: the variants process said %q: %w", out, err)
	}
	rep.add(fmt.Sprintf("variants of an 8000×6000 JPEG (%.1f MB): fetch, decode, 4 widths, write", float64(len(big))/1e6),
		fmt.Sprintf("%.2f s (%s)", v.Seconds, strings.Join(v.Widths, ", ")), "", nil)
	rep.add("  resident memory while making them (peak − before)",
		fmt.Sprintf("%d MB (%d → %d MB)", (v.PeakRSS-v.RSS)>>20, v.RSS>>20, v.PeakRSS>>20), "", nil)
	return nil
}

// variantsRun is what the -variants process reports.
type variantsRun struct {
	Seconds float64  `json:"seconds"`
	RSS     int64    `json:"rss"`
	PeakRSS int64    `json:"peak_rss"`
	Widths  []string `json:"widths"`
}

// runVariants is the -variants process: a media library fetches the JPEG at path from
// an image host over loopback and makes its variants, and the process says how long it
// took and its resident memory before and at its peak (reset just before, through
// /proc/self/clear_refs).
func runVariants(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	host := mediatest.NewHost()
	defer host.Close()
	u := host.Put("/photo.jpg", "image/jpeg", b)
	lib, err := media.Open(media.Config{MaxBytes: 20 << 20, MaxPixels: 50_000_000, CacheBytes: 2048 << 20,
		AllowedHosts: []string{host.Addr()}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	lib.Start()
	defer lib.Close()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return err
	}
	run := variantsRun{RSS: procStatus("VmRSS")}
	start := time.Now()
	lib.Want("bench", []media.Ref{{Item: "p", URL: u}})
	for {
		if p, ok := lib.Image("bench", "p", u); ok {
			run.Seconds = time.Since(start).Seconds()
			for _, v := range p.Variants {
				run.Widths = append(run.Widths, strconv.Itoa(v.Width))
			}
			break
		}
		if f := lib.Failures()["bench"]; f.Count > 0 {
			return fmt.Errorf("%s: %s", f.Reason, f.Detail)
		}
		time.Sleep(5 * time.Millisecond)
	}
	run.PeakRSS = procStatus("VmHWM")
	return json.NewEncoder(os.Stdout).Encode(run)
}

// procStatus reads a memory figure of /proc/self/status, in bytes (0 when unknown).
func procStatus(key string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, key+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
