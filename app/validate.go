package app

import (
	"context"
	"fmt"

	"github.com/sloguard/sloguard/ci"
	"github.com/sloguard/sloguard/preflight"
	"github.com/sloguard/sloguard/providers"
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
		return err
	}
	if _, err := serve.ParseConfig(cfg); err != nil {
		return err
	}
	// --online talks to backends with the config's credentials: have the
	// runner mask them (Load told the redaction layer) before anything
	// else is printed.
	ci.New(d.getenv, d.cmdOut, d.rawOut).Mask(d.redact.Masks())
	if err := preflight.Offline(ctx, cfg, cfg.SLOs, d.backends, providerEnv(d, cfg, d.log)); err != nil {
		return err
	}
	fmt.Fprintf(d.stdout, "%s: valid %s config: %d SLO(s), %d provider(s)\n", path, cfg.Format, len(cfg.SLOs), len(cfg.Providers))
	for _, line := range watchNotes(d, cfg) {
		fmt.Fprintln(d.stdout, line)
	}
	if !online {
		return nil
	}
	job, err := d.Select(ctx, cfg, nil, nil)
	if err != nil {
		return err
	}
	var bad, down int
	for _, r := range preflight.Online(ctx, cfg, d.backends, cfg.SLOs, job.Providers, preflight.Options{At: d.now().UTC(), Service: true}) {
		name := r.SLO
		if r.Scope != providers.ScopeService {
			name += " (" + r.Scope + ")"
		}
		switch r.Status() {
		case "ok":
			fmt.Fprintf(d.stdout, "ok    %s: %g events, queries: %q\n", name, r.Counts.Total, r.Counts.Resolved)
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

// emptyLine says what an empty reading means: for the service, no traffic
// or a selector that matches nothing (on_no_data decides); for the canary
// or the baseline, a warning that the track may not be deployed yet.
func emptyLine(name string, r preflight.Reading) string {
	why := ""
	if r.Hint() == "" {
		why = " (no traffic, or a selector that matches nothing)"
	}
	if r.Scope == providers.ScopeService {
		return fmt.Sprintf("empty %s: %v%s", name, r.Err, why)
	}
	return fmt.Sprintf("warn  %s: no series for the %s in the last %s: it may not be deployed yet: %v%s",
		name, r.Scope, slo.FormatDuration(r.Window), r.Err, why)
}
