// Package gate implements `check`: it reads each SLO through its provider,
// computes budget and burn rates, and applies the gate policy.
package gate

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/slo"
)

// Options are what a run of check asks for beyond the config.
type Options struct {
	SLOs     []string  // only these SLOs; all when empty
	Override string    // let a closed gate pass, for this reason
	At       time.Time // the evaluation time shared by every query
}

// Check evaluates the config's SLOs and returns the decision record. It
// returns an error only when nothing sensible can be decided: an unknown
// SLO name or a query that is itself wrong (providers.ErrBadQuery).
func Check(ctx context.Context, cfg *slo.Config, provs map[string]providers.Provider, opts Options) (*report.Decision, error) {
	slos, err := Select(cfg.SLOs, opts.SLOs)
	if err != nil {
		return nil, err
	}
	at := opts.At
	results := make([]report.SLO, len(slos))
	errs := make([]error, len(slos))
	var wg sync.WaitGroup
	for i, s := range slos {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = evaluate(ctx, s, cfg.Gate, provs[s.Provider], at)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	d := &report.Decision{Schema: report.Schema, Command: "check", Config: cfg.Source, EvaluatedAt: at, SLOs: results}
	decide(d, opts.Override)
	return d, nil
}

// Select picks the named SLOs, in config order.
func Select(all []slo.SLO, names []string) ([]slo.SLO, error) {
	if len(names) == 0 {
		return all, nil
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []slo.SLO
	for _, s := range all {
		if want[s.Name] {
			out = append(out, s)
			delete(want, s.Name)
		}
	}
	if len(want) > 0 {
		var missing, known []string
		for n := range want {
			missing = append(missing, n)
		}
		for _, s := range all {
			known = append(known, s.Name)
		}
		sort.Strings(missing)
		return nil, &UnknownSLOError{Names: missing, Known: known}
	}
	return out, nil
}

// UnknownSLOError is a --slo that names no SLO of the config.
type UnknownSLOError struct{ Names, Known []string }

func (e *UnknownSLOError) Error() string {
	return fmt.Sprintf("--slo %s: no such SLO in the config; it has %s", strings.Join(e.Names, ", "), strings.Join(e.Known, ", "))
}

// decide sets the overall decision and reason from the SLOs' verdicts.
func decide(d *report.Decision, override string) {
	var failed, unsure []string
	for _, s := range d.SLOs {
		switch s.Decision {
		case report.Fail:
			failed = append(failed, s.Name+": "+strings.Join(s.Reasons, "; "))
		case report.Inconclusive:
			unsure = append(unsure, s.Name+": "+strings.Join(s.Reasons, "; "))
		}
	}
	switch {
	case len(failed) > 0:
		d.Decision = report.Fail
		d.Reason = "gate closed: " + strings.Join(failed, " | ")
	case len(unsure) > 0:
		d.Decision = report.Inconclusive
		d.Reason = "gate closed, cannot tell: " + strings.Join(unsure, " | ")
	default:
		d.Decision = report.Pass
		d.Reason = fmt.Sprintf("gate open: %d SLO(s) within budget and not burning fast", len(d.SLOs))
	}
	if override != "" && d.Decision != report.Pass {
		d.Reason = fmt.Sprintf("overridden (%s) — %s", override, d.Reason)
		d.Decision = report.Overridden
		d.Override = override
	}
}
