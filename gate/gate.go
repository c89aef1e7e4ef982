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
	// Every reading of the run is one job; the longest windows go first so
	// that the slowest queries do not start last and stretch the run.
	readings := make([]map[time.Duration]*reading, len(slos))
	results := make([]report.SLO, len(slos))
	errs := make([]error, len(slos))
	var jobs []job
	for i, s := range slos {
		p := provs[s.Provider]
		if p == nil || s.Budgeting == slo.Timeslices {
			jobs = append(jobs, job{window: s.Window + 1, run: func(ctx context.Context) {
				results[i], errs[i] = decideSLO(ctx, s, cfg.Gate, p, at, nil)
			}})
			continue
		}
		readings[i] = map[time.Duration]*reading{}
		for _, w := range windowsOf(s, cfg.Gate) {
			rd := &reading{}
			readings[i][w] = rd
			jobs = append(jobs, job{window: w, run: func(ctx context.Context) {
				rd.c, rd.err = p.Counts(ctx, serviceQuery(s, w), at)
			}})
		}
	}
	runJobs(ctx, jobs, workers(provs))
	for i, s := range slos {
		if readings[i] != nil {
			results[i], errs[i] = decideSLO(ctx, s, cfg.Gate, provs[s.Provider], at, readings[i])
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	d := &report.Decision{Schema: report.Schema, Command: "check", Config: cfg.Source, EvaluatedAt: at, SLOs: results}
	decide(d, opts.Override)
	return d, nil
}

// job is one reading; window orders the jobs, longest first.
type job struct {
	window time.Duration
	run    func(context.Context)
}

// runJobs runs jobs on n workers, longest window first.
func runJobs(ctx context.Context, jobs []job, n int) {
	sort.SliceStable(jobs, func(i, j int) bool { return jobs[i].window > jobs[j].window })
	queue := make(chan job)
	var wg sync.WaitGroup
	for range max(1, min(n, len(jobs))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range queue {
				j.run(ctx)
			}
		}()
	}
	for _, j := range jobs {
		queue <- j
	}
	close(queue)
	wg.Wait()
}

// workers is how many readings run at once: as many as the busiest
// backend allows in flight (each reading may send two queries, which the
// backend's own bound then queues, so it is never idle); the default
// bound when no backend says.
func workers(provs map[string]providers.Provider) int {
	n := 0
	for _, p := range provs {
		if b, ok := p.(providers.InFlight); ok {
			n = max(n, b.MaxInFlight())
		}
	}
	if n == 0 {
		return 10
	}
	return n
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
	var failed, unsure, unmeasured []string
	for _, s := range d.SLOs {
		switch s.Decision {
		case report.Fail:
			failed = append(failed, s.Name+": "+strings.Join(s.Reasons, "; "))
		case report.Inconclusive:
			unsure = append(unsure, s.Name+": "+strings.Join(s.Reasons, "; "))
		case report.Pass:
			// Passed by on_no_data or on_error, not by its figures: the
			// reason must not claim a budget that nobody read.
			if s.SLI == nil || s.Error != "" {
				unmeasured = append(unmeasured, s.Name+": "+strings.Join(s.Reasons, "; "))
			}
		}
	}
	switch {
	case len(failed) > 0:
		d.Decision = report.Fail
		d.Reason = "gate closed: " + strings.Join(failed, " | ")
	case len(unsure) > 0:
		d.Decision = report.Inconclusive
		d.Reason = "gate closed, cannot tell: " + strings.Join(unsure, " | ")
	case len(unmeasured) > 0:
		d.Decision = report.Pass
		d.Reason = "gate open by policy, not by measurement: " + strings.Join(unmeasured, " | ")
		if n := len(d.SLOs) - len(unmeasured); n > 0 {
			d.Reason += fmt.Sprintf(" | %d other SLO(s) within budget and not burning fast", n)
		}
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
