package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sloguard/sloguard/ci"
	"github.com/sloguard/sloguard/preflight"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/rollback"
	"github.com/sloguard/sloguard/serve"
	"github.com/sloguard/sloguard/slo"
)

// Validate checks the file, then every query offline (parsed, windowed
// and scoped as check and watch send them, static values read as check
// reads them), then with --online runs them once and explains what came
// back empty.
func Validate(ctx context.Context, d *App, path, promURL string, online bool) error {
	cfg, err := d.Load(path, promURL)
	if err != nil {
		return offlineToo(ctx, d, err)
	}
	// --online talks to backends with the config's credentials: have the
	// runner mask them (Load told the redaction layer) before anything
	// else is printed.
	ci.New(d.getenv, d.cmdOut, d.rawOut).Mask(d.redact.Masks())
	err = offline(ctx, d, cfg)
	// Offline, a missing rollback variable is a warning: a pull request's
	// lint has no deploy secrets. --online runs where the watch runs: there
	// it is a problem, reported with the online reads' results in one run.
	var unready []slo.Problem
	if ps := rollbackProblems(d, cfg); online {
		unready = ps
	} else {
		for _, p := range ps {
			ci.Warn(d.getenv, d.cmdErr, "sloguard validate", p.Error()+" (validate --online, watch and rollback stop on it)")
		}
	}
	if err != nil {
		return withProblems(cfg, err, unready)
	}
	if len(unready) == 0 {
		fmt.Fprintf(d.stdout, "%s: valid %s config: %d SLO(s), %d provider(s)\n", path, cfg.Format, len(cfg.SLOs), len(cfg.Providers))
		for _, line := range watchNotes(d, cfg) {
			fmt.Fprintln(d.stdout, line)
		}
	}
	if !online {
		return nil
	}
	job, err := d.Select(ctx, cfg, nil, nil)
	if err != nil {
		return withProblems(cfg, err, unready)
	}
	readErr := readOnline(ctx, d, cfg, job)
	if len(unready) == 0 {
		return readErr
	}
	if readErr != nil { // said here: the config's problems are the error
		fmt.Fprintf(d.stderr, "sloguard: %v\n", readErr)
	}
	return cfg.Errors(unready)
}

// readOnline runs every query once, prints what came back, and says
// which failed: a query (exit 2), a backend (exit 3).
func readOnline(ctx context.Context, d *App, cfg *slo.Config, job *Job) error {
	var bad, down int
	for _, r := range preflight.Online(ctx, cfg, d.backends, cfg.SLOs, job.Providers, preflight.Options{At: d.now().UTC(), Service: true}) {
		name := r.SLO
		if r.Scope != providers.ScopeService {
			name += " (" + r.Scope + ")"
		}
		switch r.Status() {
		case "ok":
			fmt.Fprintf(d.stdout, "ok    %s: %.0f events, queries: %q\n", name, r.Counts.Total, r.Counts.Resolved)
		case "empty":
			fmt.Fprintf(d.stdout, "%s\n", emptyLine(name, r))
		case "error":
			bad++
			fmt.Fprintf(d.stdout, "error %s: %v\n", name, r.Err)
		default:
			down++
			fmt.Fprintf(d.stdout, "down  %s: %v\n", name, r.Err)
		}
	}
	switch {
	case bad > 0:
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%d query(ies) fail: fix them before check or watch runs", bad)}
	case down > 0:
		return &ExitError{Code: ExitInconclusive, Err: fmt.Errorf("%d reading(s) failed: backend unreachable", down)}
	}
	return nil
}

// offline runs every check that sends nothing: the serve: block, then
// every query as check and watch send it. All their problems come back in
// one *slo.ConfigError.
func offline(ctx context.Context, d *App, cfg *slo.Config) error {
	var ps []slo.Problem
	_, serveErr := serve.ParseConfig(cfg)
	for _, err := range []error{serveErr, preflight.Offline(ctx, cfg, cfg.SLOs, d.backends, providerEnv(d, cfg, d.log))} {
		var ce *slo.ConfigError
		switch {
		case errors.As(err, &ce):
			ps = append(ps, ce.Problems...)
		case err != nil:
			return err
		}
	}
	return cfg.Errors(ps)
}

// withProblems adds ps to the problems of err (a *slo.ConfigError, or
// nil), so that one run reports them all; another error stands alone.
func withProblems(cfg *slo.Config, err error, ps []slo.Problem) error {
	var ce *slo.ConfigError
	switch {
	case errors.As(err, &ce):
		return cfg.Errors(append(append([]slo.Problem(nil), ce.Problems...), ps...))
	case err != nil:
		return err
	}
	return cfg.Errors(ps)
}

// rollbackProblems are the variables the rollback actions need and lack,
// at the actions' lines. Offline they are warnings: validate is also the
// lint of a pull request, run without the deploy's secrets. --online runs
// where the watch runs, with its secrets: there they are problems, as they
// are for watch and rollback.
func rollbackProblems(d *App, cfg *slo.Config) []slo.Problem {
	var ps []slo.Problem
	for _, nr := range rollback.NotReadies(rollback.Ready(cfg.Rollback, d.getenv)) {
		if !cfg.Flawed(nr.Key) {
			ps = append(ps, cfg.Problem(nr.Key, "%v: %s", nr.Err, fixFor(nr)))
		}
	}
	return ps
}

// offlineToo adds to a file's problems those the offline checks find in
// the rest of it, so that one run reports every problem: a config that
// loaded with problems (a native file whose values, not its YAML, are
// wrong) is checked as far as its sound parts go.
func offlineToo(ctx context.Context, d *App, err error) error {
	var ce *slo.ConfigError
	if !errors.As(err, &ce) || ce.Partial == nil {
		return err
	}
	var more *slo.ConfigError
	if !errors.As(offline(ctx, d, ce.Partial), &more) {
		return err
	}
	seen := map[slo.Problem]bool{}
	var all []slo.Problem
	for _, p := range append(append([]slo.Problem(nil), ce.Problems...), more.Problems...) {
		if !seen[p] {
			seen[p] = true
			all = append(all, p)
		}
	}
	return ce.Partial.Errors(all)
}

// emptyLine says what an empty reading means: for the service, no traffic
// or a selector that matches nothing (on_no_data decides); for the canary
// or the baseline, a warning that the track may not be deployed yet.
func emptyLine(name string, r preflight.Reading) string {
	why := ""
	// Said once: the backend's own error may say it already.
	if r.Hint() == "" && !strings.Contains(r.Err.Error(), "a selector that matches nothing") {
		why = " (no traffic, or a selector that matches nothing)"
	}
	if r.Scope == providers.ScopeService {
		return fmt.Sprintf("empty %s: %v%s", name, r.Err, why)
	}
	return fmt.Sprintf("warn  %s: no series for the %s in the last %s: it may not be deployed yet: %v%s",
		name, r.Scope, slo.FormatDuration(r.Window), r.Err, why)
}
