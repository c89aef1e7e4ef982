package rollout

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/slo"
)

// TestTheHistorySetsTheDispersion: the watch reads the baseline's hours
// before --since to learn how bursty the errors are, and falls back to a
// conservative default with a warning when it cannot.
func TestTheHistorySetsTheDispersion(t *testing.T) {
	bursty := func(r providers.Range) ([]providers.Counts, error) {
		n := int(r.End.Sub(r.Start) / r.Step)
		out := make([]providers.Counts, n)
		for i := range out {
			bad := 0.0
			if i%6 == 0 {
				bad = 60 // all the errors in a few slices
			}
			out[i] = providers.Counts{Good: 10000 - bad, Total: 10000, Start: r.End.Add(-time.Duration(n-i) * r.Step)}
		}
		return out, nil
	}
	tests := map[string]struct {
		history       func(providers.Range) ([]providers.Counts, error)
		min, max      float64
		source, warns string
	}{
		"steady history is Poisson":    {min: 1, max: 1, source: "the baseline's last 2h"},
		"bursty history is dispersed":  {history: bursty, min: 40, max: 80, source: "the baseline's last 2h"},
		"no history falls back to ten": {history: func(providers.Range) ([]providers.Counts, error) { return nil, errors.New("slices not supported") }, min: 10, max: 10, source: "default: slices not supported", warns: "cannot estimate how bursty"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var logs bytes.Buffer
			var asked []providers.Range
			var mu sync.Mutex
			fp := &fakeProvider{events: steady(100, 0.0005), start: t0, history: func(r providers.Range) ([]providers.Counts, error) {
				mu.Lock()
				asked = append(asked, r)
				mu.Unlock()
				if tc.history == nil {
					return (&fakeProvider{}).Slices(context.Background(), providers.Query{}, r)
				}
				return tc.history(r)
			}}
			w := &Watch{SLOs: []slo.SLO{eventsSLO()}, Providers: map[string]providers.Provider{"fake": fp}, Policy: policy(true),
				Clock: &fakeClock{now: t0}, Log: slog.New(slog.NewTextHandler(&logs, nil))}
			d, err := w.Run(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			want := providers.Range{Start: t0.Add(-2 * time.Hour), End: t0, Step: 2 * time.Minute}
			if len(asked) != 1 || asked[0] != want {
				t.Errorf("history asked %v, want once %v", asked, want)
			}
			disp := d.Canary.SLOs[0].Dispersion
			if disp == nil || disp.FromHistory < tc.min || disp.FromHistory > tc.max || disp.Source != tc.source {
				t.Fatalf("dispersion %+v, want %g–%g from %q", disp, tc.min, tc.max, tc.source)
			}
			if got := strings.Contains(logs.String(), "cannot estimate how bursty"); got != (tc.warns != "") {
				t.Errorf("warning logged: %v, want %v:\n%s", got, tc.warns != "", logs.String())
			}
		})
	}
}
