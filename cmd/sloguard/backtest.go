package main

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/sloguard/sloguard/app"
)

func backtestCommand(d *app.App) *cli.Command {
	return &cli.Command{
		Name:  "backtest",
		Usage: "replay the watch policy over past windows of your history: what watch would have decided, no action run",
		Flags: []cli.Flag{
			configFlag(), prometheusURLFlag(), sloFlag(),
			&cli.StringFlag{Name: "from", Usage: "start of the first window: an RFC 3339 `TIME`", EnvVars: env("from")},
			&cli.StringFlag{Name: "to", Usage: "no window ends after this RFC 3339 `TIME`", EnvVars: env("to")},
			durationFlag("every", "time between window starts", "the watch duration"),
			durationFlag("duration", "each window's length (the watch duration)", "canary.duration, else 10m"),
			durationFlag("interval", "how often each window is evaluated", "canary.interval, else 30s"),
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "text", Usage: "stdout format: text, json (the backtest record, nothing else) or markdown", EnvVars: env("output")},
			&cli.StringFlag{Name: "report", Usage: "also write the JSON backtest record to `FILE` (atomically)", EnvVars: env("report")},
		},
		Action: func(c *cli.Context) error {
			opts := app.BacktestOptions{
				Config: c.String("config"), PrometheusURL: c.String("prometheus-url"), SLOs: c.StringSlice("slo"),
				Output: c.String("output"), Report: c.String("report"),
			}
			var err error
			if opts.From, err = parseTime("from", c.String("from")); err != nil {
				return app.BacktestError(d, opts, err)
			}
			if opts.To, err = parseTime("to", c.String("to")); err != nil {
				return app.BacktestError(d, opts, err)
			}
			for _, f := range []struct {
				name string
				into *time.Duration
			}{{"every", &opts.Every}, {"duration", &opts.Duration}, {"interval", &opts.Interval}} {
				if c.IsSet(f.name) {
					if *f.into = flagDuration(c, f.name); *f.into <= 0 {
						return app.BacktestError(d, opts, &app.ExitError{Code: app.ExitUsage, Err: fmt.Errorf("--%s %s: must be longer than zero", f.name, *f.into)})
					}
				}
			}
			return app.Backtest(c.Context, d, opts)
		},
	}
}

// parseTime reads a required RFC 3339 flag, in UTC.
func parseTime(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, &app.ExitError{Code: app.ExitUsage, Err: fmt.Errorf("--%s is required: an RFC 3339 time such as 2026-11-23T17:00:00Z", flag)}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, &app.ExitError{Code: app.ExitUsage, Err: fmt.Errorf("--%s %q: want an RFC 3339 time such as 2026-11-23T17:00:00Z", flag, s)}
	}
	return t.UTC(), nil
}
