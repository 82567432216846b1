package connector

import "github.com/prometheus/client_golang/prometheus"

// lineStates lists every state the lines gauge reports, zeros included, so
// dashboards see a series per state from the first scrape.
var lineStates = []string{
	StateNew, StatePairing, StateConnecting, StateConnected, StateReconnecting, StateLoggedOut,
	StateStreamReplaced, StateTemporaryBan, StateClientOutdated, StateSuspended, StateNeedsScan,
	StateDisconnected,
}

// managerMetrics are the session manager's Prometheus metrics. A nil
// registerer leaves them unregistered and the counters unused.
type managerMetrics struct {
	lines    *prometheus.Desc
	pairings *prometheus.CounterVec
	logouts  *prometheus.CounterVec
	m        *Manager
}

func newManagerMetrics(m *Manager, reg prometheus.Registerer) *managerMetrics {
	mm := &managerMetrics{
		m: m,
		lines: prometheus.NewDesc("b24wa_whatsapp_lines",
			"Lines whose WhatsApp session this instance owns, by device state.", []string{"state"}, nil),
		pairings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "b24wa_whatsapp_pairings_total",
			Help: "Pairing attempts that ended, by result: success, failed or expired.",
		}, []string{"result"}),
		logouts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "b24wa_whatsapp_logouts_total",
			Help: "Devices logged out, by reason.",
		}, []string{"reason"}),
	}
	if reg != nil {
		reg.MustRegister(mm, mm.pairings, mm.logouts)
	}
	return mm
}

func (mm *managerMetrics) pairing(result string) {
	mm.pairings.WithLabelValues(result).Inc()
}

// logout counts a logout. Reasons the manager does not define are counted
// as "other", so callers cannot grow the label set without bound.
func (mm *managerMetrics) logout(reason string) {
	switch reason {
	case ReasonPayment, ReasonPhone, ReasonRelinked, ReasonUninstalled, ReasonLineDeleted, ReasonKeysMissing, "user":
	default:
		reason = "other"
	}
	mm.logouts.WithLabelValues(reason).Inc()
}

// Describe implements prometheus.Collector for the lines gauge.
func (mm *managerMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- mm.lines
}

// Collect counts the owned lines by the state this instance last recorded.
func (mm *managerMetrics) Collect(ch chan<- prometheus.Metric) {
	counts := make(map[string]int, len(lineStates))
	for _, s := range lineStates {
		counts[s] = 0
	}
	mm.m.mu.Lock()
	for id := range mm.m.owned {
		if rt := mm.m.runtimes[id]; rt != nil && rt.state != "" {
			counts[rt.state]++
		}
	}
	mm.m.mu.Unlock()

	for state, n := range counts {
		ch <- prometheus.MustNewConstMetric(mm.lines, prometheus.GaugeValue, float64(n), state)
	}
}
