package server

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/spencer-signage/signage/server/media"
	"github.com/spencer-signage/signage/server/news"
	"github.com/spencer-signage/signage/server/screens"
	"github.com/spencer-signage/signage/spencerclient"
)

// metrics holds the server's Prometheus series in a registry of its own (no global state).
type metrics struct {
	reg *prometheus.Registry

	upstreamRequests *prometheus.CounterVec
	upstreamLatency  prometheus.Histogram
	httpRequests     *prometheus.CounterVec
	routes           map[string]bool // registered route templates; anything else is "unmatched"
	requestCounters  sync.Map        // routeStatus -> prometheus.Counter, so counting allocates nothing
}

type routeStatus struct {
	route  string
	status int
}

// metricSources are what the metrics read at scrape time.
type metricSources struct {
	hub     *screens.Hub
	news    userlists
	token   func() spencerclient.TokenStatus // nil when unknown
	skipped func() int64                     // nil when unknown
	cluster cluster                          // nil unless clustered
	media   *media.Library                   // nil with media.proxy = false
}

// userlists is what the metrics and the status page need of the news.
type userlists interface {
	Userlists() []*news.Userlist
}

func newMetrics(src metricSources) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		upstreamRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signage_upstream_requests_total",
			Help: "Publications requests to Spencer by outcome.",
		}, []string{"outcome"}),
		upstreamLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "signage_upstream_request_seconds",
			Help:    "Time a publications fetch took, token renewal and retry included.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
		}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signage_http_requests_total",
			Help: "HTTP requests by route template and status.",
		}, []string{"route", "status"}),
	}
	hub := src.hub
	m.reg.MustRegister(m.upstreamRequests, m.upstreamLatency, m.httpRequests,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&stateCollector{news: src.news, hub: hub},
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "signage_broadcasts_total", Help: "Deck and status changes fanned out to the screens of a userlist."},
			func() float64 { return float64(hub.Broadcasts()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "signage_screens_dropped_total", Help: "Screens dropped because a write to them stalled or failed."},
			func() float64 { return float64(hub.Dropped()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "signage_screen_connects_total", Help: "WebSocket connections of screens."},
			func() float64 { return float64(hub.Connects()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "signage_screens_flooding_total", Help: "Screens closed (1008) for sending far more messages than a page does."},
			func() float64 { return float64(hub.TooFast()) }),
	)
	if ts := src.token; ts != nil {
		m.reg.MustRegister(
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "signage_token_renewals_total", Help: "Access tokens obtained."},
				func() float64 { return float64(ts().Renewals) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "signage_token_failures_total", Help: "Failed token requests."},
				func() float64 { return float64(ts().Failures) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "signage_token_expiry_seconds", Help: "Seconds until the access token expires."},
				func() float64 {
					if exp := ts().ExpiresAt; !exp.IsZero() {
						return time.Until(exp).Seconds()
					}
					return 0
				}),
		)
	}
	if cl := src.cluster; cl != nil {
		m.reg.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "signage_cluster_leader", Help: "1 while this instance is the cluster's leader (the one that polls Spencer)."},
				func() float64 { return boolGauge(cl.Leader()) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "signage_redis_up", Help: "1 while Redis answers."},
				func() float64 { return boolGauge(cl.Healthy()) }),
		)
	}
	if src.media != nil {
		m.reg.MustRegister(mediaCollector{lib: src.media})
	}
	if sk := src.skipped; sk != nil {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "signage_publications_skipped_total",
			Help: "Publications skipped for having neither title nor body.",
		}, func() float64 { return float64(sk()) }))
	}
	return m
}

// observeAlerts adds the series of the alert webhook: alerts sent, and dropped by reason
// (refused: a 4xx the receiver will answer again; expired: it failed for too long;
// overflow: too many were waiting).
func (m *metrics) observeAlerts(w *webhook) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "signage_alerts_sent_total", Help: "Alerts the webhook took."},
		func() float64 { return float64(w.sent.Load()) }))
	for reason, n := range map[string]*atomic.Int64{"refused": &w.refused, "expired": &w.expired, "overflow": &w.overflowed} {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "signage_alerts_dropped_total",
			Help:        "Alerts given up: refused by the webhook (4xx), failed for too long, or too many waiting.",
			ConstLabels: prometheus.Labels{"reason": reason},
		}, func() float64 { return float64(n.Load()) }))
	}
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// stateCollector reads the per-userlist state at scrape time, so the poller and hub need
// no bookkeeping for it. Only configured userlists are labels of their own; on-demand
// ones are summed under "other", so a stranger cannot grow the series.
type stateCollector struct {
	news userlists
	hub  *screens.Hub
}

var (
	descItems   = prometheus.NewDesc("signage_userlist_items", "Items shown per userlist.", []string{"userlist"}, nil)
	descStale   = prometheus.NewDesc("signage_userlist_stale_seconds", "Seconds since upstream started failing for a userlist (0 when fresh).", []string{"userlist"}, nil)
	descScreens = prometheus.NewDesc("signage_screens_connected", "Screens connected per userlist.", []string{"userlist"}, nil)
	descActive  = prometheus.NewDesc("signage_userlists_active", "Userlists being polled.", nil, nil)
)

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descItems
	ch <- descStale
	ch <- descScreens
	ch <- descActive
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	items, stale, screens := map[string]float64{}, map[string]float64{}, map[string]float64{}
	for _, ul := range c.news.Userlists() {
		label := "other"
		if ul.Configured {
			label = ul.ID
		}
		if ct := ul.Content(); ct != nil {
			items[label] += float64(len(ct.Items))
		}
		if since := ul.Status().StaleSince; !since.IsZero() {
			stale[label] = max(stale[label], time.Since(since).Seconds())
		} else if _, ok := stale[label]; !ok {
			stale[label] = 0
		}
		screens[label] += float64(c.hub.Screens(ul.ID))
	}
	for l, v := range items {
		ch <- prometheus.MustNewConstMetric(descItems, prometheus.GaugeValue, v, l)
	}
	for l, v := range stale {
		ch <- prometheus.MustNewConstMetric(descStale, prometheus.GaugeValue, v, l)
	}
	for l, v := range screens {
		ch <- prometheus.MustNewConstMetric(descScreens, prometheus.GaugeValue, v, l)
	}
	ch <- prometheus.MustNewConstMetric(descActive, prometheus.GaugeValue, float64(len(c.news.Userlists())))
}

// observeFetch counts a fetch by outcome and times it.
func (m *metrics) observeFetch(err error, took time.Duration) {
	m.upstreamLatency.Observe(took.Seconds())
	m.upstreamRequests.WithLabelValues(outcome(err)).Inc()
}

// outcome names an upstream result for a metric label.
func outcome(err error) string {
	var (
		te *spencerclient.TokenError
		se *spencerclient.StatusError
		ue *spencerclient.UnauthorizedError
		de *spencerclient.DecodeError
		tl *spencerclient.TooLargeError
	)
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, spencerclient.ErrNotFound):
		return "not_found"
	case errors.As(err, &te):
		return "token_error"
	case errors.As(err, &ue):
		return "unauthorized"
	case errors.As(err, &se):
		return "status"
	case errors.As(err, &de):
		return "decode"
	case errors.As(err, &tl):
		return "too_large"
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return "timeout"
	}
	return "error"
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// count counts a request by route template (never the raw path: ids would make a series
// each) and the status sent.
func (m *metrics) count(route string, status int) {
	if !m.routes[route] {
		route = "unmatched"
	}
	key := routeStatus{route, status}
	ctr, ok := m.requestCounters.Load(key)
	if !ok {
		ctr, _ = m.requestCounters.LoadOrStore(key, m.httpRequests.WithLabelValues(route, strconv.Itoa(status)))
	}
	ctr.(prometheus.Counter).Inc()
}
