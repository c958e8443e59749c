package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// fanoutRun is one set of screens held by the client process.
type fanoutRun struct {
	n            int
	deflate      bool          // the screens offer permessage-deflate, as browsers do
	spreadTarget time.Duration // 0: the spread is shown without a verdict
	memTarget    int           // bytes per screen; 0: shown without a verdict
	upstream     bool          // also count upstream requests with these screens connected
	held         bool          // the row "screens held by one process"
}

func (r fanoutRun) label() string {
	if r.deflate {
		return fmt.Sprintf("%d screens, deflate", r.n)
	}
	return fmt.Sprintf("%d screens, no compression", r.n)
}

// memory is what the server process holds: its RSS and the Go runtime's own accounts.
type memory struct {
	rss, live, stacks, goroutines int64
}

var memSamples = []metrics.Sample{
	{Name: "/gc/heap/live:bytes"},
	{Name: "/memory/classes/heap/stacks:bytes"},
	{Name: "/sched/goroutines:goroutines"},
}

func readMemory() memory {
	metrics.Read(memSamples)
	return memory{rss: rssBytes(), live: int64(memSamples[0].Value.Uint64()),
		stacks: int64(memSamples[1].Value.Uint64()), goroutines: int64(memSamples[2].Value.Uint64())}
}

// settledMemory collects garbage and gives freed pages back to the system first, so that
// RSS counts what is held, not what the last burst of garbage left mapped.
func settledMemory() memory {
	runtime.GC()
	debug.FreeOSMemory()
	return readMemory()
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

func openFileLimit() uint64 {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) != nil {
		return 0
	}
	return l.Cur
}

// clientProcess is the child process that holds the screens.
type clientProcess struct {
	cmd   *exec.Cmd
	stdin *os.File
	out   *bufio.Reader
}

func startClients(exe, ws string, n int, deflate bool, profile string) (*clientProcess, int, error) {
	cmd := exec.Command(exe, "-clients", strconv.Itoa(n), "-ws", ws, "-deflate="+strconv.FormatBool(deflate), "-profile", profile)
	r, w, err := os.Pipe()
	if err != nil {
		return nil, 0, err
	}
	cmd.Stdin = r
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, 0, err
	}
	r.Close()
	p := &clientProcess{cmd: cmd, stdin: w, out: bufio.NewReader(stdout)}
	line, err := p.out.ReadString('\n')
	var negotiated int
	if _, serr := fmt.Sscanf(line, "ready %d", &negotiated); err != nil || serr != nil {
		p.kill()
		return nil, 0, fmt.Errorf("clients for %d screens: %q %v", n, line, err)
	}
	return p, negotiated, nil
}

func (p *clientProcess) kill() {
	p.cmd.Process.Kill() //nolint:errcheck
	p.cmd.Wait()         //nolint:errcheck
}

// benchFanout connects the screens of each run from a child process, measures what the
// server holds for them, changes the content upstream once, and measures how the deck
// spreads; it also counts upstream requests per interval with the screens connected
// against one screen.
//
// It returns the figures of the first run, beside which the cluster's are set.
func benchFanout(e *env, rep *report, runs []fanoutRun, o options) (single fanoutStats, err error) {
	exe, err := os.Executable()
	if err != nil {
		return single, err
	}
	ws := "ws" + strings.TrimPrefix(e.base, "http") + "/screens/" + lobby + "/ws"
	oneScreenRate, err := upstreamRate(e, exe, ws)
	if err != nil {
		return single, err
	}
	for i, r := range runs {
		if err := awaitNoScreens(e); err != nil {
			return single, err
		}
		before := settledMemory()
		p, negotiated, err := startClients(exe, ws, r.n, r.deflate, o.profile)
		if err != nil {
			return single, err
		}
		held := e.srv.Hub().Total()
		time.Sleep(300 * time.Millisecond) // the screens' first heartbeats and pongs settle
		runtime.GC()
		storm := readMemory() // as the connection storm left it: freed pages still mapped
		after := settledMemory()
		writeHeapProfile(o, fmt.Sprintf("screens-%d-%t", r.n, r.deflate))

		stop := startProfile(o, fmt.Sprintf("fanout-%d-%t", r.n, r.deflate))
		cpu0 := cpuTime()
		e.fake.SetPublications(lobby, newsOfAbout(20<<10, i+1))
		changed := time.Now()
		e.srv.News().Get(lobby).FetchNow()
		fs, err := p.fanout(changed)
		serverCPU := cpuTime() - cpu0
		stop()
		if err != nil {
			p.kill()
			return single, fmt.Errorf("%s: %w", r.label(), err)
		}
		spread, p99, toFirst, missing, res := fs.spread, fs.p99, fs.toFirst, fs.missing, fs.res
		if i == 0 {
			single = fs
		}
		n := float64(r.n)
		perScreen := float64(after.rss-before.rss) / n
		rep.add(fmt.Sprintf("fan-out %s: first→last", r.label()),
			fmt.Sprintf("%v (p99 %v, missed %d)", spread.Round(time.Millisecond), p99.Round(time.Millisecond), missing),
			target(r.spreadTarget), verdict(r.spreadTarget > 0 && !r.held, spread <= r.spreadTarget && missing == 0))
		rep.add(fmt.Sprintf("  change upstream → first screen / last screen (%d)", r.n),
			fmt.Sprintf("%v / %v", toFirst.Round(time.Millisecond), (toFirst+spread).Round(time.Millisecond)), "", nil)
		rep.add(fmt.Sprintf("  CPU meanwhile: server (fetch and render included) / screens (%d)", r.n),
			fmt.Sprintf("%v / %v", serverCPU.Round(time.Millisecond), res.CPU.Round(time.Millisecond)), "", nil)
		rep.add(fmt.Sprintf("server RSS per screen, %s", r.label()), fmt.Sprintf("%.1f KiB (negotiated %d)", perScreen/1024, negotiated),
			memTarget(r.memTarget), verdict(r.memTarget > 0, perScreen <= float64(r.memTarget)))
		rep.add(fmt.Sprintf("  of which Go heap / stacks, goroutines per screen (%d)", r.n),
			fmt.Sprintf("%.1f / %.1f KiB, %.2f", float64(after.live-before.live)/n/1024, float64(after.stacks-before.stacks)/n/1024,
				float64(after.goroutines-before.goroutines)/n), "", nil)
		// The way the figure was taken: after a GC, freed pages still mapped. It
		// holds the garbage of the connection storm (net/http's hijacked buffers, the
		// handshakes) until the runtime returns it, so it is judged too.
		stormPerScreen := float64(storm.rss-before.rss) / n
		rep.add(fmt.Sprintf("  RSS per screen as the connection storm left it (%d)", r.n), fmt.Sprintf("%.1f KiB", stormPerScreen/1024),
			memTarget(r.memTarget), verdict(r.memTarget > 0, stormPerScreen <= float64(r.memTarget)))
		if r.held {
			ok := held == r.n && missing == 0 && spread <= r.spreadTarget
			rep.add("screens held by one process", fmt.Sprintf("%d of %d, fan-out %v (open files %d)", held, r.n, spread.Round(time.Millisecond), openFileLimit()),
				fmt.Sprintf("%d held, fan-out ≤ %v", r.n, r.spreadTarget), ptr(ok))
		}
		if r.upstream {
			rate, tokens := measureUpstream(e, 5*time.Second)
			rep.add(fmt.Sprintf("upstream with %d screens: publications/min", r.n), fmt.Sprintf("%.0f (1 screen: %.0f)", rate, oneScreenRate), "one per interval (60)", ptr(rate <= 60*1.15 && rate <= oneScreenRate*1.2+3))
			rep.add(fmt.Sprintf("upstream with %d screens: token requests/min", r.n), fmt.Sprintf("%.1f", tokens), "0 (token reused)", ptr(tokens < 1))
		}
		fmt.Fprintln(p.stdin, "done")
		p.cmd.Wait() //nolint:errcheck
	}
	return single, awaitNoScreens(e)
}

// fanoutStats is what one fan-out measured.
type fanoutStats struct {
	spread, p99 time.Duration // first screen to last, and to the 99th percentile
	toFirst     time.Duration // the change upstream to the first screen: the fetch and the render
	missing     int           // screens that did not get the deck
	res         fanoutResult
}

// fanout tells the screens to await the next deck (the change was made at changed) and
// reads when each had it.
func (p *clientProcess) fanout(changed time.Time) (fanoutStats, error) {
	fmt.Fprintln(p.stdin, "go")
	line, err := p.out.ReadString('\n')
	if err != nil {
		return fanoutStats{}, err
	}
	var fs fanoutStats
	if err := json.Unmarshal([]byte(line), &fs.res); err != nil {
		return fanoutStats{}, err
	}
	var lat []time.Duration
	var first, last int64
	for _, t := range fs.res.Times {
		if t == 0 {
			fs.missing++
			continue
		}
		if first == 0 || t < first {
			first = t
		}
		last = max(last, t)
	}
	if first == 0 {
		return fs, fmt.Errorf("no screen got the new deck")
	}
	for _, t := range fs.res.Times {
		if t != 0 {
			lat = append(lat, time.Duration(t-first))
		}
	}
	slices.Sort(lat)
	fs.spread = time.Duration(last - first)
	fs.p99 = lat[len(lat)*99/100]
	fs.toFirst = time.Duration(first - changed.UnixNano())
	return fs, nil
}

func target(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return "≤ " + d.String()
}

func memTarget(b int) string {
	if b == 0 {
		return ""
	}
	return fmt.Sprintf("≤ %d KiB", b>>10)
}

func awaitNoScreens(e *env) error {
	deadline := time.Now().Add(30 * time.Second)
	for e.srv.Hub().Total() > 0 {
		if time.Now().After(deadline) {
			return fmt.Errorf("%d screens still connected", e.srv.Hub().Total())
		}
		time.Sleep(50 * time.Millisecond)
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

// upstreamRate is the publications rate with one screen of a child process connected.
func upstreamRate(e *env, exe, ws string) (float64, error) {
	p, _, err := startClients(exe, ws, 1, true, "")
	if err != nil {
		return 0, err
	}
	rate, _ := measureUpstream(e, 5*time.Second)
	p.kill()
	return rate, nil
}
