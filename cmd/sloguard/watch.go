package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/sloguard/sloguard/ci"
	"github.com/sloguard/sloguard/gate"
	"github.com/sloguard/sloguard/preflight"
	"github.com/sloguard/sloguard/providers"
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
	Deploy              deployOptions
	Verdict             verdictOptions
}

func watchCommand(d *deps) *cli.Command {
	return &cli.Command{
		Name:  "watch",
		Usage: "watch a canary, decide as early as the data allows, roll back on a breach",
		Flags: append([]cli.Flag{
			configFlag(), prometheusURLFlag(), sloFlag(), outputFlag(), reportFlag(),
			durationFlag("duration", "how long to watch, e.g. 10m", "canary.duration, else 10m"),
			durationFlag("interval", "how often to evaluate, e.g. 30s", "canary.interval, else 30s"),
			&cli.StringFlag{Name: "since", Usage: "count events from this RFC 3339 `TIME` (the deploy) instead of from the start of the watch", EnvVars: env("since")},
			&cli.BoolFlag{Name: "no-rollback", Aliases: []string{"dry-run"}, Usage: "on a breach, print the rollback actions instead of running them", EnvVars: env("no-rollback")},
			&cli.BoolFlag{Name: "rollback-on-interrupt", Usage: "run the rollback actions when SIGINT/SIGTERM stops the watch", EnvVars: env("rollback-on-interrupt")},
		}, append(deployFlags(), verdictFlags()...)...),
		Action: func(c *cli.Context) error {
			opts := WatchOptions{
				Config: c.String("config"), PrometheusURL: c.String("prometheus-url"), SLOs: c.StringSlice("slo"),
				Duration: flagDuration(c, "duration"), Interval: flagDuration(c, "interval"),
				NoRollback: c.Bool("no-rollback"), RollbackOnInterrupt: c.Bool("rollback-on-interrupt"),
				Output: c.String("output"), Report: c.String("report"), Deploy: deployOptionsFrom(c),
				Verdict: verdictOptionsFrom(c),
			}
			for _, f := range []struct{ name, eg string }{{"duration", "10m"}, {"interval", "30s"}} {
				if v := flagDuration(c, f.name); c.IsSet(f.name) && v <= 0 {
					err := &exitError{Code: exitUsage, Err: fmt.Errorf("--%s %s: must be longer than zero, e.g. %s", f.name, v, f.eg)}
					return flagError(d, "watch", opts.Output, opts.Report, opts.Config, err)
				}
			}
			if s := c.String("since"); s != "" {
				t, err := time.Parse(time.RFC3339, s)
				if err != nil {
					err = &exitError{Code: exitUsage, Err: fmt.Errorf("--since %q: want an RFC 3339 time such as 2026-11-23T17:00:00Z", s)}
					return flagError(d, "watch", opts.Output, opts.Report, opts.Config, err)
				}
				opts.Since = t
			}
			return runWatch(c.Context, d, opts, nil)
		},
	}
}

// runWatch watches the canary and rolls back on a breach. clock is nil
// except in tests and the demo.
func runWatch(ctx context.Context, d *deps, opts WatchOptions, clock rollout.Clock) (err error) {
	started := d.now().UTC()
	if err := checkOutput(opts.Output); err != nil {
		return err
	}
	out := newOutput(d, "watch", opts.Output, opts.Report)
	out.config = opts.Config
	defer func() { out.abort(err, started) }()
	now := d.now()
	if clock != nil {
		now = clock.Now()
	}
	since, err := checkSince(opts.Since, now)
	if err != nil {
		return err
	}
	opts.Since = since
	cfg, err := loadConfig(d, opts.Config, opts.PrometheusURL)
	if err != nil {
		return err
	}
	out.secure(cfg)
	pol := cfg.Canary
	if opts.Duration > 0 {
		pol.Duration = opts.Duration
	}
	if opts.Interval > 0 {
		pol.Interval = opts.Interval
	}
	if pol.Interval > pol.Duration {
		return &exitError{Code: exitUsage, Err: fmt.Errorf("interval %s is longer than duration %s", pol.Interval, pol.Duration)}
	}
	slos, provs, err := canaryTargets(ctx, d, cfg, opts.SLOs, pol)
	if err != nil {
		return err
	}
	if err := preflightWatch(ctx, d, cfg, slos, provs, now); err != nil {
		return err
	}
	deploy := newDeployment(ctx, d, out.platform, opts.Deploy, cfg)
	deploy.set(ctx, "in_progress", "sloguard is watching the canary")
	v := newVerdict(d, out.platform, opts.Verdict, cfg)
	v.start(ctx)
	defer v.abort(context.WithoutCancel(ctx), errNoVerdict) // a check run left in progress, if any

	progress := ci.NewProgress(d.stderr, out.platform.Name() == "local")
	w := &rollout.Watch{
		SLOs: slos, Providers: provs, Policy: pol, Since: opts.Since, Clock: clock, Log: d.log,
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
	return &exitError{Code: decisionCode(dec)}
}

// canaryTargets picks the SLOs a canary is judged on (all, or those named)
// and builds their backends: what watch and backtest read.
func canaryTargets(ctx context.Context, d *deps, cfg *slo.Config, names []string, pol slo.CanaryPolicy) ([]slo.SLO, map[string]providers.Provider, error) {
	slos, err := gate.Select(cfg.SLOs, names)
	if err != nil {
		return nil, nil, err
	}
	if err := watchable(slos, pol); err != nil {
		return nil, nil, err
	}
	provs, err := newProviders(ctx, d, cfg, slos, d.log)
	return slos, provs, err
}

// watchable rejects SLOs a canary cannot be judged on, before any waiting.
// Without canary labels the whole service is judged (no split).
func watchable(slos []slo.SLO, pol slo.CanaryPolicy) error {
	if err := rollout.Watchable(slos); err != nil {
		return &exitError{Code: exitUsage, Err: err}
	}
	// A baseline from the past must end before the deploy: --duration may
	// have outgrown the offset the config checked against canary.duration.
	if b := pol.Baseline; b != nil && b.Offset > 0 && pol.Duration > b.Offset {
		return &exitError{Code: exitUsage, Err: fmt.Errorf("duration %s is longer than canary.baseline.offset %s: the baseline would overlap the period after the deploy; watch at most %s or lengthen the offset", slo.FormatDuration(pol.Duration), slo.FormatDuration(b.Offset), slo.FormatDuration(b.Offset))}
	}
	return nil
}

// sinceSkew is how far in the future --since may be: the clocks of the
// machine that deployed and of the one that watches may differ a little.
const sinceSkew = time.Minute

// checkSince refuses a --since in the future (beyond a little clock skew,
// which it absorbs): the backend would be asked about events that have not
// happened, and answer in riddles.
func checkSince(since, now time.Time) (time.Time, error) {
	switch {
	case since.IsZero() || !since.After(now):
		return since, nil
	case since.After(now.Add(sinceSkew)):
		return since, &exitError{Code: exitUsage, Err: fmt.Errorf("--since %s is in the future (it is %s here, %s of clock skew allowed): pass the time the canary was deployed",
			since.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), sinceSkew)}
	}
	return now, nil
}

// preflightWatch checks the queries offline as validate does, then reads
// the canary and the baseline once, before the watch waits its first
// interval: a query that is itself wrong (a misspelt metric among them)
// stops the watch now with exit 2, not after the canary was deployed and
// watched for nothing; a track whose labels match nothing yet is a
// warning, since a canary may still be starting.
func preflightWatch(ctx context.Context, d *deps, cfg *slo.Config, slos []slo.SLO, provs map[string]providers.Provider, at time.Time) error {
	if err := preflight.Offline(ctx, cfg, slos, d.backends, providerEnv(d, cfg, d.log)); err != nil {
		return err
	}
	var bad []error
	for _, r := range preflight.Online(ctx, cfg, d.backends, slos, provs, at.UTC(), false) {
		switch r.Status() {
		case "error":
			bad = append(bad, fmt.Errorf("slo %q, read as the %s: %w", r.SLO, r.Scope, r.Err))
		case "empty":
			if hint := r.Hint(); hint != "" {
				d.log.Warn("no series for the "+r.Scope+" yet: it may not be deployed yet, or its labels are wrong", "slo", r.SLO, "hint", hint)
			}
		}
	}
	if len(bad) > 0 {
		return &exitError{Code: exitUsage, Err: errors.Join(bad...)}
	}
	return nil
}
