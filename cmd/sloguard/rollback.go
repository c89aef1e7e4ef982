package main

import (
	"github.com/urfave/cli/v2"

	"github.com/sloguard/sloguard/app"
)

func rollbackCommand(d *app.App) *cli.Command {
	return &cli.Command{
		Name:  "rollback",
		Usage: "run the configured rollback actions by hand",
		Flags: append([]cli.Flag{
			configFlag(), prometheusURLFlag(), outputFlag(), reportFlag(),
			&cli.StringFlag{Name: "reason", Usage: "why the release is rolled back (required; recorded and passed to the actions)", EnvVars: env("reason")},
			&cli.BoolFlag{Name: "no-rollback", Aliases: []string{"dry-run"}, Usage: "print the actions instead of running them", EnvVars: env("no-rollback")},
		}, deployFlags()...),
		Action: func(c *cli.Context) error {
			return app.Rollback(c.Context, d, app.RollbackOptions{
				Config: c.String("config"), PrometheusURL: c.String("prometheus-url"), Reason: c.String("reason"),
				DryRun: c.Bool("no-rollback"), Output: c.String("output"), Report: c.String("report"), Deploy: deployOptionsFrom(c),
			})
		},
	}
}
