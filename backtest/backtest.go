// Package backtest replays the watch policy over past windows of real
// history: each window is decided by the watch engine itself, as
// `sloguard watch --since START` started at START would have decided it,
// with no rollback action run. The history is read with range reads shared
// by every window, so that days of windows take seconds.
package backtest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/rollout"
	"github.com/sloguard/sloguard/slo"
)

// MaxWindows bounds one backtest: the record holds every window.
const MaxWindows = 100000

// Backtest is one replay of the watch policy.
type Backtest struct {
	SLOs      []slo.SLO
	Providers map[string]providers.Provider
	Policy    slo.CanaryPolicy // duration and interval as the watch would use them
	From, To  time.Time
	Every     time.Duration // between window starts; zero: the watch duration
	Log       *slog.Logger
	// Progress, when set, is called after each window.
	Progress func(done, total int)

	block int // windows per range read; 0: the default (tests set it)
}

// NoHistoryError refuses a backend that can only read the present.
type NoHistoryError struct {
	Provider, Why string
}

func (e *NoHistoryError) Error() string {
	return fmt.Sprintf("provider %q cannot be backtested: %s", e.Provider, e.Why)
}

// ReadError means a backend could not be read (unreachable, timing out,
// refusing the credentials): no window after it could be decided as watch
// would have.
type ReadError struct{ Err error }

func (e *ReadError) Error() string { return "cannot read the history: " + e.Err.Error() }

func (e *ReadError) Unwrap() error { return e.Err }

// ErrInterrupted means the caller's context ended before every window was
// replayed.
var ErrInterrupted = errors.New("interrupted")

// Windows is how many windows fit: starts at From, From+Every, … while
// start + duration ≤ To.
func Windows(from, to time.Time, every, duration time.Duration) int {
	if every <= 0 || duration <= 0 || from.Add(duration).After(to) {
		return 0
	}
	return int(to.Sub(from.Add(duration))/every) + 1
}

// Check reports a backtest that cannot run, naming the flag or key to fix.
func (b *Backtest) Check() error {
	pol, every := b.Policy, b.every()
	switch {
	case b.From.IsZero() || b.To.IsZero():
		return errors.New("--from and --to are both required: RFC 3339 times such as 2026-11-23T17:00:00Z")
	case !b.From.Before(b.To):
		return fmt.Errorf("--from %s is not before --to %s", stamp(b.From), stamp(b.To))
	case pol.Duration <= 0:
		return fmt.Errorf("--duration %s: must be longer than zero", pol.Duration)
	case pol.Interval <= 0:
		return fmt.Errorf("--interval %s: must be longer than zero", pol.Interval)
	case pol.Interval > pol.Duration:
		return fmt.Errorf("interval %s is longer than duration %s", slo.FormatDuration(pol.Interval), slo.FormatDuration(pol.Duration))
	case every < time.Second:
		return fmt.Errorf("--every %s: must be at least 1s", every)
	case len(b.SLOs) == 0:
		return errors.New("no SLO to backtest")
	}
	n := Windows(b.From, b.To, every, pol.Duration)
	if n == 0 {
		return fmt.Errorf("no window fits: --from %s plus the duration %s is after --to %s: move --from earlier or --to later, or shorten --duration", stamp(b.From), slo.FormatDuration(pol.Duration), stamp(b.To))
	}
	if n > MaxWindows {
		return fmt.Errorf("%d windows (one every %s from %s to %s) are more than %d: use a longer --every or a shorter range", n, slo.FormatDuration(every), stamp(b.From), stamp(b.To), MaxWindows)
	}
	for _, s := range b.SLOs {
		p, ok := b.Providers[s.Provider]
		if !ok {
			return fmt.Errorf("slo %q: no provider %q", s.Name, s.Provider)
		}
		if po, ok := p.(providers.PresentOnly); ok {
			return &NoHistoryError{Provider: s.Provider, Why: po.NoHistory()}
		}
	}
	return nil
}

func (b *Backtest) every() time.Duration {
	if b.Every > 0 {
		return b.Every
	}
	return b.Policy.Duration
}

// Run replays every window and returns the record (without its start and
// finish times, which are the caller's clock). Errors: the Check errors, a
// *NoHistoryError, a bad query (providers.ErrBadQuery), a *ReadError, or
// ErrInterrupted.
func (b *Backtest) Run(ctx context.Context) (*report.Backtest, error) {
	if err := b.Check(); err != nil {
		return nil, err
	}
	log := b.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	every, pol := b.every(), b.Policy
	n := Windows(b.From, b.To, every, pol.Duration)
	rec := &report.Backtest{
		Schema: report.BacktestSchema, From: b.From.UTC(), To: b.To.UTC(), Windows: n,
		Every: slo.FormatDuration(every), Duration: slo.FormatDuration(pol.Duration), Interval: slo.FormatDuration(pol.Interval),
		Labels: pol.Canary.Labels, Runs: make([]report.BacktestRun, 0, n),
	}
	if pol.Baseline != nil {
		rec.BaselineLabels = pol.Baseline.Labels
	}
	for _, s := range b.SLOs {
		rec.SLOs = append(rec.SLOs, s.Name)
	}

	runCtx, abort := context.WithCancelCause(ctx)
	defer abort(nil)
	fail := func(err error) { abort(&ReadError{Err: err}) }
	reads, watchLog := &counters{}, logOnce(log)
	replays := map[string]*replay{}
	for name, p := range b.Providers {
		replays[name] = newReplay(name, p, every, n, cmp.Or(b.block, block), fail, reads, log)
	}
	for j := range n {
		since := b.From.Add(time.Duration(j) * every)
		provs := make(map[string]providers.Provider, len(replays))
		for name, r := range replays {
			provs[name] = window{r: r, j: j, since: since}
		}
		w := &rollout.Watch{SLOs: b.SLOs, Providers: provs, Policy: pol, Since: since, Clock: rollout.NewJumpClock(since), Log: watchLog}
		dec, err := w.Run(runCtx)
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w after %d of %d windows: no record written", ErrInterrupted, j, n)
		}
		if cause := context.Cause(runCtx); cause != nil {
			return nil, cause
		}
		if err != nil {
			return nil, fmt.Errorf("window from %s: %w", stamp(since), err)
		}
		run := runOf(since, dec)
		rec.Decisions.Add(run.Decision)
		rec.Runs = append(rec.Runs, run)
		if b.Progress != nil {
			b.Progress(j+1, n)
		}
	}
	rec.Reads = report.Reads{Range: int(reads.rangeReads.Load()), Point: int(reads.pointReads.Load())}
	return rec, nil
}

// runOf keeps what a backtest shows of one watch's decision.
func runOf(since time.Time, d *report.Decision) report.BacktestRun {
	r := report.BacktestRun{Since: since.UTC(), Decision: d.Decision, Reason: d.Reason, DecidedAfter: d.Canary.Elapsed, SLOs: []report.BacktestSLO{}}
	if d.Canary.DecidedAt != nil {
		at := d.Canary.DecidedAt.UTC()
		r.DecidedAt = &at
		r.DecidedAfter = slo.FormatDuration(at.Sub(since))
	}
	for _, s := range d.Canary.SLOs {
		r.SLOs = append(r.SLOs, report.BacktestSLO{
			Name: s.Name, Decision: s.Decision, DecidedAt: s.DecidedAt,
			Canary: s.Canary, Baseline: s.Baseline, CanaryRatio: s.CanaryRatio, BaselineRatio: s.BaselineRatio,
			Statistic: s.Statistic, Value: s.Value,
		})
	}
	return r
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
