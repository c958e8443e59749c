package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestMetrics: /metrics parses as Prometheus text and carries the series an operator
// needs, with route templates rather than raw ids as labels, and on-demand userlists
// summed under "other".
func TestMetrics(t *testing.T) {
	e := newEnv(t, time.Minute)
	conn := e.dial(lobby, "")
	defer conn.Close()
	readMessage(t, conn, 5*time.Second)
	const onDemand = "00000000-0000-4000-8000-000000000000"
	e.fake.SetPublications(onDemand, []map[string]any{{"id": "o", "title": "On demand"}})
	e.get("/api/feed.json")
	e.get("/screens/" + canteen)
	e.get("/screens/not-a-uuid")
	e.get("/api/feed.json?userlist=" + onDemand)
	resp, body := e.get("/metrics")
	if resp.StatusCode != 200 {
		t.Fatalf("metrics: %d", resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("the text format does not parse: %v", err)
	}
	for _, name := range []string{
		"signage_upstream_requests_total", "signage_upstream_request_seconds", "signage_token_renewals_total",
		"signage_token_failures_total", "signage_token_expiry_seconds", "signage_userlist_items", "signage_userlist_stale_seconds",
		"signage_screens_connected", "signage_broadcasts_total", "signage_screens_dropped_total", "signage_http_requests_total",
		"signage_publications_skipped_total", "signage_screen_connects_total", "signage_screens_flooding_total",
	} {
		if families[name] == nil {
			t.Errorf("no %s", name)
		}
	}

	// value finds the sample of a family with the given labels (name=value pairs).
	value := func(family string, labels ...string) (float64, bool) {
	metrics:
		for _, m := range families[family].GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, l := range m.GetLabel() {
					found = found || (l.GetName() == labels[i] && l.GetValue() == labels[i+1])
				}
				if !found {
					continue metrics
				}
			}
			switch {
			case m.Counter != nil:
				return m.GetCounter().GetValue(), true
			case m.Gauge != nil:
				return m.GetGauge().GetValue(), true
			case m.Histogram != nil:
				return float64(m.GetHistogram().GetSampleCount()), true
			}
		}
		return 0, false
	}
	// Three fetches: the two configured userlists, and the on-demand one the fake does
	// not know (not_found).
	if n, _ := value("signage_upstream_requests_total", "outcome", "ok"); n < 2 {
		t.Errorf("upstream ok = %v, want the two configured userlists at least", n)
	}
	if n, _ := value("signage_upstream_request_seconds"); n < 3 {
		t.Errorf("upstream latency observations = %v, want 3", n)
	}
	if n, _ := value("signage_token_renewals_total"); n < 1 {
		t.Errorf("token renewals = %v", n)
	}
	if n, _ := value("signage_userlist_items", "userlist", lobby); n != 2 {
		t.Errorf("items of the lobby = %v, want 2", n)
	}
	if n, _ := value("signage_screens_connected", "userlist", lobby); n != 1 {
		t.Errorf("screens connected to the lobby = %v, want 1", n)
	}
	if _, ok := value("signage_userlist_stale_seconds", "userlist", "other"); !ok {
		t.Errorf("the on-demand userlist is not summed under \"other\"")
	}
	for _, want := range []struct {
		labels []string
		n      float64
	}{
		{[]string{"route", "/screens/:id", "status", "200"}, 1},
		{[]string{"route", "/screens/:id", "status", "404"}, 1},
		{[]string{"route", "/api/feed.json", "status", "200"}, 2},
	} {
		if n, _ := value("signage_http_requests_total", want.labels...); n != want.n {
			t.Errorf("http requests %v = %v, want %v", want.labels, n, want.n)
		}
	}
	for _, m := range families["signage_http_requests_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "route" && (strings.Contains(l.GetValue(), "not-a-uuid") || strings.Contains(l.GetValue(), lobby)) {
				t.Errorf("a raw path as a label: %q", l.GetValue())
			}
		}
	}
	if strings.Contains(body, onDemand) {
		t.Errorf("an on-demand userlist id became a label")
	}
	if strings.Contains(body, e.cfg.Spencer.ClientSecret) {
		t.Errorf("the client secret appears in the metrics")
	}
}
