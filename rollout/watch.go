// Package rollout implements `watch` and `rollback`: the canary loop, its
// sequential statistics (package sequential), and the actions that undo a
// bad release.
package rollout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/slo"
)

// Clock is time as the watch sees it, so that tests can run a ten-minute
// watch in milliseconds and a backtest can replay history.
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

// Watchable rejects SLOs a canary cannot be judged on: a raw error ratio
// has no event counts, so neither the sequential test nor a threshold
// applies.
func Watchable(slos []slo.SLO) error {
	for _, s := range slos {
		if s.SLI.Kind() == slo.KindRatio {
			return fmt.Errorf("slo %q: watch needs event counts, not a ratio: write its SLI as error_query (or good_query) with total_query", s.Name)
		}
	}
	return nil
}

// Run watches until the canary breaches, the duration ends, every SLO's
// readings keep failing, or ctx is cancelled (then the decision is
// inconclusive, interrupted). It returns an error only for a query or an
// SLO that is itself wrong.
func (w *Watch) Run(ctx context.Context) (*report.Decision, error) {
	if err := Watchable(w.SLOs); err != nil {
		return nil, err
	}
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
	// The watch is the window (since, since + duration], read at since +
	// k·interval whenever it runs: started late (a pipeline that waited, a
	// gate resumed after downtime), the intervals already past are read at
	// once at their own times, as backtest replays them, and never beyond
	// the window's end.
	end := since.Add(pol.Duration)
	if past := pastTicks(since, start, end, pol.Interval); past > 0 {
		log.Info("the watch starts after --since: the intervals already past are read at once, each at its own time",
			"since", since.UTC().Format(time.RFC3339), "late", slo.FormatDuration(start.Sub(since)), "intervals_past", past, "window_end", end.UTC().Format(time.RFC3339))
	}
	// Every SLO spends an equal share of max_false_rollback (Bonferroni),
	// so the bound holds for the watch as a whole.
	trackers := make([]*tracker, len(w.SLOs))
	for i, s := range w.SLOs {
		trackers[i] = newTracker(s, pol, pol.MaxFalseRollback/float64(len(w.SLOs)))
	}
	c := newCanaryRecord(pol, since)
	d := &report.Decision{Schema: report.Schema, Command: "watch", StartedAt: start, Canary: c}
	history := w.readHistory(ctx, since, log)
	w.prime(ctx, start, log)

	at := since
	for tick := 1; ; tick++ {
		next := since.Add(time.Duration(tick) * pol.Interval)
		if next.After(end) {
			next = end
		}
		if err := clock.Sleep(ctx, next); err != nil {
			c.Interrupted = true
			break
		}
		if tick == 1 {
			for _, t := range trackers {
				t.start(history()[t.slo.Name])
			}
		}
		at = next
		tk, err := w.tick(ctx, trackers, since, at, log)
		if err != nil {
			return nil, err
		}
		if ctx.Err() != nil {
			c.Interrupted = true
			break
		}
		tk.Elapsed = slo.FormatDuration(at.Sub(since))
		c.Timeline = append(c.Timeline, tk)
		w.progress(trackers, at.Sub(since), end.Sub(at), tk.Error)
		if finished(trackers, pol) || !at.Before(end) {
			break
		}
	}
	d.EvaluatedAt = at
	elapsed := at.Sub(since)
	if c.Interrupted {
		// the real time watched, not the tick that never came
		elapsed = min(max(clock.Now().Sub(since), 0), pol.Duration).Truncate(time.Second)
	}
	c.Elapsed = slo.FormatDuration(elapsed)
	decide(d, trackers, pol)
	return d, nil
}

// pastTicks is how many of the ticks at since + k·interval (the last at
// end) are already due at start.
func pastTicks(since, start, end time.Time, interval time.Duration) int {
	if !start.After(since) || interval <= 0 {
		return 0
	}
	n := int(min(start.Sub(since), end.Sub(since)) / interval)
	if !start.Before(end) && end.Sub(since)%interval != 0 {
		n++ // the short last tick at end
	}
	return n
}

// finished reports whether the watch can stop before its end: an SLO
// breached, or an SLO's readings failed for good under on_error: fail
// (the decision is fail either way), or every SLO's readings failed for
// good.
func finished(ts []*tracker, pol slo.CanaryPolicy) bool {
	all := true
	for _, t := range ts {
		if t.breached || (t.gaveUp && pol.OnError == slo.PolicyFail) {
			return true
		}
		all = all && t.done()
	}
	return all
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

func errorText(errs []error) string {
	if err := errors.Join(errs...); err != nil {
		return err.Error()
	}
	return ""
}
