package main

import (
	"context"
	"time"

	"github.com/urfave/cli/v2"

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
	Verdict       verdictOptions
}

func checkCommand(d *deps) *cli.Command {
	return &cli.Command{
		Name:  "check",
		Usage: "gate a release on error budget and burn rates",
		Flags: append([]cli.Flag{
			configFlag(), prometheusURLFlag(), sloFlag(), outputFlag(), reportFlag(),
			&cli.StringFlag{Name: "override", Usage: "let a closed gate pass, recording this `REASON` (decision: overridden, exit 0)", EnvVars: env("override")},
			&cli.StringFlag{Name: "at", Usage: "evaluate as of this RFC 3339 `TIME` instead of now (replays, audits)", EnvVars: env("at")},
		}, verdictFlags()...),
		Action: func(c *cli.Context) error {
			opts := CheckOptions{
				Config: c.String("config"), PrometheusURL: c.String("prometheus-url"), SLOs: c.StringSlice("slo"),
				Output: c.String("output"), Report: c.String("report"), Override: c.String("override"),
				Verdict: verdictOptionsFrom(c),
			}
			at, err := parseAt(c.String("at"), d.now)
			if err != nil {
				return flagError(d, "check", opts.Output, opts.Report, opts.Config, err)
			}
			opts.At = at
			return runCheck(c.Context, d, opts)
		},
	}
}

func parseAt(s string, now func() time.Time) (time.Time, error) {
	if s == "" {
		return now().UTC().Truncate(time.Second), nil
	}
	return parseTime("at", s)
}

// runCheck loads the config, evaluates the gate and reports the decision.
func runCheck(ctx context.Context, d *deps, opts CheckOptions) (err error) {
	started := d.now().UTC()
	if err := checkOutput(opts.Output); err != nil {
		return err
	}
	out := newOutput(d, "check", opts.Output, opts.Report)
	out.config = opts.Config
	defer func() { out.abort(err, started) }()
	cfg, err := loadConfig(d, opts.Config, opts.PrometheusURL)
	if err != nil {
		return err
	}
	out.secure(cfg)
	slos, err := gate.Select(cfg.SLOs, opts.SLOs)
	if err != nil {
		return err
	}
	provs, err := newProviders(ctx, d, cfg, slos, d.log)
	if err != nil {
		return err
	}
	dec, err := gate.Check(ctx, cfg, provs, gate.Options{SLOs: opts.SLOs, Override: opts.Override, At: opts.At})
	if err != nil {
		return err
	}
	dec.StartedAt, dec.FinishedAt = started, d.now().UTC()
	for _, s := range dec.SLOs {
		for _, w := range s.Warnings {
			d.log.Warn("an SLO's query matches no series: check its labels", "slo", s.Name, "hint", w)
		}
	}
	v := newVerdict(d, out.platform, opts.Verdict, cfg)
	out.published = func(dec *report.Decision, md []byte) { v.finish(ctx, dec, md) }
	out.emit(dec)
	return &exitError{Code: decisionCode(dec)}
}
