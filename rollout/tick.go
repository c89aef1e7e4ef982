package rollout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/slo"
)

// reading is one SLO's canary and baseline readings at a tick.
type reading struct {
	canary, base       providers.Counts
	canaryErr, baseErr error
}

// tick reads every SLO still watched for the canary (and baseline) at
// once and feeds each tracker its own readings: a backend that fails
// blinds only the SLOs it serves, and counts only against their
// consecutive_error_limit. A failed reading loses nothing: the next
// tick's cumulative counts include what it missed. A query that is itself
// wrong stops the watch (the error returned).
func (w *Watch) tick(ctx context.Context, ts []*tracker, since, at time.Time, log *slog.Logger) (report.Tick, error) {
	tk := report.Tick{At: at, SLOs: map[string]report.TickSLO{}}
	readings := make([]reading, len(ts))
	var wg sync.WaitGroup
	read := func(t *tracker, scope providers.Scope, out *providers.Counts, errOut *error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			window := at.Sub(since)
			if t.slo.SLI.Kind() == slo.KindThreshold {
				window = w.Policy.Interval // a threshold is judged on the latest interval
			}
			p, ok := w.Providers[t.slo.Provider]
			if !ok {
				*errOut = fmt.Errorf("no provider %q", t.slo.Provider)
				return
			}
			q := providers.Query{SLO: t.slo.Name, SLI: t.slo.SLI, Scope: scope, Window: window}
			*out, *errOut = p.Counts(ctx, q, at)
		}()
	}
	for i, t := range ts {
		if t.done() {
			continue
		}
		r := &readings[i]
		read(t, canaryScope(w.Policy), &r.canary, &r.canaryErr)
		if w.Policy.Baseline != nil {
			read(t, baselineScope(w.Policy), &r.base, &r.baseErr)
		}
	}
	wg.Wait()
	var failed []error
	for i, t := range ts {
		if t.done() {
			continue
		}
		r := readings[i]
		var errs []error
		for _, err := range []error{r.canaryErr, r.baseErr} {
			if errors.Is(err, providers.ErrBadQuery) {
				return tk, fmt.Errorf("slo %q: %w", t.slo.Name, err)
			}
			if err != nil && !errors.Is(err, providers.ErrNoData) && (len(errs) == 0 || errs[0].Error() != err.Error()) {
				errs = append(errs, err) // the same outage on both tracks is said once
			}
		}
		if err := errors.Join(errs...); err != nil {
			if ctx.Err() != nil {
				return tk, nil // interrupted: not the backend's fault
			}
			t.failed(err)
			failed = append(failed, fmt.Errorf("slo %q: %w", t.slo.Name, err))
			log.Warn("cannot read the canary's SLI", "slo", t.slo.Name, "error", err, "errors_in_a_row", t.errorsInRow)
			ts := t.tickSummary()
			ts.Error = err.Error()
			tk.SLOs[t.slo.Name] = ts
			continue
		}
		t.observe(r.canary, r.canaryErr == nil, r.base, r.baseErr == nil && w.Policy.Baseline != nil, at)
		tk.SLOs[t.slo.Name] = t.tickSummary()
	}
	tk.Error = errorText(failed)
	return tk, nil
}
