package connector

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"

	"github.com/wabridge/b24wa/internal/dbtest"
)

func TestMetricsCountLinesByState(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		h := newHarness(t, db)
		reg := prometheus.NewRegistry()
		opts := h.options("a")
		opts.Registerer = reg
		m := h.managerWith(h.sim, opts)
		line := h.line("1")
		h.pair(m, line.ID, testPhone)

		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		byState := map[string]float64{}
		pairings := map[string]float64{}
		for _, f := range families {
			for _, metric := range f.GetMetric() {
				label := metric.GetLabel()[0].GetValue()
				switch f.GetName() {
				case "b24wa_whatsapp_lines":
					byState[label] = metric.GetGauge().GetValue()
				case "b24wa_whatsapp_pairings_total":
					pairings[label] = metric.GetCounter().GetValue()
				}
			}
		}
		if pairings["success"] != 1 {
			t.Errorf("pairings by result = %v, want one success", pairings)
		}
		if len(byState) != len(lineStates) {
			t.Errorf("gauge has %d states, want %d", len(byState), len(lineStates))
		}
		if byState[StateConnected] != 1 || byState[StatePairing] != 0 {
			t.Errorf("lines by state = %v, want one connected and none pairing", byState)
		}
	})
}
