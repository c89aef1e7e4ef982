// Command detection replays the same seeded canary traffic through
// sloguard's sequential test and through the rules of Argo Rollouts,
// Flagger and a Kayenta-like judge, and prints how often and how fast
// each one rolls back healthy and faulty canaries.
//
//	go run ./bench/detection [-runs 1000] [-seed 1]
package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sloguard/sloguard/internal/sim"
	"github.com/sloguard/sloguard/rollout"
)

type params struct {
	runs        int
	seed        uint64
	rps         []float64
	faults      []float64
	canaryShare float64
	baseError   float64
	objective   float64
	window      time.Duration
	interval    time.Duration
	alpha       float64
	power       float64

	offsetObjective, offsetBaseError float64 // the no-split rows (offset.go)
}

func main() {
	p := params{}
	var rps, faults string
	flag.IntVar(&p.runs, "runs", 1000, "simulated canaries per cell")
	flag.Uint64Var(&p.seed, "seed", 1, "random seed")
	flag.StringVar(&rps, "rps", "200,20", "total requests per second, canary and baseline together (first: where peers are tuned)")
	flag.StringVar(&faults, "faults", "1,2,5,10", "canary error ratio as a multiple of the baseline's (1 = healthy)")
	flag.Float64Var(&p.canaryShare, "canary-share", 0.1, "share of traffic on the canary")
	flag.Float64Var(&p.baseError, "base-error", 0.001, "baseline error ratio")
	flag.Float64Var(&p.objective, "objective", 99.9, "SLO objective in percent")
	flag.DurationVar(&p.window, "window", 10*time.Minute, "canary watch duration")
	flag.DurationVar(&p.interval, "interval", 5*time.Second, "sloguard's evaluation interval")
	flag.Float64Var(&p.alpha, "max-false-rollback", 0.01, "sloguard's max_false_rollback")
	flag.Float64Var(&p.power, "power", 0.95, "sloguard's power")
	flag.Float64Var(&p.offsetObjective, "offset-objective", 99, "no-split rows: SLO objective in percent")
	flag.Float64Var(&p.offsetBaseError, "offset-base-error", 0.0015, "no-split rows: error ratio before the deploy")
	flag.Parse()
	var err error
	if p.rps, err = floats(rps); err == nil {
		p.faults, err = floats(faults)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "detection:", err)
		os.Exit(2)
	}
	bench(os.Stdout, p)
	offsetBench(os.Stdout, p)
}

func floats(s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", f)
		}
		out = append(out, v)
	}
	return out, nil
}

// simulate draws one canary run.
func simulate(rng *rand.Rand, p params, rps, fault float64) run {
	n := int(p.window.Seconds())
	canary := sim.Track{RPS: rps * p.canaryShare, ErrorRatio: p.baseError * fault}
	base := sim.Track{RPS: rps * (1 - p.canaryShare), ErrorRatio: p.baseError}
	r := run{canaryBad: make([]int, n), canaryTotal: make([]int, n), baseBad: make([]int, n), baseTotal: make([]int, n)}
	for i := range n {
		r.canaryBad[i], r.canaryTotal[i] = canary.Second(rng)
		r.baseBad[i], r.baseTotal[i] = base.Second(rng)
	}
	return r
}

func runs(p params, rps, fault float64, stream uint64) []run {
	rng := rand.New(rand.NewPCG(p.seed, stream))
	out := make([]run, p.runs)
	for i := range out {
		out[i] = simulate(rng, p, rps, fault)
	}
	return out
}

// tune finds the lowest threshold whose false-rollback rate on healthy runs
// stays at or below 1 %, as a user tuning a peer once would.
func tune(healthy []run, make func(th float64) rule) float64 {
	for th := 0.0005; th <= 0.05; th += 0.0005 {
		if rollbackRate(healthy, make(th)) <= 0.01 {
			return th
		}
	}
	return 0.05
}

func rollbackRate(rs []run, r rule) float64 {
	n := 0
	for _, x := range rs {
		if r.judge(x).verdict == "rollback" {
			n++
		}
	}
	return float64(n) / float64(len(rs))
}

func bench(w io.Writer, p params) {
	budget := 1 - p.objective/100
	interval := int(p.interval.Seconds())
	sg := sloguardRule{
		cfg: rollout.TestConfig{
			Alpha: p.alpha, Power: p.power, Budget: budget,
			HealthyBurnRate: 1, BreachBurnRate: 3,
			Baseline: true, RelativeTolerance: 1.5, BreachRelative: 3,
		},
		interval: interval, label: fmt.Sprintf("sloguard (interval %s)", p.interval),
	}

	// Tune the peers once, on separate healthy runs of the default cell.
	tuning := runs(p, p.rps[0], 1, 1<<32)
	argo0 := tune(tuning, func(th float64) rule { return argoRule{threshold: th, failureLimit: 0} })
	argo1 := tune(tuning, func(th float64) rule { return argoRule{threshold: th, failureLimit: 1} })
	flag5 := tune(tuning, func(th float64) rule { return flaggerRule{max: th, threshold: 5} })

	rules := []rule{
		sg,
		argoRule{threshold: 0.01, failureLimit: 0, label: "argo failureLimit=0, >1 % (docs)"},
		argoRule{threshold: argo0, failureLimit: 0, label: fmt.Sprintf("argo failureLimit=0, >%.2f %% (tuned)", argo0*100)},
		argoRule{threshold: 0.01, failureLimit: 1, label: "argo failureLimit=1, >1 % (docs)"},
		argoRule{threshold: argo1, failureLimit: 1, label: fmt.Sprintf("argo failureLimit=1, >%.2f %% (tuned)", argo1*100)},
		flaggerRule{max: 0.01, threshold: 5, label: "flagger threshold=5, max 1 % (docs)"},
		flaggerRule{max: flag5, threshold: 5, label: fmt.Sprintf("flagger threshold=5, max %.2f %% (tuned)", flag5*100)},
		kayentaRule{label: "kayenta-like Mann-Whitney at the end (98 %)"},
	}

	fmt.Fprintf(w, "Detection benchmark: %d runs per cell, seed %d; canary %.0f %% of traffic, baseline error ratio %.2f %%, SLO %.1f %%, window %s.\n",
		p.runs, p.seed, p.canaryShare*100, p.baseError*100, p.objective, p.window)
	fmt.Fprintf(w, "sloguard: max_false_rollback %.2f, power %.2f, breach_burn_rate 3, relative_tolerance 1.5, breach_relative 3, interval %s.\n", p.alpha, p.power, p.interval)
	fmt.Fprintf(w, "Peers tuned once on %d healthy runs at %.0f rps (lowest threshold with ≤ 1 %% false rollbacks) and reused everywhere.\n\n", p.runs, p.rps[0])

	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "rps\tfault\trule\trolled back\tfalse rollback\tmissed breach\tinconclusive\tmedian TTR\tp90 TTR\t")
	for ri, rps := range p.rps {
		for fi, fault := range p.faults {
			rs := runs(p, rps, fault, uint64(ri*100+fi+1))
			cell := rules
			if fault != 1 {
				cell = append(slices.Clone(rules), oracleRule{p0: p.baseError, p1: p.baseError * fault, alpha: p.alpha, beta: 1 - p.power, interval: interval})
			}
			for _, r := range cell {
				fmt.Fprintln(tw, row(rps, fault, r, rs))
			}
		}
	}
	tw.Flush()
	fmt.Fprintln(w, "\nTTR: time to rollback, over the runs that rolled back. A fault of 1× is a healthy canary: every rollback there is false.")
	fmt.Fprintln(w, "Missed breach: a faulty canary passed. Inconclusive: not rolled back, and too little traffic to rule out a breach (sloguard and the oracle only).")
}

func row(rps, fault float64, r rule, rs []run) string {
	var rollbacks, passes, unsure int
	var times []float64
	for _, x := range rs {
		o := r.judge(x)
		switch o.verdict {
		case "rollback":
			rollbacks++
			times = append(times, float64(o.at))
		case "pass":
			passes++
		default:
			unsure++
		}
	}
	n := float64(len(rs))
	falseRB, missed := "–", "–"
	if fault == 1 {
		falseRB = pct(float64(rollbacks) / n)
	} else {
		missed = pct(float64(passes) / n)
	}
	return fmt.Sprintf("%.0f\t%g×\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t", rps, fault, r.name(), pct(float64(rollbacks)/n), falseRB, missed, pct(float64(unsure)/n), quantile(times, 0.5), quantile(times, 0.9))
}

func pct(v float64) string { return fmt.Sprintf("%.1f %%", v*100) }

func quantile(xs []float64, q float64) string {
	if len(xs) == 0 {
		return "–"
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return fmt.Sprintf("%.0f s", s[int(math.Ceil(q*float64(len(s))))-1])
}
