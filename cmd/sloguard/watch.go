package main

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/sloguard/sloguard/app"
)

func watchCommand(d *app.App) *cli.Command {
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
			opts := app.WatchOptions{
				Config: c.String("config"), PrometheusURL: c.String("prometheus-url"), SLOs: c.StringSlice("slo"),
				Duration: flagDuration(c, "duration"), Interval: flagDuration(c, "interval"),
				NoRollback: c.Bool("no-rollback"), RollbackOnInterrupt: c.Bool("rollback-on-interrupt"),
				Output: c.String("output"), Report: c.String("report"), Deploy: deployOptionsFrom(c),
				Verdict: verdictOptionsFrom(c),
			}
			for _, f := range []struct{ name, eg string }{{"duration", "10m"}, {"interval", "30s"}} {
				if v := flagDuration(c, f.name); c.IsSet(f.name) && v <= 0 {
					err := &app.ExitError{Code: app.ExitUsage, Err: fmt.Errorf("--%s %s: must be longer than zero, e.g. %s", f.name, v, f.eg)}
					return app.FlagError(d, "watch", opts.Output, opts.Report, opts.Config, err)
				}
			}
			if s := c.String("since"); s != "" {
				t, err := time.Parse(time.RFC3339, s)
				if err != nil {
					err = &app.ExitError{Code: app.ExitUsage, Err: fmt.Errorf("--since %q: want an RFC 3339 time such as 2026-11-23T17:00:00Z", s)}
					return app.FlagError(d, "watch", opts.Output, opts.Report, opts.Config, err)
				}
				opts.Since = t
			}
			return app.Watch(c.Context, d, opts, nil)
		},
	}
}
