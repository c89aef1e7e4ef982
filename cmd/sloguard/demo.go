package main

import (
	_ "embed"

	"github.com/urfave/cli/v2"

	"github.com/sloguard/sloguard/app"
)

func demoCommand(d *app.App) *cli.Command {
	return &cli.Command{
		Name:  "demo",
		Usage: "the whole story on an embedded simulated service: check, deploy a canary, watch it go bad, roll back (dry run)",
		Flags: []cli.Flag{
			&cli.Float64Flag{Name: "fault", Value: 10, Usage: "the canary's error ratio as a multiple of the stable track's, 0 to 100 (1: a healthy canary)", EnvVars: env("fault")},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "seed of the simulated traffic", EnvVars: env("seed")},
			&cli.BoolFlag{Name: "no-split", Usage: "a release imported for all traffic at once (no canary), judged against the same queries a minute earlier", EnvVars: env("no-split")},
		},
		Action: func(c *cli.Context) error {
			return app.Demo(c.Context, d, app.DemoOptions{Fault: c.Float64("fault"), Seed: c.Uint64("seed"), NoSplit: c.Bool("no-split")}, nil)
		},
	}
}
