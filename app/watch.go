package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sloguard/sloguard/ci"
	"github.com/sloguard/sloguard/preflight"
	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/rollout"
	"github.com/sloguard/sloguard/slo"
)

// WatchOptions are the flags of `sloguard watch`.
type WatchOptions struct {
	Config              string
	PrometheusURL       string
	SLOs                []string
	Duration, Interval  time.Duration
	Since               time.Time
	NoRollback          bool
	RollbackOnInterrupt bool
	Output, Report      string
	Deploy              DeployOptions
	Verdict             VerdictOptions
}

// Watch watches the canary and rolls back on a breach. clock is nil
// except in tests and the demo.
func Watch(ctx context.Context, d *App, opts WatchOptions, clock rollout.Clock) (err error) {
	started := d.now().UTC()
	out, err := startOutput(d, "watch", opts.Output, opts.Report, opts.Config)
	defer func() { out.abort(err, started) }()
	if err != nil {
		return err
	}
	now := d.now()
	if clock != nil {
		now = clock.Now()
	}
	since, err := checkSince(opts.Since, now)
	if err != nil {
		return err
	}
	opts.Since = since
	cfg, err := d.Load(opts.Config, opts.PrometheusURL)
	if err != nil {
		return err
	}
	out.secure(cfg)
	if err := rollbackReady(d, cfg, opts.NoRollback); err != nil {
		return err
	}
	pol := cfg.Canary
	if opts.Duration > 0 {
		pol.Duration = opts.Duration
	}
	if opts.Interval > 0 {
		pol.Interval = opts.Interval
	}
	if pol.Interval > pol.Duration {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("interval %s is longer than duration %s", pol.Interval, pol.Duration)}
	}
	job, err := d.Select(ctx, cfg, opts.SLOs, func(slos []slo.SLO) error { return watchable(slos, pol) })
	if err != nil {
		return err
	}
	if err := preflightWatch(ctx, d, job, pol.Duration, opts.Since, now); err != nil {
		return err
	}
	deploy := newDeployment(ctx, d, out.platform, opts.Deploy, cfg)
	deploy.set(ctx, "in_progress", "sloguard is watching the canary")
	v := newVerdict(d, out.platform, opts.Verdict, cfg)
	v.start(ctx)
	defer v.abort(context.WithoutCancel(ctx), errNoVerdict) // a check run left in progress, if any

	progress := ci.NewProgress(d.stderr, out.platform.Name() == "local")
	w := &rollout.Watch{
		SLOs: job.SLOs, Providers: job.Providers, Policy: pol, Since: opts.Since, Clock: clock, Log: d.log,
		Progress: func(st rollout.Status) {
			progress.Show(report.StatusLines(st.Elapsed, st.Remaining, st.SLOs, st.Error))
		},
	}
	dec, err := w.Run(ctx)
	progress.Done()
	if err != nil {
		deploy.set(context.WithoutCancel(ctx), "error", err.Error())
		v.abort(context.WithoutCancel(ctx), err)
		return err
	}
	// From here on there is a decision: the rollback actions run and the
	// exit code is the decision's, whatever happens to the outputs.
	dec.Config = cfg.Source
	// A signal may have cancelled ctx: what follows must still finish.
	ctx = context.WithoutCancel(ctx)
	roll := dec.Decision == report.Fail || (dec.Canary.Interrupted && opts.RollbackOnInterrupt)
	if roll {
		out.rollback(ctx, dec, cfg.Rollback, opts.NoRollback, deploy.reporter())
	}
	deploy.finish(ctx, dec)
	dec.FinishedAt = d.now().UTC()
	out.published = func(dec *report.Decision, md []byte) { v.finish(ctx, dec, md) }
	out.emit(dec)
	return &ExitError{Code: decisionCode(dec)}
}

// watchable rejects SLOs a canary cannot be judged on, before any waiting.
// Without canary labels the whole service is judged (no split).
func watchable(slos []slo.SLO, pol slo.CanaryPolicy) error {
	if err := rollout.Watchable(slos); err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	// A baseline from the past must end before the deploy: --duration may
	// have outgrown the offset the config checked against canary.duration.
	if b := pol.Baseline; b != nil && b.Offset > 0 && pol.Duration > b.Offset {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("duration %s is longer than canary.baseline.offset %s: the baseline would overlap the period after the deploy; watch at most %s or lengthen the offset", slo.FormatDuration(pol.Duration), slo.FormatDuration(b.Offset), slo.FormatDuration(b.Offset))}
	}
	return nil
}

// clockSkew is how far in the future --since and --at may be: the clocks
// of the machine that deployed and of the one that evaluates may differ a
// little.
const clockSkew = time.Minute

// checkSince refuses a --since in the future (beyond a little clock skew,
// which it absorbs): the backend would be asked about events that have not
// happened, and answer in riddles.
func checkSince(since, now time.Time) (time.Time, error) {
	return notFuture("--since", since, now, "pass the time the canary was deployed")
}

// notFuture refuses a time flag in the future beyond clockSkew, saying
// what to pass instead, and reads a time within the skew as now. The zero
// time (unset) passes.
func notFuture(flag string, t, now time.Time, advice string) (time.Time, error) {
	switch {
	case t.IsZero() || !t.After(now):
		return t, nil
	case t.After(now.Add(clockSkew)):
		return t, &ExitError{Code: ExitUsage, Err: fmt.Errorf("%s %s is in the future (it is %s here, %s of clock skew allowed): %s",
			flag, t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), clockSkew, advice)}
	}
	return now, nil
}

// preflightWatch checks the queries offline as validate does, then reads
// the canary and the baseline once, before the watch waits its first
// interval: a query that is itself wrong (a misspelt metric among them)
// stops the watch now with exit 2, not after the canary was deployed and
// watched for nothing; a track whose labels match nothing yet is a
// warning, since a canary may still be starting. With --since in the past
// they look where the watch will: over the duration up to since +
// duration, or now if that is later than now.
func preflightWatch(ctx context.Context, d *App, job *Job, duration time.Duration, since, now time.Time) error {
	at, empty := now, func(scope string) string {
		return "no series for the " + scope + " yet: it may not be deployed yet, or its labels are wrong"
	}
	past := !since.IsZero() && since.Before(now)
	if past {
		if end := since.Add(duration); end.Before(now) {
			at = end
		}
		from, to := stamp(at.Add(-duration)), stamp(at)
		empty = func(scope string) string {
			return fmt.Sprintf("no series for the %s from %s to %s: its labels may be wrong, or it did not run then", scope, from, to)
		}
	}
	_, err := preflightRun(ctx, d, job, preflight.Options{At: at.UTC(), Duration: duration}, empty)
	var ee *ExitError
	if past && errors.As(err, &ee) && ee.Err != nil {
		ee.Err = fmt.Errorf("%w\n(read as the watch will, up to %s: is --since %s right?)", ee.Err, stamp(at), stamp(since))
	}
	return err
}

// preflightRun runs the offline checks, then reads job's canary and
// baseline once as o says: a bad query is exit 2 naming the SLO and the
// scope; an empty reading the backend explains (a label value that
// matches nothing) is a warning, logged with what empty says of the
// scope, and returned.
func preflightRun(ctx context.Context, d *App, job *Job, o preflight.Options, empty func(scope string) string) ([]string, error) {
	cfg := job.Config
	if err := preflight.Offline(ctx, cfg, job.SLOs, d.backends, providerEnv(d, cfg, d.log)); err != nil {
		return nil, err
	}
	var bad []error
	var warnings []string
	for _, r := range preflight.Online(ctx, cfg, d.backends, job.SLOs, job.Providers, o) {
		switch r.Status() {
		case "error":
			bad = append(bad, fmt.Errorf("slo %q, read as the %s: %w", r.SLO, r.Scope, r.Err))
		case "empty":
			if hint := r.Hint(); hint != "" {
				d.log.Warn(empty(r.Scope), "slo", r.SLO, "hint", hint)
				warnings = append(warnings, fmt.Sprintf("slo %s, %s: %s", r.SLO, empty(r.Scope), hint))
			}
		}
	}
	if len(bad) > 0 {
		return nil, &ExitError{Code: ExitUsage, Err: errors.Join(bad...)}
	}
	return warnings, nil
}
