// Package metrics holds certd's Prometheus metrics. They are registered
// on a registry the caller passes in (no global state), and every method
// is safe on a nil *Metrics, which records nothing.
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are certd's instruments.
type Metrics struct {
	requests      *prometheus.CounterVec
	issuance      prometheus.Histogram
	issued        *prometheus.CounterVec
	lintRefusals  prometheus.Counter
	validations   *prometheus.CounterVec
	ordersCreated *prometheus.CounterVec
}

// New registers certd's metrics on reg, labelled with the node's
// identity.
func New(reg prometheus.Registerer, node string) *Metrics {
	reg = prometheus.WrapRegistererWith(prometheus.Labels{"node": node}, reg)
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "certd_http_requests_total", Help: "API requests by endpoint, method and status.",
		}, []string{"endpoint", "method", "status"}),
		issuance: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "certd_issuance_seconds", Help: "Time to issue one certificate: build, lint, record, sign, store.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		issued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "certd_certificates_issued_total", Help: "Certificates issued, by issuing CA.",
		}, []string{"issuer"}),
		lintRefusals: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "certd_lint_refusals_total", Help: "Certificates the CA refused to sign because they failed lints.",
		}),
		validations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "certd_validations_total", Help: "Domain validation checks, by method and outcome.",
		}, []string{"method", "outcome"}),
		ordersCreated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "certd_orders_created_total", Help: "Orders created, by product.",
		}, []string{"product"}),
	}
	reg.MustRegister(m.requests, m.issuance, m.issued, m.lintRefusals, m.validations, m.ordersCreated)
	return m
}

// Gauge registers a gauge whose value fn reads at each scrape (orders by
// state, queue depth).
func Gauge(reg prometheus.Registerer, node, name, help string, fn func() float64) {
	prometheus.WrapRegistererWith(prometheus.Labels{"node": node}, reg).MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, fn))
}

// Counter registers a counter read from fn at each scrape.
func Counter(reg prometheus.Registerer, node, name, help string, fn func() float64) {
	prometheus.WrapRegistererWith(prometheus.Labels{"node": node}, reg).MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, fn))
}

// Request counts one API request.
func (m *Metrics) Request(endpoint, method string, status int) {
	if m != nil {
		m.requests.WithLabelValues(endpoint, method, itoa(status)).Inc()
	}
}

// Issued records one issuance and how long it took.
func (m *Metrics) Issued(issuer string, d time.Duration) {
	if m != nil {
		m.issued.WithLabelValues(issuer).Inc()
		m.issuance.Observe(d.Seconds())
	}
}

// LintRefused counts a certificate refused by lints.
func (m *Metrics) LintRefused() {
	if m != nil {
		m.lintRefusals.Inc()
	}
}

// Validation counts one domain validation check.
func (m *Metrics) Validation(method, outcome string) {
	if m != nil {
		m.validations.WithLabelValues(method, outcome).Inc()
	}
}

// OrderCreated counts one order.
func (m *Metrics) OrderCreated(product string) {
	if m != nil {
		m.ordersCreated.WithLabelValues(product).Inc()
	}
}

func itoa(n int) string {
	const digits = "0123456789"
	if n >= 100 && n < 1000 {
		return string([]byte{digits[n/100], digits[n/10%10], digits[n%10]})
	}
	return "other"
}
