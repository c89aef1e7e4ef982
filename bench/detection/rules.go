package main

import (
	"math"
	"sort"

	"github.com/sloguard/sloguard/rollout/sequential"
)

// outcome of one rule on one run.
type outcome struct {
	verdict string // rollback | pass | inconclusive
	at      int    // seconds into the window of a rollback
}

// rule judges a run.
type rule interface {
	name() string
	judge(r run) outcome
}

// sloguardRule replays the run through sloguard's own sequential test,
// looking every interval, deciding at the end as `watch` does.
type sloguardRule struct {
	cfg      sequential.Config
	interval int
	label    string
	// pooled estimates the dispersion as the engine did before it set
	// changes of level aside: Pearson's statistic about one pooled error
	// ratio, which counts an incident in the history as burstiness.
	pooled bool
}

func (s sloguardRule) name() string { return s.label }

func (s sloguardRule) judge(r run) outcome {
	cfg := s.cfg
	cfg.Dispersion, cfg.NoHistory = sequential.DefaultDispersion, true // watch's default without history
	if r.histTotal != nil {
		cfg.NoHistory = false
		var c sequential.Contrasts
		for i := range r.histBad {
			c.Add(r.histBad[i], r.histTotal[i])
		}
		if est := c.Estimate(); est.OK {
			cfg.Dispersion = est.Value
		}
		if d, ok := pooledDispersion(r.histBad, r.histTotal); s.pooled && ok {
			cfg.Dispersion = d
		}
	}
	ev := sequential.New(cfg)
	n := r.seconds()
	for t := s.interval; t <= n; t += s.interval {
		from := t - s.interval
		var bb, bt float64
		if cfg.Baseline {
			bb, bt = sum(r.baseBad, from, t), sum(r.baseTotal, from, t)
		}
		ev.Observe(sum(r.canaryBad, from, t), sum(r.canaryTotal, from, t), bb, bt)
		if ev.Verdict() != sequential.Watching {
			return outcome{verdict: "rollback", at: t}
		}
	}
	if !ev.BaselineBreached() && ev.Cleared() {
		return outcome{verdict: "pass"}
	}
	return outcome{verdict: "inconclusive"}
}

// argoRule is Argo Rollouts' analysis: every minute the canary's error
// ratio over the last minute is compared with a threshold; the rollout
// aborts when failed measurements exceed failureLimit.
type argoRule struct {
	threshold    float64
	failureLimit int
	label        string
}

func (a argoRule) name() string { return a.label }

func (a argoRule) judge(r run) outcome {
	failures := 0
	for t := 60; t <= r.seconds(); t += 60 {
		total := sum(r.canaryTotal, t-60, t)
		if total > 0 && sum(r.canaryBad, t-60, t)/total > a.threshold {
			failures++
		}
		if failures > a.failureLimit {
			return outcome{verdict: "rollback", at: t}
		}
	}
	return outcome{verdict: "pass"}
}

// flaggerRule is Flagger's analysis: every minute from the third tick the
// error ratio over the last minute is checked against thresholdRange.max
// (no data fails the check); the canary is rolled back on the tick after
// `threshold` failed checks.
type flaggerRule struct {
	max       float64
	threshold int
	label     string
}

func (f flaggerRule) name() string { return f.label }

func (f flaggerRule) judge(r run) outcome {
	failed := 0
	for tick, t := 1, 60; t <= r.seconds(); tick, t = tick+1, t+60 {
		if failed >= f.threshold {
			return outcome{verdict: "rollback", at: t}
		}
		if tick < 3 {
			continue
		}
		total := sum(r.canaryTotal, t-60, t)
		if total == 0 || sum(r.canaryBad, t-60, t)/total > f.max {
			failed++
		}
	}
	return outcome{verdict: "pass"}
}

// kayentaRule is a Kayenta-like judge: at the end of the window, a
// Mann-Whitney U test of the canary's per-minute error ratios against the
// baseline's, failing when the canary is higher at 98 % confidence.
type kayentaRule struct{ label string }

func (k kayentaRule) name() string { return k.label }

func (k kayentaRule) judge(r run) outcome {
	var c, b []float64
	for t := 60; t <= r.seconds(); t += 60 {
		c = append(c, ratio(sum(r.canaryBad, t-60, t), sum(r.canaryTotal, t-60, t)))
		b = append(b, ratio(sum(r.baseBad, t-60, t), sum(r.baseTotal, t-60, t)))
	}
	if z := mannWhitneyZ(c, b); z > 2.326 { // one-sided 98 %
		return outcome{verdict: "rollback", at: r.seconds()}
	}
	return outcome{verdict: "pass"}
}

func ratio(bad, total float64) float64 {
	if total == 0 {
		return 0
	}
	return bad / total
}

// mannWhitneyZ is the normal approximation of the U statistic of x against
// y, with the tie correction; positive when x tends to be larger.
func mannWhitneyZ(x, y []float64) float64 {
	type obs struct {
		v float64
		x bool
	}
	all := make([]obs, 0, len(x)+len(y))
	for _, v := range x {
		all = append(all, obs{v, true})
	}
	for _, v := range y {
		all = append(all, obs{v, false})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v < all[j].v })
	n1, n2 := float64(len(x)), float64(len(y))
	n := n1 + n2
	rankX, ties := 0.0, 0.0
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].v == all[i].v {
			j++
		}
		rank := float64(i+j+1) / 2
		t := float64(j - i)
		ties += t*t*t - t
		for k := i; k < j; k++ {
			if all[k].x {
				rankX += rank
			}
		}
		i = j
	}
	u := rankX - n1*(n1+1)/2
	sd := math.Sqrt(n1 * n2 / 12 * ((n + 1) - ties/(n*(n-1))))
	if sd == 0 {
		return 0
	}
	return (u - n1*n2/2) / sd
}

// oracleRule is the one-sided SPRT that knows the truth: the canary's
// error ratio is r times p0 and its errors come in geometric bursts of
// the true dispersion (1: Poisson). It rolls back when the log likelihood
// ratio (the exponential tilt for r, under bursts) reaches log(1/α), and
// never passes early: the yardstick for time to rollback.
type oracleRule struct {
	p0, r, dispersion, alpha float64
	interval                 int
}

func (o oracleRule) name() string {
	if o.dispersion > 1 {
		return "oracle (knows r and the dispersion)"
	}
	return "oracle SPRT (knows r)"
}

func (o oracleRule) judge(r run) outcome {
	th, phi := sequential.Tilt(o.dispersion, o.r)
	llr := 0.0
	for t := o.interval; t <= r.seconds(); t += o.interval {
		bad, total := sum(r.canaryBad, t-o.interval, t), sum(r.canaryTotal, t-o.interval, t)
		llr += th*bad - phi*o.p0*total
		if llr >= -math.Log(o.alpha) {
			return outcome{verdict: "rollback", at: t}
		}
	}
	return outcome{verdict: "inconclusive"}
}
