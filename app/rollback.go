package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/rollback"
)

// RollbackOptions are the flags of `sloguard rollback`.
type RollbackOptions struct {
	Config, PrometheusURL string
	Reason                string
	DryRun                bool
	Output, Report        string
	Deploy                DeployOptions
}

// Rollback runs the actions with a decision of fail and the given
// reason. It exits 0 when every action succeeded (the command did what it
// was asked), 4 when one failed.
func Rollback(ctx context.Context, d *App, opts RollbackOptions) (err error) {
	now := d.now().UTC()
	out, err := startOutput(d, "rollback", opts.Output, opts.Report, opts.Config)
	defer func() { out.abort(err, now) }()
	if err != nil {
		return err
	}
	if opts.Reason == "" {
		return &ExitError{Code: ExitUsage, Err: errors.New("--reason is required: say why the release is rolled back")}
	}
	cfg, err := d.Load(opts.Config, opts.PrometheusURL)
	if err != nil {
		return err
	}
	out.secure(cfg)
	rb := cfg.Rollback
	if len(rb.Actions) == 0 {
		keys := rollback.Keys()
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%s: no rollback actions: configure %s or %s", opts.Config, strings.Join(keys[:len(keys)-1], ", "), keys[len(keys)-1])}
	}
	if err := rollbackReady(d, cfg, opts.DryRun); err != nil {
		return err
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
		if a.Status == rollback.Failed {
			return &ExitError{Code: ExitActionFailed}
		}
	}
	return &ExitError{Code: ExitPass}
}
