package rollout

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/slo"
)

// TestOneFailingBackendDoesNotBlindTheOthers: each SLO keeps its own
// readings and its own count of failed readings in a row.
func TestOneFailingBackendDoesNotBlindTheOthers(t *testing.T) {
	good := &fakeProvider{events: steady(100, 0.0005)}
	down := &fakeProvider{events: steady(100, 0.0005), errAt: func(el time.Duration) error {
		if el >= 30*time.Second {
			return errors.New("connection refused")
		}
		return nil
	}}
	good.start, down.start = t0, t0
	eu := eventsSLO()
	eu.Name, eu.Provider = "availability-eu", "down"
	for _, onError := range []string{slo.PolicyInconclusive, slo.PolicyPass, slo.PolicyFail} {
		t.Run("on_error "+onError, func(t *testing.T) {
			pol := policy(true)
			pol.OnError = onError
			var logs bytes.Buffer
			w := &Watch{SLOs: []slo.SLO{eventsSLO(), eu}, Providers: map[string]providers.Provider{"fake": good, "down": down}, Policy: pol,
				Clock: &fakeClock{now: t0}, Log: slog.New(slog.NewTextHandler(&logs, nil))}
			d, err := w.Run(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			byName := map[string]report.CanarySLO{}
			for _, s := range d.Canary.SLOs {
				byName[s.Name] = s
			}
			wantTicks, wantDecision := 60, onError
			if onError == slo.PolicyFail {
				wantTicks = 6 // 2 good readings, then 4 failed: fail ends the watch
			}
			if got := len(d.Canary.Timeline); got != wantTicks {
				t.Errorf("%d intervals, want %d", got, wantTicks)
			}
			if d.Decision != wantDecision {
				t.Errorf("decision %s (%s), want %s", d.Decision, d.Reason, wantDecision)
			}
			if s := byName["availability-eu"]; s.Decision != onError || !strings.Contains(s.Reason, "4 intervals in a row without readings") {
				t.Errorf("failing SLO: %s, %q", s.Decision, s.Reason)
			}
			ok := byName["availability"]
			if onError != slo.PolicyFail && (ok.Decision != report.Pass || ok.Canary.Total != 100*600) {
				t.Errorf("healthy SLO: %s (%s) with %v canary requests, want pass after all 60,000", ok.Decision, ok.Reason, ok.Canary)
			}
			// every tick after the backend died has the healthy SLO's reading
			// and the failing SLO's error, until its limit
			tk := d.Canary.Timeline[3]
			if tk.SLOs["availability"].CanaryTotal == 0 || tk.SLOs["availability-eu"].Error == "" || !strings.Contains(tk.Error, `slo "availability-eu"`) {
				t.Errorf("tick 4: %+v", tk)
			}
			if strings.Count(logs.String(), "cannot read the canary's SLI") != 4 {
				t.Errorf("want 4 warnings, one per failed reading:\n%s", logs.String())
			}
		})
	}
}
