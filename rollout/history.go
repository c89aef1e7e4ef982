package rollout

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/rollout/sequential"
	"github.com/sloguard/sloguard/slo"
)

// How much history the watch reads before it starts, to estimate how
// bursty each SLO's errors are: historySlices slices of max(interval,
// historyStep) each, ending at --since. Slices shorter than a few scrape
// intervals would be mostly Prometheus's extrapolation, which inflates the
// estimate.
const (
	historySlices = 60
	historyStep   = 2 * time.Minute
)

// dispersion is what the watch assumes about one SLO's error bursts, and
// where that came from (for the record and the reason).
type dispersion struct {
	value    float64
	source   string
	fromData bool // estimated from history, not the default
}

// readHistory starts reading, for every events SLO, the reference series
// (the baseline, else the whole service) before since, and returns a
// function that waits for the results. A failed or empty read is not an
// error: the SLO falls back to sequential.DefaultDispersion, with a warning.
func (w *Watch) readHistory(ctx context.Context, since time.Time, log *slog.Logger) func() map[string]dispersion {
	step := max(w.Policy.Interval, historyStep)
	r := providers.Range{Start: since.Add(-historySlices * step), End: since, Step: step}
	scope := providers.Scope{Name: providers.ScopeService}
	if w.Policy.Baseline != nil {
		scope = baselineScope(w.Policy)
	}
	out := map[string]dispersion{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, s := range w.SLOs {
		if s.SLI.Kind() != slo.KindEvents {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := w.historyDispersion(ctx, s, scope, r, log)
			mu.Lock()
			out[s.Name] = d
			mu.Unlock()
		}()
	}
	return func() map[string]dispersion {
		wg.Wait()
		return out
	}
}

func (w *Watch) historyDispersion(ctx context.Context, s slo.SLO, scope providers.Scope, r providers.Range, log *slog.Logger) dispersion {
	what := fmt.Sprintf("the %s's last %s", scope.Name, slo.FormatDuration(r.End.Sub(r.Start)))
	fallback := func(why string, args ...any) dispersion {
		reason := fmt.Sprintf(why, args...)
		log.Warn("cannot estimate how bursty the errors are from history: assuming very bursty errors (dispersion 10) until the baseline shows otherwise, slower to decide",
			"slo", s.Name, "history", what, "reason", reason)
		return dispersion{value: sequential.DefaultDispersion, source: "default: " + reason}
	}
	p, ok := w.Providers[s.Provider]
	if !ok {
		return fallback("no provider %q", s.Provider)
	}
	slices, err := p.Slices(ctx, providers.Query{SLO: s.Name, SLI: s.SLI, Scope: scope, Window: r.Step}, r)
	if err != nil {
		return fallback("%v", err)
	}
	var c sequential.Contrasts
	for _, sl := range slices {
		c.Add(sl.Bad(), sl.Total)
	}
	est := c.Estimate()
	if !est.OK {
		return fallback("too little history: %d slices with traffic", c.Slices())
	}
	if est.SetAside > 0 {
		what += fmt.Sprintf(", without %d of %d slice pairs where the error ratio changed level", est.SetAside, est.Pairs)
	}
	return dispersion{value: est.Value, source: what, fromData: true}
}
