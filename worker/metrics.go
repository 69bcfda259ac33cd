package worker

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sandscan/sandscan/queue"
)

// Metric names, for dashboards and the API's tests.
const (
	MetricAnalyses        = "sandscan_analyses_total"
	MetricDuration        = "sandscan_analysis_duration_seconds"
	MetricSandboxFailures = "sandscan_sandbox_failures_total"
	MetricJobFailures     = "sandscan_job_failures_total"
	MetricRunning         = "sandscan_jobs_running"
)

// metrics are the workers' Prometheus collectors. Without a registry
// they are still counted, just never exported.
type metrics struct {
	analyses *prometheus.CounterVec   // by verdict and mode
	duration *prometheus.HistogramVec // by mode
	sandbox  prometheus.Counter
	failed   *prometheus.CounterVec // by kind: retry, permanent, lease_lost
	running  prometheus.Gauge
}

// durationBuckets span a reclassification (tens of milliseconds) to a
// detonation that hits a long time limit.
var durationBuckets = []float64{0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600}

func newMetrics(reg *prometheus.Registry) (*metrics, error) {
	m := &metrics{
		analyses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricAnalyses, Help: "Analyses finished, by verdict and mode (detonate, reclassify).",
		}, []string{"verdict", "mode"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: MetricDuration, Help: "Wall time of a job from dequeue to its stored verdict.", Buckets: durationBuckets,
		}, []string{"mode"}),
		sandbox: prometheus.NewCounter(prometheus.CounterOpts{
			Name: MetricSandboxFailures, Help: "Detonations the sandbox failed (not the image).",
		}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricJobFailures, Help: "Jobs that did not finish: retry, permanent or lease_lost.",
		}, []string{"kind"}),
		running: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: MetricRunning, Help: "Jobs being worked on.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	// Run may be called again with the same registry (a restarted
	// worker pool in one process): keep counting on the registered ones.
	var err error
	m.analyses = register(reg, m.analyses, &err)
	m.duration = register(reg, m.duration, &err)
	m.sandbox = register(reg, m.sandbox, &err)
	m.failed = register(reg, m.failed, &err)
	m.running = register(reg, m.running, &err)
	return m, err
}

func register[C prometheus.Collector](reg *prometheus.Registry, c C, errp *error) C {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	switch {
	case err == nil:
		return c
	case errors.As(err, &are):
		if prev, ok := are.ExistingCollector.(C); ok {
			return prev
		}
	}
	if *errp == nil {
		*errp = err
	}
	return c
}

func (m *metrics) observe(mode queue.Mode, verdict string, d time.Duration) {
	m.analyses.WithLabelValues(verdict, string(mode)).Inc()
	m.duration.WithLabelValues(string(mode)).Observe(d.Seconds())
}
