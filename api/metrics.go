package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sandscan/sandscan/queue"
)

// metrics are the API's collectors. The workers register theirs
// (analyses by verdict, run durations, sandbox failures) in the same
// registry, so one /metrics shows both.
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	durations *prometheus.HistogramVec
	submitted *prometheus.CounterVec
	hooks     *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry, q queue.Queue) (*metrics, error) {
	m := &metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sandscan_api_requests_total",
			Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sandscan_api_request_duration_seconds",
			Help:    "HTTP request durations by route.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 9), // 1 ms .. 65 s: uploads are slow
		}, []string{"route"}),
		submitted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sandscan_api_submissions_total",
			Help: "Submissions by reason (api, webhook) and outcome (queued, existing, refused).",
		}, []string{"reason", "outcome"}),
		hooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sandscan_api_hook_events_total",
			Help: "Registry webhook events by hook and outcome (push, ignored, malformed).",
		}, []string{"hook", "outcome"}),
	}
	depth := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "sandscan_queue_depth",
		Help: "Jobs queued or running.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := q.Depth(ctx)
		if err != nil {
			return -1 // a scrape must not fail for a slow queue; -1 says unknown
		}
		return float64(n)
	})
	for _, c := range []prometheus.Collector{m.requests, m.durations, m.submitted, m.hooks, depth} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) observeRequest(route string, code int, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	m.durations.WithLabelValues(route).Observe(d.Seconds())
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) error {
	promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}).ServeHTTP(w, r)
	return nil
}
