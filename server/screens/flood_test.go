package screens_test

import (
	"bytes"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"
)

// TestFloodsLeaveTheServerFlat: 40 sockets sending heartbeats as fast as they can and 20
// sending deflated ones are each closed with 1008 (policy violation), and meanwhile the
// process holds no more goroutines than the sockets' own and no more memory than a few
// megabytes: a message is read, inflated and parsed by the screen's one reader, one after
// the other, never by a goroutine of its own.
func TestFloodsLeaveTheServerFlat(t *testing.T) {
	h := newTestHub(t)
	const plain, compressed = 40, 20
	var socks []*rawScreen
	for i := range plain + compressed {
		s := h.dialRaw(t, i >= plain)
		if _, err := s.readMessage(); err != nil {
			t.Fatal(err)
		}
		socks = append(socks, s)
	}
	// A burst of 64 heartbeats per write, sent until the server closes the socket.
	plainBurst := bytes.Repeat(clientFrame(0x81, heartbeat), 64)
	deflatedBurst := bytes.Repeat(clientFrame(0xc1, deflated(heartbeat)), 64)

	start := make(chan struct{})
	var wg sync.WaitGroup
	codes := make([]int, len(socks))
	for i, s := range socks {
		burst := plainBurst
		if s.deflate {
			burst = deflatedBurst
		}
		wg.Go(func() {
			<-start
			deadline := time.Now().Add(3 * time.Second)
			s.conn.SetWriteDeadline(deadline) //nolint:errcheck
			for time.Now().Before(deadline) {
				if _, err := s.conn.Write(burst); err != nil {
					return // closed by the server
				}
			}
		})
		wg.Go(func() {
			<-start
			codes[i] = s.readCloseCode(5 * time.Second)
		})
	}
	runtime.GC()
	base := sample()
	peak := base
	close(start)
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	for running := true; running; {
		select {
		case <-finished:
			running = false
		case <-time.After(5 * time.Millisecond):
		}
		peak = peak.max(sample())
	}
	for i, code := range codes {
		if code != 1008 {
			t.Errorf("socket %d (deflate %v): close %d, want 1008", i, socks[i].deflate, code)
		}
	}
	t.Logf("goroutines %d → peak %d; heap and stacks %.1f → peak %.1f MiB", base.goroutines, peak.goroutines,
		float64(base.bytes)/(1<<20), float64(peak.bytes)/(1<<20))
	// The sockets' own goroutines are already counted in base; the server may run a
	// writer per screen (the close frame) beside its reader.
	if peak.goroutines > base.goroutines+len(socks)+10 {
		t.Errorf("goroutines grew from %d to %d under the flood", base.goroutines, peak.goroutines)
	}
	if grew := peak.bytes - base.bytes; grew > 16<<20 {
		t.Errorf("heap and stacks grew by %.1f MiB under the flood", float64(grew)/(1<<20))
	}
	h.awaitEmpty(t)
}

type usage struct {
	goroutines int
	bytes      uint64 // heap objects and goroutine stacks
}

func (u usage) max(v usage) usage {
	return usage{max(u.goroutines, v.goroutines), max(u.bytes, v.bytes)}
}

var usageSamples = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/stacks:bytes"}}

func sample() usage {
	metrics.Read(usageSamples)
	return usage{runtime.NumGoroutine(), usageSamples[0].Value.Uint64() + usageSamples[1].Value.Uint64()}
}

// readCloseCode reads frames until the server's close frame and returns its code; 0 when
// none came within timeout (or the connection broke first).
func (c *rawScreen) readCloseCode(timeout time.Duration) int {
	c.conn.SetReadDeadline(time.Now().Add(timeout)) //nolint:errcheck
	for {
		f, err := c.readFrame()
		if err != nil {
			return 0
		}
		if f.op == 0x8 {
			if len(f.payload) < 2 {
				return 1005
			}
			return int(f.payload[0])<<8 | int(f.payload[1])
		}
	}
}
