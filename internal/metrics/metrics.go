// Package metrics is fbs serve's /metrics in Prometheus's format: the
// queue and the workers as the store has them at each scrape, and the
// durations and lease expiries this server saw.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"fbs/internal/store"
)

// Metrics holds the server's metrics.
type Metrics struct {
	reg      *prometheus.Registry
	duration *prometheus.HistogramVec
	stage    *prometheus.HistogramVec
	expiries prometheus.Counter
}

// Builds take seconds (a demo) to hours (a DVD over a slow mirror).
var buckets = prometheus.ExponentialBuckets(1, 2, 15)

// New makes the metrics over st; a worker silent for longer than lost
// counts as lost.
func New(st store.Store, lost time.Duration, log *slog.Logger) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "fbs_build_duration_seconds", Help: "Time from a build's start to its end, by type and final state.", Buckets: buckets,
		}, []string{"type", "state"}),
		stage: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "fbs_build_stage_duration_seconds", Help: "Time a build stage took, by build type and stage.", Buckets: buckets,
		}, []string{"type", "stage"}),
		expiries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fbs_lease_expiries_total", Help: "Builds whose worker went silent past its lease.",
		}),
	}
	m.reg.MustRegister(m.duration, m.stage, m.expiries, &storeCollector{st: st, lost: lost, log: log},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Finished records a build's end and its stage times.
func (m *Metrics) Finished(typ string, state store.State, took time.Duration, stages map[string]float64) {
	m.duration.WithLabelValues(typ, string(state)).Observe(took.Seconds())
	for name, secs := range stages {
		m.stage.WithLabelValues(typ, name).Observe(secs)
	}
}

// Expired counts builds whose lease lapsed.
func (m *Metrics) Expired(n int) { m.expiries.Add(float64(n)) }

var (
	queueDesc   = prometheus.NewDesc("fbs_queue_depth", "Builds waiting for a worker.", []string{"type", "arch", "release"}, nil)
	buildsDesc  = prometheus.NewDesc("fbs_builds", "Builds in the store by state.", []string{"state"}, nil)
	workersDesc = prometheus.NewDesc("fbs_workers", "Workers by state.", []string{"state"}, nil)
)

// storeCollector reads the store at each scrape, so every server on one
// database reports the same queue.
type storeCollector struct {
	st   store.Store
	lost time.Duration
	log  *slog.Logger
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueDesc
	ch <- buildsDesc
	ch <- workersDesc
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.st.Counts(ctx)
	if err != nil {
		c.log.Warn("metrics: counting builds", "err", err)
	}
	byState := map[store.State]int{}
	for _, s := range []store.State{store.Queued, store.Running, store.Succeeded, store.Failed, store.Cancelled} {
		byState[s] = 0
	}
	for _, n := range counts {
		byState[n.State] += n.N
		if n.State == store.Queued {
			ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(n.N), n.Type, n.Arch, n.Release)
		}
	}
	for s, n := range byState {
		ch <- prometheus.MustNewConstMetric(buildsDesc, prometheus.GaugeValue, float64(n), string(s))
	}
	workers, err := c.st.Workers(ctx)
	if err != nil {
		c.log.Warn("metrics: listing workers", "err", err)
	}
	byWorker := map[string]int{"idle": 0, "busy": 0, "draining": 0, "lost": 0}
	now := time.Now()
	for _, w := range workers {
		byWorker[w.Status(now, c.lost)]++
	}
	for s, n := range byWorker {
		ch <- prometheus.MustNewConstMetric(workersDesc, prometheus.GaugeValue, float64(n), s)
	}
}
