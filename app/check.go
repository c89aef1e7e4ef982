package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sloguard/sloguard/gate"
	"github.com/sloguard/sloguard/report"
)

// CheckOptions are the flags of `sloguard check`.
type CheckOptions struct {
	Config        string
	PrometheusURL string
	SLOs          []string
	Output        string
	Report        string
	Override      string
	At            time.Time
	Verdict       VerdictOptions
}

// Check loads the config, evaluates the gate and reports the decision.
func Check(ctx context.Context, d *App, opts CheckOptions) (err error) {
	started := d.now().UTC()
	out, err := startOutput(d, "check", opts.Output, opts.Report, opts.Config)
	defer func() { out.abort(err, started) }()
	if err != nil {
		return err
	}
	// A reason of blanks says nothing, yet would open a closed gate.
	if opts.Override != "" && strings.TrimSpace(opts.Override) == "" {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--override %q: the reason is blank: say why the gate may be passed (an incident or change number, who approved), or leave --override out", opts.Override)}
	}
	opts.Override = strings.TrimSpace(opts.Override)
	// A time ahead of the data would read every metric as absent and call
	// it unknown: say what is wrong instead.
	at, err := notFuture("--at", opts.At, d.now(), "check evaluates what has happened: leave --at out to evaluate now")
	if err != nil {
		return err
	}
	cfg, err := d.Load(opts.Config, opts.PrometheusURL)
	if err != nil {
		return err
	}
	out.secure(cfg)
	job, err := d.Select(ctx, cfg, opts.SLOs, nil)
	if err != nil {
		return err
	}
	timeless, err := presentOnlyAt(job, at, d.now())
	if err != nil {
		return err
	}
	dec, err := gate.Check(ctx, cfg, job.Providers, gate.Options{SLOs: opts.SLOs, Override: opts.Override, At: at})
	if err != nil {
		return err
	}
	dec.StartedAt, dec.FinishedAt = started, d.now().UTC()
	for i, s := range dec.SLOs {
		if w, ok := timeless[s.Name]; ok {
			dec.SLOs[i].Warnings = append(dec.SLOs[i].Warnings, w)
			s = dec.SLOs[i]
		}
		for _, w := range s.Warnings {
			d.log.Warn("an SLO's data needs a look", "slo", s.Name, "hint", w)
		}
	}
	v := newVerdict(d, out.platform, opts.Verdict, cfg)
	out.published = func(dec *report.Decision, md []byte) { v.finish(ctx, dec, md) }
	out.emit(dec)
	return &ExitError{Code: decisionCode(dec)}
}
