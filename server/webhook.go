package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// How the webhook's alerts are delivered. An alert is tried at once, then after 1 s, 2 s,
// 4 s… (with jitter, or later when the receiver says Retry-After), at most
// webhookAttempts times and for webhookMaxAge: an alert that old tells of a moment that
// is gone, and a receiver that comes back after an outage gets the news of now, not a
// flood of the stale ones (257 within a second, before these bounds).
const (
	webhookAttempts   = 8
	webhookMaxAge     = 10 * time.Minute
	webhookFirstRetry = time.Second
	webhookMaxRetry   = 2 * time.Minute
	webhookTimeout    = 10 * time.Second
	webhookPending    = 256 // alerts waiting at most; beyond it the oldest is dropped
)

// webhook posts alerts to alerts.webhook_url. Each alert waits for its own turn only: a
// retry is scheduled beside the new alerts, never slept on, so one that the receiver
// refuses or fails cannot hold up the others. A post in flight is cancelled when the
// webhook is closed, so a receiver that hangs does not delay a shutdown.
type webhook struct {
	url    string
	client *http.Client
	log    *slog.Logger

	mu sync.Mutex
	// Bounds of the retries: the constants above (tests shorten them).
	attempts             int
	maxAge               time.Duration
	firstRetry, maxRetry time.Duration
	pending              []*delivery

	wake   chan struct{} // a new alert is pending
	ctx    context.Context
	cancel context.CancelFunc
	done   sync.WaitGroup

	// Dropped alerts, by why: the receiver refused it (a 4xx that retrying cannot
	// change), it failed for too long, or too many were waiting.
	refused, expired, overflowed atomic.Int64
	sent                         atomic.Int64
}

// delivery is one alert on its way, with its attempts so far.
type delivery struct {
	alert    Alert
	raised   time.Time
	next     time.Time // not before
	attempts int
}

func newWebhook(url string, log *slog.Logger) *webhook {
	ctx, cancel := context.WithCancel(context.Background())
	return &webhook{
		url: url, log: log,
		client:     &http.Client{Timeout: webhookTimeout},
		attempts:   webhookAttempts,
		maxAge:     webhookMaxAge,
		firstRetry: webhookFirstRetry,
		maxRetry:   webhookMaxRetry,
		wake:       make(chan struct{}, 1),
		ctx:        ctx,
		cancel:     cancel,
	}
}

func (w *webhook) start() {
	w.done.Add(1)
	go w.run()
}

// close cancels the post in flight and stops; alerts still waiting are dropped.
func (w *webhook) close() {
	w.cancel()
	w.done.Wait()
}

// send queues an alert; it never blocks. When webhookPending alerts wait already (the
// receiver has been failing), the oldest makes way: the newest say most about now.
func (w *webhook) send(al Alert) {
	now := time.Now()
	w.mu.Lock()
	if len(w.pending) >= webhookPending {
		oldest := 0
		for i, d := range w.pending {
			if d.raised.Before(w.pending[oldest].raised) {
				oldest = i
			}
		}
		w.log.Warn("alert dropped: too many wait for the webhook", slog.String("event", w.pending[oldest].alert.Event))
		w.pending = append(w.pending[:oldest], w.pending[oldest+1:]...)
		w.overflowed.Add(1)
	}
	w.pending = append(w.pending, &delivery{alert: al, raised: now, next: now})
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *webhook) run() {
	defer w.done.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		d, wait := w.due(time.Now())
		if d != nil {
			w.deliver(d)
			continue
		}
		timer.Reset(wait)
		select {
		case <-w.ctx.Done():
			return
		case <-w.wake:
		case <-timer.C:
		}
	}
}

// due takes the pending delivery whose turn has come (the one due first), or says how
// long until the next one is due.
func (w *webhook) due(now time.Time) (*delivery, time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	first := -1
	for i, d := range w.pending {
		if first < 0 || d.next.Before(w.pending[first].next) {
			first = i
		}
	}
	if first < 0 {
		return nil, time.Hour
	}
	d := w.pending[first]
	if wait := d.next.Sub(now); wait > 0 {
		return nil, wait
	}
	w.pending = append(w.pending[:first], w.pending[first+1:]...)
	return d, 0
}

// deliver makes one attempt and decides what comes next: done, dropped, or a retry.
func (w *webhook) deliver(d *delivery) {
	d.attempts++
	status, retryAfter, err := w.post(d.alert)
	event := slog.String("event", d.alert.Event)
	switch {
	case w.ctx.Err() != nil:
		return // stopping
	case err == nil:
		w.sent.Add(1)
		w.log.Info("alert sent", event)
		return
	case status >= 400 && status < 500 && status != http.StatusRequestTimeout && status != http.StatusTooManyRequests:
		// The receiver will answer the same to the same message: a changed or revoked
		// webhook, a message it cannot take. Trying again only holds the others up.
		w.refused.Add(1)
		w.log.Warn("alert dropped: the webhook refused it", event, slog.Int("status", status))
		return
	}
	now := time.Now()
	w.mu.Lock()
	wait, attempts, maxAge := w.backoff(d.attempts), w.attempts, w.maxAge
	w.mu.Unlock()
	if retryAfter > wait {
		wait = retryAfter
	}
	if d.attempts >= attempts || now.Add(wait).Sub(d.raised) > maxAge {
		w.expired.Add(1)
		w.log.Warn("alert dropped: the webhook failed for too long", event, slog.Int("attempts", d.attempts),
			slog.Time("raised", d.raised), slog.Any("error", err))
		return
	}
	w.log.Warn("alert not delivered, will retry", event, slog.Duration("in", wait.Round(time.Millisecond)), slog.Any("error", err))
	d.next = now.Add(wait)
	w.mu.Lock()
	w.pending = append(w.pending, d)
	w.mu.Unlock()
}

// backoff is the wait before the next attempt, after n attempts: firstRetry doubling up
// to maxRetry, from half to all of it (jitter, so that instances and alerts spread). The
// caller holds mu.
func (w *webhook) backoff(n int) time.Duration {
	d := w.maxRetry
	if n-1 < 30 {
		d = min(w.firstRetry<<(n-1), w.maxRetry)
	}
	return d/2 + rand.N(d/2+1)
}

// post makes one attempt, cancelled when the webhook closes. It returns the receiver's
// status (0 when none came) and the wait it asked for with Retry-After.
func (w *webhook) post(al Alert) (int, time.Duration, error) {
	b, _ := json.Marshal(al)
	ctx, cancel := context.WithTimeout(w.ctx, webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(b))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		// A webhook URL often carries its secret (Slack, Teams): log the cause, not the URL.
		var ue *url.Error
		if errors.As(err, &ue) {
			return 0, 0, fmt.Errorf("%s webhook: %w", ue.Op, ue.Err)
		}
		return 0, 0, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) //nolint:errcheck // to reuse the connection
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, retryAfter(resp.Header.Get("Retry-After"), time.Now()), fmt.Errorf("webhook answered %d", resp.StatusCode)
	}
	return resp.StatusCode, 0, nil
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date (RFC 9110, 10.2.3).
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return time.Duration(min(n, 86400)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
