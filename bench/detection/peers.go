package main

import (
	"fmt"
	"math/rand/v2"

	"github.com/sloguard/sloguard/internal/sim"
)

// peerRules are the peers' rules with their documented thresholds and with
// thresholds tuned on healthy runs that are not reported.
type peerRules struct {
	argo0, argo1, flagger float64
}

func (pr peerRules) tuned() []rule {
	return []rule{
		argoRule{threshold: pr.argo0, failureLimit: 0, label: fmt.Sprintf("argo failureLimit=0, >%.2f %% (tuned)", pr.argo0*100)},
		argoRule{threshold: pr.argo1, failureLimit: 1, label: fmt.Sprintf("argo failureLimit=1, >%.2f %% (tuned)", pr.argo1*100)},
		flaggerRule{max: pr.flagger, threshold: 5, label: fmt.Sprintf("flagger threshold=5, max %.2f %% (tuned)", pr.flagger*100)},
		kayentaRule{label: "kayenta-like Mann-Whitney at the end (98 %)"},
	}
}

func (pr peerRules) all() []rule {
	return append([]rule{
		argoRule{threshold: 0.01, failureLimit: 0, label: "argo failureLimit=0, >1 % (docs)"},
		argoRule{threshold: 0.01, failureLimit: 1, label: "argo failureLimit=1, >1 % (docs)"},
		flaggerRule{max: 0.01, threshold: 5, label: "flagger threshold=5, max 1 % (docs)"},
	}, pr.tuned()...)
}

// tunePeers finds, on healthy Poisson runs at 200 rps drawn from the
// tuning seed only, each peer's lowest threshold whose false-rollback rate
// stays at or below 1 %, as a user tuning a peer once would.
func tunePeers(p params) peerRules {
	c := newCell("tuning", 200, defaultShare, 1, 5, sim.Bursts{})
	rng := rand.New(rand.NewPCG(p.tuneSeed, stream("tuning")))
	runs := make([]run, p.runs)
	for i := range runs {
		runs[i] = draw(rng, c, window)
	}
	tune := func(make func(th float64) rule) float64 {
		for th := 0.0005; th <= 0.05; th += 0.0005 {
			if rollbackRate(runs, make(th)) <= 0.01 {
				return th
			}
		}
		return 0.05
	}
	return peerRules{
		argo0:   tune(func(th float64) rule { return argoRule{threshold: th, failureLimit: 0} }),
		argo1:   tune(func(th float64) rule { return argoRule{threshold: th, failureLimit: 1} }),
		flagger: tune(func(th float64) rule { return flaggerRule{max: th, threshold: 5} }),
	}
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
