package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/rollout"
)

// RollbackOptions are the flags of `sloguard rollback`.
type RollbackOptions struct {
	Config, PrometheusURL string
	Reason                string
	DryRun                bool
	Output, Report        string
	Deploy                deployOptions
}

func rollbackCommand(d *deps) *cli.Command {
	return &cli.Command{
		Name:  "rollback",
		Usage: "run the configured rollback actions by hand",
		Flags: append([]cli.Flag{
			configFlag(), prometheusURLFlag(), outputFlag(), reportFlag(),
			&cli.StringFlag{Name: "reason", Usage: "why the release is rolled back (required; recorded and passed to the actions)", EnvVars: env("reason")},
			&cli.BoolFlag{Name: "no-rollback", Aliases: []string{"dry-run"}, Usage: "print the actions instead of running them", EnvVars: env("no-rollback")},
		}, deployFlags()...),
		Action: func(c *cli.Context) error {
			return runRollback(c.Context, d, RollbackOptions{
				Config: c.String("config"), PrometheusURL: c.String("prometheus-url"), Reason: c.String("reason"),
				DryRun: c.Bool("no-rollback"), Output: c.String("output"), Report: c.String("report"), Deploy: deployOptionsFrom(c),
			})
		},
	}
}

// runRollback runs the actions with a decision of fail and the given
// reason. It exits 0 when every action succeeded (the command did what it
// was asked), 4 when one failed.
func runRollback(ctx context.Context, d *deps, opts RollbackOptions) (err error) {
	now := d.now().UTC()
	if err := checkOutput(opts.Output); err != nil {
		return err
	}
	out := newOutput(d, "rollback", opts.Output, opts.Report)
	out.config = opts.Config
	defer func() { out.abort(err, now) }()
	if opts.Reason == "" {
		return &exitError{Code: exitUsage, Err: errors.New("--reason is required: say why the release is rolled back")}
	}
	cfg, err := loadConfig(d, opts.Config, opts.PrometheusURL)
	if err != nil {
		return err
	}
	out.secure(cfg)
	rb := cfg.Rollback
	if len(rb.Command) == 0 && rb.Webhook == nil && rb.GitHub == nil {
		return &exitError{Code: exitUsage, Err: fmt.Errorf("%s: no rollback actions: configure rollback.command, rollback.webhook or rollback.github", opts.Config)}
	}
	dec := &report.Decision{
		Schema: report.Schema, Command: "rollback", Decision: report.Fail, Reason: "rolled back by hand: " + opts.Reason,
		Config: cfg.Source, EvaluatedAt: now, StartedAt: now, SLOs: []report.SLO{},
	}
	deploy := newDeployment(ctx, d, out.platform, opts.Deploy, cfg)
	out.rollback(ctx, dec, rb, opts.DryRun, deploy.reporter())
	dec.FinishedAt = d.now().UTC()
	out.emit(dec)
	for _, a := range dec.Actions {
		if a.Status == rollout.Failed {
			return &exitError{Code: exitActionFailed}
		}
	}
	return &exitError{Code: exitPass}
}
