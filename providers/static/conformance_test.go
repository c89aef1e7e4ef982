package static

import (
	"math"
	"testing"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/providers/conformance"
	"github.com/sloguard/sloguard/slo"
)

// TestConformance records each scripted reply as the static value of the
// suite's SLO over its window: the static provider does no I/O, so the
// transport cases do not apply.
func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.Backend{
		Name: "static",
		SLI:  slo.SLI{}, // static SLOs need no queries
		Start: func(t *testing.T, s conformance.Setup) (providers.Provider, error) {
			values := map[string]Series{"another-slo": {}}
			if len(s.Replies) > 0 {
				r := s.Replies[0]
				var v Value
				switch r.Kind {
				case conformance.Values:
					total, bad := r.Total, r.Bad
					if r.NoBad {
						bad = 0
					}
					v = Value{Total: &total, Bad: &bad}
				case conformance.NaN:
					nan, zero := math.NaN(), 0.0
					v = Value{Total: &nan, Bad: &zero}
				}
				if r.Kind != conformance.Empty {
					values[s.SLO] = Series{providers.ScopeService: {slo.FormatDuration(s.Window): v}}
				}
			}
			return New(Config{Name: "static", Values: values}, t.TempDir())
		},
	})
}
