package main

import (
	"github.com/urfave/cli/v2"

	"github.com/sloguard/sloguard/app"
)

func serveCommand(d *app.App) *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "run the gate as a service: GitHub deployment protection rules and Azure DevOps environment checks",
		Flags: []cli.Flag{
			configFlag(), prometheusURLFlag(),
			&cli.StringFlag{Name: "listen", Value: ":8080", Usage: "listen on this `ADDR` (host:port)", EnvVars: env("listen")},
			&cli.StringFlag{Name: "state", Value: "sloguard-state.db", Usage: "the state `FILE`: pending evaluations (resumed after a restart) and finished ones (GET /v1/decisions)", EnvVars: env("state")},
			logLevelFlagFrom("info", "log detail on stderr, as JSON: debug, info (each decision), warn, error"), // a service logs each decision
		},
		Action: func(c *cli.Context) error {
			level := logLevel(c)
			if err := checkLogLevel(level); err != nil {
				return err
			}
			return app.Serve(c.Context, d, app.ServeOptions{
				Config: c.String("config"), PrometheusURL: c.String("prometheus-url"),
				Listen: c.String("listen"), State: c.String("state"), LogLevel: level,
			})
		},
	}
}
