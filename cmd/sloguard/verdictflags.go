package main

import (
	"github.com/urfave/cli/v2"

	"github.com/sloguard/sloguard/app"
)

func verdictFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "check-run", Usage: "in GitHub Actions, create a check run with the verdict, which a ruleset can require (needs checks: write)", EnvVars: env("check-run")},
		&cli.StringFlag{Name: "check-name", Usage: "`NAME` of the check run", DefaultText: "sloguard COMMAND, and the --slo names", EnvVars: env("check-name")},
		&cli.BoolFlag{Name: "comment", Usage: "on a pull_request event, keep one comment with the verdict on the pull request, updated in place (needs pull-requests: write)", EnvVars: env("comment")},
	}
}

func verdictOptionsFrom(c *cli.Context) app.VerdictOptions {
	return app.VerdictOptions{
		CheckRun: c.Bool("check-run"), CheckName: c.String("check-name"), Comment: c.Bool("comment"), SLOs: c.StringSlice("slo"),
		RunAsked: c.IsSet("check-run"), CommentSet: c.IsSet("comment"), CommandName: c.Command.Name,
	}
}
