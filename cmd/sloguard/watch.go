package main

import (
	"context"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/sloguard/sloguard/ci"
	"github.com/sloguard/sloguard/gate"
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
			if s := c.String("since"); s != "" {
				t, err := time.Parse(time.RFC3339, s)
				if err != nil {
					return &exitError{Code: exitUsage, Err: fmt.Errorf("--since %q: want an RFC 3339 time such as 2026-11-23T17:00:00Z", s)}
				}
				opts.Since = t
			}
			return runWatch(c.Context, d, opts, nil)
		},
	}
}

// runWatch watches the canary and rolls back on a breach. clock is nil
// except in tests and the demo.
func runWatch(ctx context.Context, d *deps, opts WatchOptions, clock rollout.Clock) error {
	if err := checkOutput(opts.Output); err != nil {
		return err
	}
	cfg, err := slo.Load(opts.Config, slo.Options{PrometheusURL: opts.PrometheusURL})
	if err != nil {
		return err
	}
	out := newOutput(d, opts.Output, opts.Report)
	out.platform.Mask(secrets(cfg, d.getenv))
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
	slos, err := gate.Select(cfg.SLOs, opts.SLOs)
	if err != nil {
		return err
	}
	if err := watchable(cfg, slos, pol); err != nil {
		return err
	}
	provs, err := newProviders(ctx, cfg, slos, d.getenv, d.log)
	if err != nil {
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
	dec.Config = cfg.Source
	// A signal may have cancelled ctx: what follows must still finish.
	ctx = context.WithoutCancel(ctx)
	roll := dec.Decision == report.Fail || (dec.Canary.Interrupted && opts.RollbackOnInterrupt)
	if roll {
		if err := out.rollback(ctx, dec, cfg.Rollback, opts.NoRollback, deploy.reporter()); err != nil {
			return err
		}
	}
	deploy.finish(ctx, dec)
	dec.FinishedAt = d.now().UTC()
	out.published = func(dec *report.Decision, md []byte) { v.finish(ctx, dec, md) }
	if err := out.emit(dec); err != nil {
		return err
	}
	return &exitError{Code: decisionCode(dec)}
}

// watchable rejects SLOs a canary cannot be judged on, before any waiting.
func watchable(cfg *slo.Config, slos []slo.SLO, pol slo.CanaryPolicy) error {
	for _, s := range slos {
		if s.SLI.Kind() == slo.KindRatio {
			return &exitError{Code: exitUsage, Err: fmt.Errorf("slo %q: watch needs event counts, not a ratio: write its SLI as error_query (or good_query) with total_query", s.Name)}
		}
		p, _ := cfg.ProviderByName(s.Provider)
		if (p.Type == "prometheus" || p.Type == "datadog" || p.Type == "appinsights") && len(pol.Canary.Labels) == 0 {
			return &exitError{Code: exitUsage, Err: fmt.Errorf("canary.canary.labels: required to tell the canary apart in provider %q, e.g. {track: canary}", p.Name)}
		}
	}
	return nil
}
