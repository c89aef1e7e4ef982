package rollout

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sloguard/sloguard/internal/sim"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/slo"
)

// burstyHistory is a baseline of 10,000 requests per slice whose errors
// all come in every sixth slice, 60 to 64 at a time.
func burstyHistory(r providers.Range) ([]providers.Counts, error) {
	n := int(r.End.Sub(r.Start) / r.Step)
	out := make([]providers.Counts, n)
	for i := range out {
		bad := 0.0
		if i%6 == 0 {
			bad = 60 + float64(i%5)
		}
		out[i] = providers.Counts{Good: 10000 - bad, Total: 10000, Start: r.End.Add(-time.Duration(n-i) * r.Step)}
	}
	return out, nil
}

// TestTheHistorySetsTheDispersion: the watch reads the baseline's hours
// before --since to learn how bursty the errors are, and falls back to a
// conservative default with a warning when it cannot.
func TestTheHistorySetsTheDispersion(t *testing.T) {
	tests := map[string]struct {
		history       func(providers.Range) ([]providers.Counts, error)
		min, max      float64
		source, warns string
	}{
		"steady history is Poisson":    {min: 1, max: 1, source: "the baseline's last 2h"},
		"bursty history is dispersed":  {history: burstyHistory, min: 40, max: 80, source: "the baseline's last 2h"},
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

// incidentHistory is two hours of a baseline at 60 rps and 0.1 % errors
// (Poisson, seeded) in the slices asked, with both tracks at 8 % for 40 s,
// ten minutes before the end: what a watch started minutes after a short
// environment-wide incident reads.
func incidentHistory(r providers.Range) ([]providers.Counts, error) {
	n, step := int(r.End.Sub(r.Start)/r.Step), int(r.Step/time.Second)
	s := sim.NewStream(rand.New(rand.NewPCG(8, 40)), sim.Bursts{})
	bad, total := s.History(60, 0.001, n, step)
	s.AddIncident(bad, step, 60, 0.001, sim.Incident{From: n*step - 600, Length: 40, Ratio: 0.08})
	out := make([]providers.Counts, n)
	for i := range out {
		out[i] = providers.Counts{Good: total[i] - bad[i], Total: total[i], Start: r.Start.Add(time.Duration(i) * r.Step)}
	}
	return out, nil
}

// TestAShortIncidentBeforeTheWatchDoesNotDisableRollbacks: 40 s of 8 %
// errors on both tracks minutes before the watch made the estimate before
// this one assume bursts of ~490 errors, and a canary at 8 % (the SLO
// allows 1 %) ended inconclusive after ten minutes. The incident is a
// change of level, set aside: the canary is rolled back at the first
// interval, as with clean history.
func TestAShortIncidentBeforeTheWatchDoesNotDisableRollbacks(t *testing.T) {
	s := eventsSLO()
	s.Objective = 99
	for name, history := range map[string]func(providers.Range) ([]providers.Counts, error){
		"an incident 10 minutes before": incidentHistory,
		"clean history":                 nil,
	} {
		t.Run(name, func(t *testing.T) {
			fp := &fakeProvider{events: tracks(6.65, 0.08, 0.001), history: history}
			pol := policy(true)
			d := runWatch(t, s, pol, fp, &fakeClock{now: t0}, t.Context())
			disp := d.Canary.SLOs[0].Dispersion
			if d.Decision != report.Fail || d.Canary.DecidedAt == nil || !d.Canary.DecidedAt.Equal(t0.Add(10*time.Second)) {
				t.Fatalf("%s at %v (dispersion %+v): %s; want a rollback after the first 10 s", d.Decision, d.Canary.DecidedAt, disp, d.Reason)
			}
			if disp == nil || disp.Assumed > 1.5 {
				t.Errorf("dispersion %+v, want about 1 (Poisson errors)", disp)
			}
			if history != nil && !strings.Contains(disp.Source, "slice pairs where the error ratio changed level") {
				t.Errorf("source %q does not say the incident was left out", disp.Source)
			}
		})
	}
}

// TestAReasonSaysWhenAssumedBurstsHeldARollbackBack: a canary at 8 % (the
// SLO allows 1 %) that would be rolled back were its errors independent,
// behind a baseline whose history really comes in bursts of ~30 errors,
// ends inconclusive, and the reason says why: not only "too few
// requests", but the bursts assumed and where they were measured.
func TestAReasonSaysWhenAssumedBurstsHeldARollbackBack(t *testing.T) {
	s := eventsSLO()
	s.Objective = 99
	const bursts = ", but errors are assumed to arrive in bursts of ~32 (dispersion 62.5, from the baseline's last 2h), " +
		"and 300 canary requests cannot tell that from the bursts of a healthy canary: watch longer or send more traffic"
	for name, tc := range map[string]struct {
		baseRatio float64
		want      string
	}{
		"the canary alone": {0.001, "canary error ratio 8.000% (24 of 300 requests) is 8.0× the 1.000% the SLO allows (the baseline's: 0.100%)"},
		"the baseline as high": {0.07, "canary error ratio 8.000% (24 of 300 requests) is 8.0× the 1.000% the SLO allows " +
			"(the baseline's: 7.000%, about as high: the trouble may not be the canary's)"},
	} {
		t.Run(name, func(t *testing.T) {
			fp := &fakeProvider{events: tracks(0.5, 0.08, tc.baseRatio), history: burstyHistory}
			d := runWatch(t, s, policy(true), fp, &fakeClock{now: t0}, t.Context())
			want := "cannot tell yet: availability: " + tc.want + bursts
			if d.Decision != report.Inconclusive || d.Reason != want {
				t.Errorf("%s: %s\nwant inconclusive: %s", d.Decision, d.Reason, want)
			}
		})
	}
}

func TestDispersionsPrintWithoutExponents(t *testing.T) {
	for v, want := range map[float64]string{1.15: "1.15", 62.5: "62.5", 99.96: "100", 1150.4: "1150"} {
		if got := threeDigits(v); got != want {
			t.Errorf("threeDigits(%g) = %s, want %s", v, got, want)
		}
	}
}
