package main

import (
	"github.com/urfave/cli/v2"

	"github.com/sloguard/sloguard/app"
)

func deployFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "environment", Usage: "GitHub deployment `ENVIRONMENT` whose status sloguard sets (watch: in_progress, then success, failure or error)", EnvVars: env("environment")},
		&cli.StringFlag{Name: "environment-url", Usage: "`URL` of the deployed environment, set as environment_url on the deployment statuses", EnvVars: env("environment-url")},
		&cli.Int64Flag{Name: "deployment-id", Usage: "GitHub deployment `ID` to report on", DefaultText: "the newest deployment of GITHUB_SHA in --environment", EnvVars: env("deployment-id")},
	}
}

func deployOptionsFrom(c *cli.Context) app.DeployOptions {
	return app.DeployOptions{Environment: c.String("environment"), EnvironmentURL: c.String("environment-url"), DeploymentID: c.Int64("deployment-id")}
}
