// Command detection replays the same seeded canary traffic through
// sloguard's sequential test, an oracle that knows the truth, and the
// rules of Argo Rollouts, Flagger and a Kayenta-like judge, and prints how
// often and how fast each one rolls back healthy and faulty canaries, on
// Poisson and bursty errors, during incidents, under traffic ramps, and
// for threshold SLIs. Every figure in the README's "Detection benchmark"
// and in docs/statistics.md comes from its output.
//
//	go run ./bench/detection [-runs 1000] [-seeds 1,2,3] [-tune-seed 1000] [-workers N] [-only REGEXP]
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"
)

type params struct {
	runs     int
	seeds    []uint64
	tuneSeed uint64
	workers  int
	only     *regexp.Regexp
}

func main() {
	p, err := parse(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "detection:", err)
		os.Exit(2)
	}
	bench(os.Stdout, p)
}

// parse reads the flags.
func parse(args []string) (params, error) {
	p := params{}
	var seeds, only string
	fs := flag.NewFlagSet("detection", flag.ContinueOnError)
	fs.IntVar(&p.runs, "runs", 1000, "simulated canaries per cell and seed")
	fs.StringVar(&seeds, "seeds", "1,2,3", "seeds reported (rates pool their runs)")
	fs.Uint64Var(&p.tuneSeed, "tune-seed", 1000, "seed of the healthy runs the peers' thresholds are tuned on (not reported)")
	fs.IntVar(&p.workers, "workers", runtime.NumCPU(), "cells simulated in parallel")
	fs.StringVar(&only, "only", "", "run only the cells whose section and name match this regular expression")
	if err := fs.Parse(args); err != nil {
		return p, err
	}
	for _, s := range strings.Split(seeds, ",") {
		v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return p, fmt.Errorf("-seeds: %q is not a seed", s)
		}
		if v == p.tuneSeed {
			return p, fmt.Errorf("-seeds: %d is the tuning seed: the peers must be tuned on runs that are not reported", v)
		}
		p.seeds = append(p.seeds, v)
	}
	if p.runs < 1 {
		return p, fmt.Errorf("-runs must be at least 1")
	}
	if only != "" {
		re, err := regexp.Compile(only)
		if err != nil {
			return p, fmt.Errorf("-only: %w", err)
		}
		p.only = re
	}
	return p, nil
}

func bench(w io.Writer, p params) {
	began := time.Now()
	peers := tunePeers(p)
	cells := eventCells(peers)
	var run []*cell
	for _, c := range cells {
		if p.only == nil || p.only.MatchString(c.section+" "+c.label) {
			run = append(run, c)
		}
	}
	simulate(p, run)

	fmt.Fprintf(w, "Detection benchmark: %d runs per cell and seed, seeds %s (rates pool all %d runs; [95 %% Wilson interval]).\n",
		p.runs, joinSeeds(p.seeds), p.runs*len(p.seeds))
	fmt.Fprintf(w, "Traffic: canary %.0f %% of the total unless said, baseline error ratio %.2f %% = the SLO's budget (99.9 %%), window %s.\n",
		100*defaultShare, 100*p0, time.Duration(window)*time.Second)
	fmt.Fprintf(w, "sloguard: the default config (max_false_rollback 0.01, power 0.95, breach_burn_rate 3, relative_tolerance 1.5, breach_relative 3,\n")
	fmt.Fprintf(w, "  on_baseline_breach inconclusive, with a baseline), the dispersion estimated from %d slices of %d s of the baseline's history.\n", histSlices, histStep)
	fmt.Fprintf(w, "Peers tuned on %d healthy runs of seed %d at 200 rps (lowest threshold with ≤ 1 %% false rollbacks): argo >%.2f %% (failureLimit 0), >%.2f %% (failureLimit 1), flagger max %.2f %%.\n",
		p.runs, p.tuneSeed, 100*peers.argo0, 100*peers.argo1, 100*peers.flagger)
	fmt.Fprintf(w, "TTR: median time to rollback over all runs, a run not rolled back counting as the window's end (%d s).\n", window)
	fmt.Fprintf(w, "× oracle: sloguard's median TTR over the oracle's, a one-sided test that knows the true error ratio (and dispersion).\n")
	printCells(w, run)
	if p.only == nil || p.only.MatchString("threshold") {
		printThreshold(w, p)
	}
	printTargets(w, run)
	fmt.Fprintf(w, "\nTook %s with %d workers.\n", time.Since(began).Round(time.Second), p.workers)
}

func joinSeeds(s []uint64) string {
	var out []string
	for _, v := range s {
		out = append(out, strconv.FormatUint(v, 10))
	}
	return strings.Join(out, ",")
}
