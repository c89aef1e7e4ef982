// Package rollout implements `watch` and `rollback`: the canary loop, its
// sequential statistics, and the actions that undo a bad release.
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

// Clock is time as the watch sees it, so that tests can run a ten-minute
// watch in milliseconds.
type Clock interface {
	Now() time.Time
	// Sleep waits until t or until ctx is done.
	Sleep(ctx context.Context, t time.Time) error
}

// RealClock is the wall clock.
type RealClock struct{}

// Now implements Clock.
func (RealClock) Now() time.Time { return time.Now() }

// Sleep implements Clock.
func (RealClock) Sleep(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// Watch is one canary watch.
type Watch struct {
	SLOs      []slo.SLO
	Providers map[string]providers.Provider
	Policy    slo.CanaryPolicy
	Since     time.Time // start of the event counts; zero: when the watch starts
	Clock     Clock
	Log       *slog.Logger
	// Progress, when set, is called after every interval with the state so
	// far (for the status line).
	Progress func(Status)
}

// Status is the state of a watch after an interval.
type Status struct {
	Elapsed, Remaining time.Duration
	SLOs               []report.CanarySLO
	Error              string
}

// Run watches until the canary breaches, the duration ends, errors pile
// up, or ctx is cancelled (then the decision is inconclusive, interrupted).
// It returns an error only for a query that is itself wrong.
func (w *Watch) Run(ctx context.Context) (*report.Decision, error) {
	clock := w.Clock
	if clock == nil {
		clock = RealClock{}
	}
	log := w.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pol := w.Policy
	start := clock.Now().UTC().Truncate(time.Second)
	since := w.Since
	if since.IsZero() {
		since = start
	}
	end := since.Add(pol.Duration)
	if !end.After(start) {
		end = start // started late: one evaluation decides
	}
	trackers := make([]*tracker, len(w.SLOs))
	ratioSLOs := 0
	for _, s := range w.SLOs {
		if s.SLI.Kind() == slo.KindEvents {
			ratioSLOs++
		}
	}
	for i, s := range w.SLOs {
		trackers[i] = newTracker(s, pol, ratioSLOs)
	}
	c := newCanaryRecord(pol, since)
	d := &report.Decision{Schema: report.Schema, Command: "watch", StartedAt: start, Canary: c}
	w.prime(ctx, start, log)

	errorsInRow := 0
	var at time.Time
	for tick := 1; ; tick++ {
		at = start.Add(time.Duration(tick) * pol.Interval)
		if at.After(end) {
			at = end
		}
		if err := clock.Sleep(ctx, at); err != nil {
			c.Interrupted = true
			break
		}
		tk, err := w.tick(ctx, trackers, since, at)
		if errors.Is(err, providers.ErrBadQuery) {
			return nil, err
		}
		tk.Elapsed = slo.FormatDuration(at.Sub(since))
		if err != nil {
			if ctx.Err() != nil {
				c.Interrupted = true
				break
			}
			errorsInRow++
			tk.Error = err.Error()
			log.Warn("cannot read the canary's SLIs", "error", err, "errors_in_a_row", errorsInRow)
		} else {
			errorsInRow = 0
		}
		c.Timeline = append(c.Timeline, tk)
		w.progress(trackers, at.Sub(since), end.Sub(at), tk.Error)
		if breached(trackers) || errorsInRow >= pol.ConsecutiveErrorLimit || !at.Before(end) {
			break
		}
	}
	d.EvaluatedAt = at
	c.Elapsed = slo.FormatDuration(at.Sub(since))
	decide(d, trackers, pol, errorsInRow)
	return d, nil
}

// primer is a backend that must see the counters at the start to count
// increases from there (the scrape backend).
type primer interface {
	Prime(ctx context.Context, at time.Time) error
}

func (w *Watch) prime(ctx context.Context, at time.Time, log *slog.Logger) {
	for name, p := range w.Providers {
		if pr, ok := p.(primer); ok {
			if err := pr.Prime(ctx, at); err != nil {
				log.Warn("cannot read the counters at the start of the watch", "provider", name, "error", err)
			}
		}
	}
}

func (w *Watch) progress(ts []*tracker, elapsed, remaining time.Duration, errText string) {
	if w.Progress == nil {
		return
	}
	st := Status{Elapsed: elapsed, Remaining: remaining, Error: errText}
	for _, t := range ts {
		st.SLOs = append(st.SLOs, t.summary())
	}
	w.Progress(st)
}

// tick reads every SLO for the canary (and baseline) at once and feeds the
// trackers. Readings of a failed tick are dropped: the next tick's
// cumulative counts include what this one missed.
func (w *Watch) tick(ctx context.Context, ts []*tracker, since, at time.Time) (report.Tick, error) {
	tk := report.Tick{At: at, SLOs: map[string]report.TickSLO{}}
	type job struct {
		t     *tracker
		scope providers.Scope
		out   *providers.Counts
		err   *error
	}
	readings := make([]struct {
		canary, base       providers.Counts
		canaryErr, baseErr error
	}, len(ts))
	var jobs []job
	for i, t := range ts {
		jobs = append(jobs, job{t, canaryScope(w.Policy), &readings[i].canary, &readings[i].canaryErr})
		if w.Policy.Baseline != nil {
			jobs = append(jobs, job{t, baselineScope(w.Policy), &readings[i].base, &readings[i].baseErr})
		}
	}
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			window := at.Sub(since)
			if j.t.slo.SLI.Kind() == slo.KindThreshold {
				window = w.Policy.Interval // a threshold is judged on the latest interval
			}
			q := providers.Query{SLO: j.t.slo.Name, SLI: j.t.slo.SLI, Scope: j.scope, Window: window}
			*j.out, *j.err = w.Providers[j.t.slo.Provider].Counts(ctx, q, at)
		}()
	}
	wg.Wait()
	var errs []error
	for i := range ts {
		r := readings[i]
		for _, err := range []error{r.canaryErr, r.baseErr} {
			if err != nil && !errors.Is(err, providers.ErrNoData) {
				errs = append(errs, fmt.Errorf("slo %q: %w", ts[i].slo.Name, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return tk, err
	}
	for i, t := range ts {
		r := readings[i]
		t.observe(r.canary, r.canaryErr == nil, r.base, r.baseErr == nil && w.Policy.Baseline != nil, at)
		tk.SLOs[t.slo.Name] = t.tickSummary()
	}
	return tk, nil
}

func breached(ts []*tracker) bool {
	for _, t := range ts {
		if t.breached {
			return true
		}
	}
	return false
}
