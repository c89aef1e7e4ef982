package main

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/sloguard/sloguard/ci"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/slo"
)

func validateCommand(d *deps) *cli.Command {
	return &cli.Command{
		Name:  "validate",
		Usage: "lint the config; with --online also run every query once",
		Flags: []cli.Flag{
			configFlag(), prometheusURLFlag(),
			&cli.BoolFlag{Name: "online", Usage: "run each SLO's queries once against its backend", EnvVars: env("online")},
		},
		Action: func(c *cli.Context) error {
			return runValidate(c.Context, d, c.String("config"), c.String("prometheus-url"), c.Bool("online"))
		},
	}
}

func runValidate(ctx context.Context, d *deps, path, promURL string, online bool) error {
	cfg, err := slo.Load(path, slo.Options{PrometheusURL: promURL})
	if err != nil {
		return err
	}
	// --online talks to backends with the config's credentials: have the
	// runner mask them before anything else is printed.
	addSecrets(d.redact, cfg, d.getenv)
	ci.New(d.getenv, d.cmdOut, d.rawOut).Mask(d.redact.Masks())
	fmt.Fprintf(d.stdout, "%s: valid %s config: %d SLO(s), %d provider(s)\n", path, cfg.Format, len(cfg.SLOs), len(cfg.Providers))
	for _, line := range watchNotes(cfg) {
		fmt.Fprintln(d.stdout, line)
	}
	if !online {
		return nil
	}
	provs, err := newProviders(ctx, cfg, cfg.SLOs, d.getenv, d.log)
	if err != nil {
		return err
	}
	at := d.now().UTC()
	type result struct {
		c   providers.Counts
		err error
	}
	results := make([]result, len(cfg.SLOs))
	var wg sync.WaitGroup
	for i, s := range cfg.SLOs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := providers.Query{SLO: s.Name, SLI: s.SLI, Scope: providers.Scope{Name: providers.ScopeService}, Window: s.Window}
			if s.Budgeting == slo.Timeslices {
				q.Window = s.Timeslice.Window
			}
			results[i].c, results[i].err = provs[s.Provider].Counts(ctx, q, at)
		}()
	}
	wg.Wait()
	var bad, down int
	for i, s := range cfg.SLOs {
		r := results[i]
		switch {
		case r.err == nil:
			fmt.Fprintf(d.stdout, "ok    %s: %g events, queries: %q\n", s.Name, r.c.Total, r.c.Resolved)
		case errors.Is(r.err, providers.ErrNoData):
			fmt.Fprintf(d.stdout, "empty %s: %v (no traffic, or a selector that matches nothing)\n", s.Name, r.err)
		case errors.Is(r.err, providers.ErrBadQuery):
			bad++
			fmt.Fprintf(d.stdout, "error %s: %v\n", s.Name, r.err)
		default:
			down++
			fmt.Fprintf(d.stdout, "down  %s: %v\n", s.Name, r.err)
		}
	}
	switch {
	case bad > 0:
		return &exitError{Code: exitUsage, Err: fmt.Errorf("%d SLO(s) have queries that fail", bad)}
	case down > 0:
		return &exitError{Code: exitInconclusive, Err: fmt.Errorf("%d SLO(s) could not be read: backend unreachable", down)}
	}
	return nil
}
