package gateway

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the gateway's Prometheus series.
type Metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewMetrics registers the gateway series with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "dialtone", Name: "api_requests_total",
			Help: "POP API requests by product, action and result code.",
		}, []string{"product", "action", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "dialtone", Name: "api_request_duration_seconds",
			Help:    "POP API request latency by product and action.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"product", "action"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

func (m *Metrics) observe(product, action, code string, d time.Duration) {
	m.requests.WithLabelValues(product, action, code).Inc()
	m.latency.WithLabelValues(product, action).Observe(d.Seconds())
}
