package main

import (
	"time"

	"github.com/urfave/cli/v2"

	"github.com/sloguard/sloguard/app"
)

func checkCommand(d *app.App) *cli.Command {
	return &cli.Command{
		Name:  "check",
		Usage: "gate a release on error budget and burn rates",
		Flags: append([]cli.Flag{
			configFlag(), prometheusURLFlag(), sloFlag(), outputFlag(), reportFlag(),
			&cli.StringFlag{Name: "override", Usage: "let a closed gate pass, recording this `REASON` (decision: overridden, exit 0)", EnvVars: env("override")},
			&cli.StringFlag{Name: "at", Usage: "evaluate as of this RFC 3339 `TIME` instead of now (replays, audits)", EnvVars: env("at")},
		}, verdictFlags()...),
		Action: func(c *cli.Context) error {
			opts := app.CheckOptions{
				Config: c.String("config"), PrometheusURL: c.String("prometheus-url"), SLOs: c.StringSlice("slo"),
				Output: c.String("output"), Report: c.String("report"), Override: c.String("override"),
				Verdict: verdictOptionsFrom(c),
			}
			at, err := parseAt(c.String("at"), d.Now)
			if err != nil {
				return app.FlagError(d, "check", opts.Output, opts.Report, opts.Config, err)
			}
			opts.At = at
			return app.Check(c.Context, d, opts)
		},
	}
}

func parseAt(s string, now func() time.Time) (time.Time, error) {
	if s == "" {
		return now().UTC().Truncate(time.Second), nil
	}
	return parseTime("at", s)
}
