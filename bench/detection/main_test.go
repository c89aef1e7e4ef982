package main

import (
	"bytes"
	"math"
	"regexp"
	"strings"
	"testing"
)

func TestTheMedianCountsRunsNotRolledBackAsTheWindowEnd(t *testing.T) {
	os := []outcome{{verdict: "rollback", at: 30}, {verdict: "pass"}, {verdict: "inconclusive"}, {verdict: "rollback", at: 60}, {verdict: "pass"}}
	got := count(os)
	if got.rollbacks != 2 || got.passes != 2 || got.unsure != 1 || got.medianTTR != window {
		t.Errorf("tally %+v, want 2 rollbacks, 2 passes, 1 inconclusive, median %d s", got, window)
	}
	if got := count(os[:4]); got.medianTTR != 60 {
		t.Errorf("median of 30, 600, 600, 60 = %g, want the lower middle 60", got.medianTTR)
	}
}

func TestWilsonIntervals(t *testing.T) {
	for _, c := range []struct {
		k, n   int
		lo, hi float64
	}{{0, 3000, 0, 0.00128}, {15, 3000, 0.00303, 0.00823}, {1500, 3000, 0.4821, 0.5179}} {
		lo, hi := wilson(c.k, c.n)
		if math.Abs(lo-c.lo) > 1e-4 || math.Abs(hi-c.hi) > 1e-4 {
			t.Errorf("wilson(%d, %d) = [%.5f, %.5f], want [%.5f, %.5f]", c.k, c.n, lo, hi, c.lo, c.hi)
		}
	}
}

func TestTheTuningSeedIsNeverReported(t *testing.T) {
	if _, err := parse([]string{"-seeds", "1,1000"}); err == nil || !strings.Contains(err.Error(), "tuning seed") {
		t.Errorf("parse = %v, want the tuning seed refused", err)
	}
	p, err := parse([]string{"-runs", "5", "-seeds", "4,5", "-tune-seed", "9"})
	if err != nil || p.runs != 5 || len(p.seeds) != 2 || p.tuneSeed != 9 {
		t.Errorf("parse = %+v, %v", p, err)
	}
}

// TestTheBenchmarkReportsItsTargets runs two cells briefly: the table and
// the targets are printed, and the same seeds give the same figures.
func TestTheBenchmarkReportsItsTargets(t *testing.T) {
	p := params{runs: 40, seeds: []uint64{1, 2, 3}, tuneSeed: 1000, workers: 2, only: regexp.MustCompile(`^Poisson errors 200 rps, 10 % canary, [15]×, 5s$`)}
	var a, b bytes.Buffer
	bench(&a, p)
	bench(&b, p)
	out := a.String()
	for _, want := range []string{"## Poisson errors", "200 rps, 10 % canary, 5×, 5s", "oracle SPRT (knows r)", "sloguard before #9",
		"## Targets (sloguard, default config)", "false rollbacks ≤ 1 % in every healthy cell", "rates pool all 120 runs"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	strip := regexp.MustCompile(`Took .*`)
	if strip.ReplaceAllString(out, "") != strip.ReplaceAllString(b.String(), "") {
		t.Error("two runs with the same seeds printed different figures")
	}
}
