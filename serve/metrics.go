package serve

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's own, on a registry of its own (no global
// state): every name starts with sloguard_.
type metrics struct {
	reg            *prometheus.Registry
	decisions      *prometheus.CounterVec
	duration       *prometheus.HistogramVec
	pending        prometheus.Gauge
	verifyFailures *prometheus.CounterVec
	refused        *prometheus.CounterVec
	callbacks      *prometheus.CounterVec
	admitted       *prometheus.CounterVec
	requests       *prometheus.HistogramVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sloguard_decisions_total",
			Help: "Evaluations decided, by platform and decision (pass, fail, inconclusive).",
		}, []string{"platform", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sloguard_evaluation_duration_seconds",
			Help:    "Time from a deployment's arrival to its decision, by platform and policy (a watch lasts its canary window).",
			Buckets: prometheus.ExponentialBuckets(0.05, 2.5, 12), // 50 ms to 20 min
		}, []string{"platform", "policy"}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sloguard_pending_evaluations",
			Help: "Evaluations admitted whose platform has not had its answer yet.",
		}),
		verifyFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sloguard_webhook_verification_failures_total",
			Help: "Requests refused with 401: a GitHub webhook with a missing or wrong X-Hub-Signature-256, an Azure DevOps check with wrong credentials.",
		}, []string{"platform", "reason"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sloguard_requests_refused_total",
			Help: "Authenticated requests refused: an Azure organisation not allowed, a callback URL off the GitHub API, a malformed request, too many pending.",
		}, []string{"platform", "reason"}),
		callbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sloguard_callbacks_total",
			Help: "Answers sent to the platform (GitHub reviews, Azure TaskCompleted events), by result: ok, or error after the retries.",
		}, []string{"platform", "result"}),
		admitted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sloguard_requests_admitted_total",
			Help: "Deployments admitted for evaluation, by platform; duplicate counts redeliveries answered from the state file.",
		}, []string{"platform", "duplicate"}),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sloguard_http_request_duration_seconds",
			Help:    "Time to answer a request, by route and status: the acknowledgement GitHub (10 s) and Azure DevOps (3 s) wait for.",
			Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
		}, []string{"route", "code"}),
	}
	m.reg.MustRegister(m.decisions, m.duration, m.pending, m.verifyFailures, m.refused, m.callbacks, m.admitted, m.requests,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// instrument times every request by its route pattern.
func (m *metrics) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(sw, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(route, strconv.Itoa(sw.code)).Observe(time.Since(start).Seconds())
	})
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}
