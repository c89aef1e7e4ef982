package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/sloguard/sloguard/backtest"
	"github.com/sloguard/sloguard/ci"
	"github.com/sloguard/sloguard/report"
)

// BacktestOptions are the flags of `sloguard backtest`.
type BacktestOptions struct {
	Config, PrometheusURL     string
	SLOs                      []string
	From, To                  time.Time
	Every, Duration, Interval time.Duration // zero: the default
	Output, Report            string
}

func backtestCommand(d *deps) *cli.Command {
	return &cli.Command{
		Name:  "backtest",
		Usage: "replay the watch policy over past windows of your history: what watch would have decided, no action run",
		Flags: []cli.Flag{
			configFlag(), prometheusURLFlag(), sloFlag(),
			&cli.StringFlag{Name: "from", Usage: "start of the first window: an RFC 3339 `TIME`", EnvVars: env("from")},
			&cli.StringFlag{Name: "to", Usage: "no window ends after this RFC 3339 `TIME`", EnvVars: env("to")},
			durationFlag("every", "time between window starts", "the watch duration"),
			durationFlag("duration", "each window's length (the watch duration)", "canary.duration, else 10m"),
			durationFlag("interval", "how often each window is evaluated", "canary.interval, else 30s"),
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "text", Usage: "stdout format: text, json (the backtest record, nothing else) or markdown", EnvVars: env("output")},
			&cli.StringFlag{Name: "report", Usage: "also write the JSON backtest record to `FILE` (atomically)", EnvVars: env("report")},
		},
		Action: func(c *cli.Context) error {
			opts := BacktestOptions{
				Config: c.String("config"), PrometheusURL: c.String("prometheus-url"), SLOs: c.StringSlice("slo"),
				Output: c.String("output"), Report: c.String("report"),
			}
			var err error
			if opts.From, err = parseTime("from", c.String("from")); err != nil {
				return err
			}
			if opts.To, err = parseTime("to", c.String("to")); err != nil {
				return err
			}
			for _, f := range []struct {
				name string
				into *time.Duration
			}{{"every", &opts.Every}, {"duration", &opts.Duration}, {"interval", &opts.Interval}} {
				if c.IsSet(f.name) {
					if *f.into = flagDuration(c, f.name); *f.into <= 0 {
						return &exitError{Code: exitUsage, Err: fmt.Errorf("--%s %s: must be longer than zero", f.name, *f.into)}
					}
				}
			}
			return runBacktest(c.Context, d, opts)
		},
	}
}

// parseTime reads a required RFC 3339 flag, in UTC.
func parseTime(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, &exitError{Code: exitUsage, Err: fmt.Errorf("--%s is required: an RFC 3339 time such as 2026-11-23T17:00:00Z", flag)}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, &exitError{Code: exitUsage, Err: fmt.Errorf("--%s %q: want an RFC 3339 time such as 2026-11-23T17:00:00Z", flag, s)}
	}
	return t.UTC(), nil
}

// runBacktest replays the watch policy over the windows and reports them.
// It exits 0 whatever the windows decided: the record is the result.
func runBacktest(ctx context.Context, d *deps, opts BacktestOptions) error {
	started := d.now().UTC()
	if err := checkOutput(opts.Output); err != nil {
		return err
	}
	cfg, err := loadConfig(d, opts.Config, opts.PrometheusURL)
	if err != nil {
		return err
	}
	out := newOutput(d, "backtest", opts.Output, opts.Report) // CI commands off stdout with -o json
	out.secure(cfg)
	platform := out.platform
	if opts.To.After(started) {
		return &exitError{Code: exitUsage, Err: fmt.Errorf("--to %s is in the future: windows after now have no data yet", opts.To.Format(time.RFC3339))}
	}
	pol := cfg.Canary
	if opts.Duration > 0 {
		pol.Duration = opts.Duration
	}
	if opts.Interval > 0 {
		pol.Interval = opts.Interval
	}
	slos, provs, err := canaryTargets(ctx, d, cfg, opts.SLOs, pol)
	if err != nil {
		return err
	}
	b := &backtest.Backtest{SLOs: slos, Providers: provs, Policy: pol, From: opts.From, To: opts.To, Every: opts.Every, Log: d.log}
	if err := b.Check(); err != nil {
		return &exitError{Code: exitUsage, Err: err}
	}
	if ci.IsTerminal(d.stderr) && platform.Name() == "local" {
		progress := ci.NewProgress(d.stderr, true)
		b.Progress = func(done, total int) {
			if done%50 == 0 || done == total {
				progress.Show([]string{fmt.Sprintf("backtest: %d of %d windows", done, total)})
			}
		}
		defer progress.Done()
	}
	rec, err := b.Run(ctx)
	var readErr *backtest.ReadError
	switch {
	case errors.As(err, &readErr), errors.Is(err, backtest.ErrInterrupted):
		return &exitError{Code: exitInconclusive, Err: err}
	case err != nil:
		return err // a bad query: exit 2
	}
	rec.Config, rec.StartedAt, rec.FinishedAt, rec.Run = cfg.Source, started, d.now().UTC(), platform.Run()
	return emitBacktest(d, platform, opts, rec)
}

// emitBacktest renders everything first, writes the record (atomically),
// prints stdout once, then publishes to the CI platform.
func emitBacktest(d *deps, platform ci.Platform, opts BacktestOptions, rec *report.Backtest) error {
	renderers := map[string]report.BacktestRenderer{"text": report.Text{}, "json": report.JSON{}, "markdown": report.Markdown{}}
	d.redact.Scrub(rec) // the one redaction layer, as for a decision
	var record, md, stdout bytes.Buffer
	if err := (report.JSON{}).RenderBacktest(&record, rec); err != nil {
		return err
	}
	if err := (report.Markdown{}).RenderBacktest(&md, rec); err != nil {
		return err
	}
	if err := renderers[opts.Output].RenderBacktest(&stdout, rec); err != nil {
		return err
	}
	path := opts.Report
	if path == "" && platform.Name() != "local" {
		path = ci.ReportPath("", d.getenv)
	}
	if path != "" {
		if err := ci.WriteFile(path, record.Bytes()); err != nil {
			return &exitError{Code: exitUsage, Err: fmt.Errorf("write report: %w", err)}
		}
	}
	if _, err := io.Copy(d.stdout, &stdout); err != nil {
		return err
	}
	outputs := [][2]string{
		{"windows", strconv.Itoa(rec.Windows)}, {"fail", strconv.Itoa(rec.Decisions.Fail)},
		{"pass", strconv.Itoa(rec.Decisions.Pass)}, {"inconclusive", strconv.Itoa(rec.Decisions.Inconclusive)},
	}
	return ci.PublishSummary(platform, outputs, path, md.Bytes())
}
