package outbound

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the outbound client's Prometheus series. They are labelled
// by purpose, not by account (the number of accounts is unbounded);
// accounts are named in the logs. A nil *Metrics records nothing.
//
//	dialtone_outbound_requests_total{purpose,outcome}       outcome: 2xx…5xx, refused, busy, timeout, too_large, canceled, not_resolved, error
//	dialtone_outbound_request_duration_seconds{purpose}
//	dialtone_outbound_refused_total{purpose,rule}
//	dialtone_outbound_in_flight{purpose}
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	refused  *prometheus.CounterVec
	inFlight *prometheus.GaugeVec
}

// NewMetrics registers the outbound series with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "dialtone", Subsystem: "outbound", Name: "requests_total",
			Help: "Requests sent on an account's behalf, by purpose and outcome.",
		}, []string{"purpose", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "dialtone", Subsystem: "outbound", Name: "request_duration_seconds",
			Help:    "Time from a request's start to the end of its answer, by purpose.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"purpose"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "dialtone", Subsystem: "outbound", Name: "refused_total",
			Help: "Requests refused by the egress policy, by purpose and rule.",
		}, []string{"purpose", "rule"}),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "dialtone", Subsystem: "outbound", Name: "in_flight",
			Help: "Requests in flight, by purpose.",
		}, []string{"purpose"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.refused, m.inFlight} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Metrics) observe(p Purpose, outcome string, d time.Duration, err error) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(string(p), outcome).Inc()
	m.duration.WithLabelValues(string(p)).Observe(d.Seconds())
	var rerr *RefusedError
	if errors.As(err, &rerr) {
		m.refused.WithLabelValues(string(p), string(rerr.Rule)).Inc()
	}
}

func (m *Metrics) started(p Purpose) {
	if m != nil {
		m.inFlight.WithLabelValues(string(p)).Inc()
	}
}

func (m *Metrics) ended(p Purpose) {
	if m != nil {
		m.inFlight.WithLabelValues(string(p)).Dec()
	}
}
