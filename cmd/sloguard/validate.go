package main

import (
	"github.com/urfave/cli/v2"

	"github.com/sloguard/sloguard/app"
)

func validateCommand(d *app.App) *cli.Command {
	return &cli.Command{
		Name:  "validate",
		Usage: "lint the config and every query as check and watch send them; with --online also run them once",
		Flags: []cli.Flag{
			configFlag(), prometheusURLFlag(),
			&cli.BoolFlag{Name: "online", Usage: "run each SLO's queries once against its backend: the service, the canary and the baseline", EnvVars: env("online")},
		},
		Action: func(c *cli.Context) error {
			return app.Validate(c.Context, d, c.String("config"), c.String("prometheus-url"), c.Bool("online"))
		},
	}
}
