package portal

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// clientMetrics are the client's Prometheus counters. Method labels come from
// the app's own code, so their number stays small.
type clientMetrics struct {
	calls     *prometheus.CounterVec
	errors    *prometheus.CounterVec
	retries   *prometheus.CounterVec
	refreshes *prometheus.CounterVec
}

func newClientMetrics(reg prometheus.Registerer) *clientMetrics {
	m := &clientMetrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "b24_rest_requests_total",
			Help: "HTTP requests sent to Bitrix24 portals, retries included, by method.",
		}, []string{"method"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "b24_rest_errors_total",
			Help: "Failed Bitrix24 requests by method and error code (transport for network failures).",
		}, []string{"method", "code"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "b24_rest_retries_total",
			Help: "Bitrix24 requests retried by method and the error code that caused the retry.",
		}, []string{"method", "code"}),
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "b24_token_refreshes_total",
			Help: "Token refreshes by result: ok, unavailable, error or the OAuth error code.",
		}, []string{"result"}),
	}
	if reg == nil {
		return m
	}
	m.calls = register(reg, m.calls)
	m.errors = register(reg, m.errors)
	m.retries = register(reg, m.retries)
	m.refreshes = register(reg, m.refreshes)
	return m
}

// register registers c, or returns the collector registered before under the
// same name, so that several clients can share one registry.
func register(reg prometheus.Registerer, c *prometheus.CounterVec) *prometheus.CounterVec {
	err := reg.Register(c)
	var already prometheus.AlreadyRegisteredError
	if errors.As(err, &already) {
		if existing, ok := already.ExistingCollector.(*prometheus.CounterVec); ok {
			return existing
		}
	}
	return c
}
