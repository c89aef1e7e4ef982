package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/sloguard/sloguard/backtest"
	"github.com/sloguard/sloguard/ci"
	"github.com/sloguard/sloguard/preflight"
	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/slo"
)

// BacktestOptions are the flags of `sloguard backtest`.
type BacktestOptions struct {
	Config, PrometheusURL     string
	SLOs                      []string
	From, To                  time.Time
	Every, Duration, Interval time.Duration // zero: the default
	Output, Report            string
}

// Backtest replays the watch policy over the windows and reports them.
// It exits 0 whatever the windows decided: the record is the result.
func Backtest(ctx context.Context, d *App, opts BacktestOptions) (err error) {
	started := d.now().UTC()
	out := newOutput(d, "backtest", validFormat(opts.Output), opts.Report) // CI commands off stdout with -o json
	out.config = opts.Config
	defer func() { backtestFailed(d, out, opts, started, err) }()
	if err := CheckOutput(opts.Output); err != nil {
		return err
	}
	cfg, err := d.Load(opts.Config, opts.PrometheusURL)
	if err != nil {
		return err
	}
	out.secure(cfg)
	platform := out.platform
	if opts.To.After(started) {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--to %s is in the future: windows after now have no data yet", opts.To.Format(time.RFC3339))}
	}
	pol := cfg.Canary
	if opts.Duration > 0 {
		pol.Duration = opts.Duration
	}
	if opts.Interval > 0 {
		pol.Interval = opts.Interval
	}
	job, err := d.Select(ctx, cfg, opts.SLOs, func(slos []slo.SLO) error { return watchable(slos, pol) })
	if err != nil {
		return err
	}
	b := &backtest.Backtest{SLOs: job.SLOs, Providers: job.Providers, Policy: pol, From: opts.From, To: opts.To, Every: opts.Every, Log: d.log}
	if err := b.Check(); err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	// The checks watch runs before it waits, over the whole range: a
	// misspelt metric is exit 2, not a range of passing windows; a label
	// value that matches nothing is a warning naming the closest values,
	// not windows that merely "served no requests".
	from, to := stamp(opts.From), stamp(opts.To)
	warnings, err := preflightRun(ctx, d, job, preflight.Options{At: opts.To.UTC(), Span: opts.To.Sub(opts.From)}, func(scope string) string {
		return fmt.Sprintf("no series for the %s from %s to %s: its labels may be wrong, or it did not run then", scope, from, to)
	})
	if err != nil {
		return err
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
		return &ExitError{Code: ExitInconclusive, Err: err}
	case err != nil:
		return err // a bad query: exit 2
	}
	rec.Config, rec.StartedAt, rec.FinishedAt, rec.Run = cfg.Source, started, d.now().UTC(), platform.Run()
	rec.Warnings = warnings
	out.emitted = true // from here on, the record is this run's
	return emitBacktest(d, platform, opts, rec)
}

// BacktestError records a flag value backtest rejects before it starts,
// as a run that stops later is recorded, and returns err.
func BacktestError(d *App, opts BacktestOptions, err error) error {
	out := newOutput(d, "backtest", validFormat(opts.Output), opts.Report)
	out.config = opts.Config
	backtestFailed(d, out, opts, d.now().UTC(), err)
	return err
}

// backtestFailed handles a backtest that did not run (exit 2: bad input,
// exit 3: the history could not be read), as abort does for the other
// commands: in CI, and with --report, a backtest record with the error,
// no windows and every count 0 replaces whatever record was there, and
// the outputs and the summary say why. A stale --report that cannot be
// replaced is removed. stdout stays empty.
func backtestFailed(d *App, out *output, opts BacktestOptions, started time.Time, err error) {
	var ee *ExitError
	if out.emitted || err == nil || (errors.As(err, &ee) && ee.Err == nil) || !out.wantsRecord() {
		return
	}
	out.emitted = true
	rec := &report.Backtest{
		Schema: report.BacktestSchema, Config: out.config, SLOs: opts.SLOs, From: opts.From.UTC(), To: opts.To.UTC(),
		Error: reasonFor(err), StartedAt: started, FinishedAt: d.now().UTC(), Run: out.platform.Run(),
	}
	for _, f := range []struct {
		into *string
		d    time.Duration
	}{{&rec.Every, opts.Every}, {&rec.Duration, opts.Duration}, {&rec.Interval, opts.Interval}} {
		if f.d > 0 {
			*f.into = slo.FormatDuration(f.d)
		}
	}
	d.redact.Scrub(rec)
	var record, md bytes.Buffer
	if rerr := (report.JSON{}).RenderBacktest(&record, rec); rerr != nil {
		d.log.Warn("cannot render the backtest record", "error", rerr)
		return
	}
	_ = (report.Markdown{}).RenderBacktest(&md, rec)
	var ce *slo.ConfigError
	if !errors.As(err, &ce) { // config problems are annotated on their lines
		ci.AnnotateProblems(d.getenv, d.cmdErr, "sloguard backtest", []ci.Problem{{Msg: rec.Error}})
	}
	path := out.writeRecord(d.redact.Bytes(record.Bytes()))
	outputs := [][2]string{{"windows", "0"}, {"fail", "0"}, {"pass", "0"}, {"inconclusive", "0"}}
	if perr := ci.PublishSummary(out.platform, outputs, path, d.redact.Bytes(md.Bytes())); perr != nil {
		d.log.Warn("cannot publish everything to the CI platform", "error", perr)
	}
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// emitBacktest renders everything first, writes the record (atomically),
// prints stdout once, then publishes to the CI platform.
func emitBacktest(d *App, platform ci.Platform, opts BacktestOptions, rec *report.Backtest) error {
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
			return &ExitError{Code: ExitUsage, Err: fmt.Errorf("write report: %w", err)}
		}
	}
	if _, err := io.Copy(d.stdout, &stdout); err != nil {
		return err
	}
	outputs := [][2]string{
		{"windows", strconv.Itoa(rec.Windows)}, {"fail", strconv.Itoa(rec.Decisions.Fail)},
		{"pass", strconv.Itoa(rec.Decisions.Pass)}, {"inconclusive", strconv.Itoa(rec.Decisions.Inconclusive)},
	}
	return ci.PublishSummary(platform, outputs, reportOutput(d.getenv, path), md.Bytes())
}
