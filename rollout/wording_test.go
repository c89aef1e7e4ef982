package rollout

import (
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/slo"
)

// reasonCase is a watch whose every reason and hypothesis is checked word
// for word, once as a canary watch and once without a split.
type reasonCase struct {
	slo      slo.SLO
	baseline bool
	pol      func(*slo.CanaryPolicy)
	fp       func() *fakeProvider
}

var reasonCases = map[string]reasonCase{
	"worse than the baseline, under the SLO": {slo: eventsSLO(), baseline: true, fp: func() *fakeProvider { return &fakeProvider{events: tracks(100, 0.0008, 0.0001)} }},
	"over the SLO":                           {slo: eventsSLO(), baseline: true, fp: func() *fakeProvider { return &fakeProvider{events: steady(100, 0.02)} }},
	"over the SLO, no baseline":              {slo: eventsSLO(), fp: func() *fakeProvider { return &fakeProvider{events: steady(100, 0.02)} }},
	"over the SLO while the baseline burns, rolled back anyway": {slo: eventsSLO(), baseline: true, pol: func(p *slo.CanaryPolicy) { p.OnBaselineBreach = slo.PolicyFail },
		fp: func() *fakeProvider { return &fakeProvider{events: tracks(100, 0.008, 0.008)} }},
	"healthy":                         {slo: eventsSLO(), baseline: true, fp: func() *fakeProvider { return &fakeProvider{events: steady(100, 0.0005)} }},
	"too little traffic":              {slo: eventsSLO(), baseline: true, fp: func() *fakeProvider { return &fakeProvider{events: steady(0.5, 0.0005)} }},
	"too little traffic, no baseline": {slo: eventsSLO(), fp: func() *fakeProvider { return &fakeProvider{events: steady(0.5, 0.0005)} }},
	"the baseline burns too":          {slo: eventsSLO(), baseline: true, fp: func() *fakeProvider { return &fakeProvider{events: tracks(100, 0.005, 0.004)} }},
	"no requests":                     {slo: eventsSLO(), baseline: true, fp: func() *fakeProvider { return &fakeProvider{events: steady(0, 0)} }},
	"no threshold value": {slo: thresholdSLO(), baseline: true, fp: func() *fakeProvider {
		return &fakeProvider{value: func(time.Duration) (float64, bool) { return 0, false }}
	}},
}

// runReasonCase watches a case as a canary watch (track=canary against
// track=stable) or without a split (the whole service against the same
// queries 10m earlier, or alone when the case has no baseline) and returns
// every text the record carries.
func runReasonCase(t *testing.T, c reasonCase, noSplit bool) []string {
	t.Helper()
	pol := policy(c.baseline)
	if c.pol != nil {
		c.pol(&pol)
	}
	if noSplit {
		pol.Canary = slo.Scope{}
		if c.baseline {
			pol.Baseline = &slo.Scope{Offset: pol.Duration}
		}
	}
	d := runWatch(t, c.slo, pol, c.fp(), &fakeClock{now: t0}, t.Context())
	texts := []string{d.Reason}
	for _, s := range d.Canary.SLOs {
		texts = append(texts, s.Reason)
		for _, x := range s.Tests {
			texts = append(texts, x.Hypothesis)
		}
	}
	return texts
}

// wantTexts are each case's decision reason, SLO reason and test
// hypotheses. The canary watch's are what they were before watches without
// a split got their own words, byte for byte. Without a baseline (noSplit
// nil) a watch without canary labels keeps the canary's words: a scrape or
// static backend's canary has no labels either (see words).
var wantTexts = map[string]struct{ canary, noSplit []string }{
	"healthy": {
		canary: []string{
			"canary healthy after 10m: availability: 60000 canary requests rule out a burn rate of 3x or worse",
			"60000 canary requests rule out a burn rate of 3x or worse",
			"healthy: canary error ratio ≤ 0.1% (burn rate 1); breach: burn rate 3",
			"healthy: canary error ratio ≤ 1.5 × the baseline's; breach: 3 ×",
		},
		noSplit: []string{
			"the release is healthy after 10m: availability: 60000 requests after the deploy rule out a burn rate of 3x or worse",
			"60000 requests after the deploy rule out a burn rate of 3x or worse",
			"healthy: the service's error ratio after the deploy ≤ 0.1% (burn rate 1); breach: burn rate 3",
			"healthy: the service's error ratio after the deploy ≤ 1.5 × that of the same queries 10m earlier; breach: 3 ×",
		},
	},
	"no requests": {
		canary: []string{
			"cannot tell yet: availability: the canary served no requests during the watch (on_no_data: inconclusive)",
			"the canary served no requests during the watch (on_no_data: inconclusive)",
			"healthy: canary error ratio ≤ 0.1% (burn rate 1); breach: burn rate 3",
			"healthy: canary error ratio ≤ 1.5 × the baseline's; breach: 3 ×",
		},
		noSplit: []string{
			"cannot tell yet: availability: the service served no requests after the deploy (on_no_data: inconclusive)",
			"the service served no requests after the deploy (on_no_data: inconclusive)",
			"healthy: the service's error ratio after the deploy ≤ 0.1% (burn rate 1); breach: burn rate 3",
			"healthy: the service's error ratio after the deploy ≤ 1.5 × that of the same queries 10m earlier; breach: 3 ×",
		},
	},
	"no threshold value": {
		canary: []string{
			"cannot tell yet: latency: the canary reported no latency value during the watch (on_no_data: inconclusive)",
			"the canary reported no latency value during the watch (on_no_data: inconclusive)",
			"healthy: at most 1% of intervals miss < 0.3 (the SLO's budget × healthy_burn_rate)",
		},
		noSplit: []string{
			"cannot tell yet: latency: the service reported no latency value after the deploy (on_no_data: inconclusive)",
			"the service reported no latency value after the deploy (on_no_data: inconclusive)",
			"healthy: at most 1% of intervals miss < 0.3 (the SLO's budget × healthy_burn_rate)",
		},
	},
	"over the SLO": {
		canary: []string{
			"canary breached: availability: canary error ratio 2.000% (20 of 1000 requests) is 20.0× the baseline's 0.100% (tolerated: 1.5×): evidence 20.4 crossed the rollback boundary 6.2",
			"canary error ratio 2.000% (20 of 1000 requests) is 20.0× the baseline's 0.100% (tolerated: 1.5×): evidence 20.4 crossed the rollback boundary 6.2",
			"healthy: canary error ratio ≤ 0.1% (burn rate 1); breach: burn rate 3",
			"healthy: canary error ratio ≤ 1.5 × the baseline's; breach: 3 ×",
		},
		noSplit: []string{
			"the release breached: availability: the service's error ratio after the deploy 2.000% (20 of 1000 requests) is 20.0× the 0.100% of the same queries 10m earlier (tolerated: 1.5×): evidence 20.4 crossed the rollback boundary 6.2",
			"the service's error ratio after the deploy 2.000% (20 of 1000 requests) is 20.0× the 0.100% of the same queries 10m earlier (tolerated: 1.5×): evidence 20.4 crossed the rollback boundary 6.2",
			"healthy: the service's error ratio after the deploy ≤ 0.1% (burn rate 1); breach: burn rate 3",
			"healthy: the service's error ratio after the deploy ≤ 1.5 × that of the same queries 10m earlier; breach: 3 ×",
		},
	},
	"over the SLO while the baseline burns, rolled back anyway": {
		canary: []string{
			"canary breached: availability: canary error ratio 0.800% (8 of 1000 requests) is 8.0× the 0.100% the SLO allows, the baseline's is 0.800%: evidence 8.7 crossed the rollback boundary 4.3",
			"canary error ratio 0.800% (8 of 1000 requests) is 8.0× the 0.100% the SLO allows, the baseline's is 0.800%: evidence 8.7 crossed the rollback boundary 4.3",
			"healthy: canary error ratio ≤ 0.1% (burn rate 1); breach: burn rate 3",
			"healthy: canary error ratio ≤ 1.5 × the baseline's; breach: 3 ×",
		},
		noSplit: []string{
			"the release breached: availability: the service's error ratio after the deploy 0.800% (8 of 1000 requests) is 8.0× the 0.100% the SLO allows (the same queries 10m earlier: 0.800%): evidence 8.7 crossed the rollback boundary 4.3",
			"the service's error ratio after the deploy 0.800% (8 of 1000 requests) is 8.0× the 0.100% the SLO allows (the same queries 10m earlier: 0.800%): evidence 8.7 crossed the rollback boundary 4.3",
			"healthy: the service's error ratio after the deploy ≤ 0.1% (burn rate 1); breach: burn rate 3",
			"healthy: the service's error ratio after the deploy ≤ 1.5 × that of the same queries 10m earlier; breach: 3 ×",
		},
	},
	"over the SLO, no baseline": {
		canary: []string{
			"canary breached: availability: canary error ratio 2.000% (20 of 1000 requests) is 20.0× the 0.100% the SLO allows: evidence 38.2 crossed the rollback boundary 4.1",
			"canary error ratio 2.000% (20 of 1000 requests) is 20.0× the 0.100% the SLO allows: evidence 38.2 crossed the rollback boundary 4.1",
			"healthy: canary error ratio ≤ 0.1% (burn rate 1); breach: burn rate 3",
		},
	},
	"the baseline burns too": {
		canary: []string{
			"cannot tell yet: availability: canary error ratio 0.500% and baseline error ratio 0.400% (the SLO allows 0.100%): the canary breached the SLO, but the baseline is burning too, so the trouble is not the canary's alone (on_baseline_breach: inconclusive)",
			"canary error ratio 0.500% and baseline error ratio 0.400% (the SLO allows 0.100%): the canary breached the SLO, but the baseline is burning too, so the trouble is not the canary's alone (on_baseline_breach: inconclusive)",
			"healthy: canary error ratio ≤ 0.1% (burn rate 1); breach: burn rate 3",
			"healthy: canary error ratio ≤ 1.5 × the baseline's; breach: 3 ×",
		},
		noSplit: []string{
			"cannot tell yet: availability: the service's error ratio after the deploy 0.500% and that of the same queries 10m earlier 0.400% (the SLO allows 0.100%): the service breached the SLO after the deploy, but the same queries 10m earlier burned too, so the trouble is not the release's alone (on_baseline_breach: inconclusive)",
			"the service's error ratio after the deploy 0.500% and that of the same queries 10m earlier 0.400% (the SLO allows 0.100%): the service breached the SLO after the deploy, but the same queries 10m earlier burned too, so the trouble is not the release's alone (on_baseline_breach: inconclusive)",
			"healthy: the service's error ratio after the deploy ≤ 0.1% (burn rate 1); breach: burn rate 3",
			"healthy: the service's error ratio after the deploy ≤ 1.5 × that of the same queries 10m earlier; breach: 3 ×",
		},
	},
	"too little traffic": {
		canary: []string{
			"cannot tell yet: availability: 300 canary requests are too few to rule out a burn rate of 3x (or 3x the baseline's errors): watch longer or send more traffic",
			"300 canary requests are too few to rule out a burn rate of 3x (or 3x the baseline's errors): watch longer or send more traffic",
			"healthy: canary error ratio ≤ 0.1% (burn rate 1); breach: burn rate 3",
			"healthy: canary error ratio ≤ 1.5 × the baseline's; breach: 3 ×",
		},
		noSplit: []string{
			"cannot tell yet: availability: 300 requests after the deploy are too few to rule out a burn rate of 3x (or 3x the errors of the same queries 10m earlier): watch longer or send more traffic",
			"300 requests after the deploy are too few to rule out a burn rate of 3x (or 3x the errors of the same queries 10m earlier): watch longer or send more traffic",
			"healthy: the service's error ratio after the deploy ≤ 0.1% (burn rate 1); breach: burn rate 3",
			"healthy: the service's error ratio after the deploy ≤ 1.5 × that of the same queries 10m earlier; breach: 3 ×",
		},
	},
	"too little traffic, no baseline": {
		canary: []string{
			"cannot tell yet: availability: 300 canary requests are too few to rule out a burn rate of 3x (or 3x the baseline's errors): watch longer or send more traffic",
			"300 canary requests are too few to rule out a burn rate of 3x (or 3x the baseline's errors): watch longer or send more traffic",
			"healthy: canary error ratio ≤ 0.1% (burn rate 1); breach: burn rate 3",
		},
	},
	"worse than the baseline, under the SLO": {
		canary: []string{
			"canary breached: availability: canary error ratio 0.080% (11 of 14000 requests) is 8.0× the baseline's 0.010% (tolerated: 1.5×): evidence 6.4 crossed the rollback boundary 6.2",
			"canary error ratio 0.080% (11 of 14000 requests) is 8.0× the baseline's 0.010% (tolerated: 1.5×): evidence 6.4 crossed the rollback boundary 6.2",
			"healthy: canary error ratio ≤ 0.1% (burn rate 1); breach: burn rate 3",
			"healthy: canary error ratio ≤ 1.5 × the baseline's; breach: 3 ×",
		},
		noSplit: []string{
			"the release breached: availability: the service's error ratio after the deploy 0.080% (11 of 14000 requests) is 8.0× the 0.010% of the same queries 10m earlier (tolerated: 1.5×): evidence 6.4 crossed the rollback boundary 6.2",
			"the service's error ratio after the deploy 0.080% (11 of 14000 requests) is 8.0× the 0.010% of the same queries 10m earlier (tolerated: 1.5×): evidence 6.4 crossed the rollback boundary 6.2",
			"healthy: the service's error ratio after the deploy ≤ 0.1% (burn rate 1); breach: burn rate 3",
			"healthy: the service's error ratio after the deploy ≤ 1.5 × that of the same queries 10m earlier; breach: 3 ×",
		},
	},
}

func TestReasonsNameWhatWasJudged(t *testing.T) {
	for name, c := range reasonCases {
		want, ok := wantTexts[name]
		if !ok {
			t.Fatalf("%s: no texts to want", name)
		}
		t.Run(name, func(t *testing.T) {
			for _, noSplit := range []bool{false, true} {
				got, w := runReasonCase(t, c, noSplit), want.canary
				if noSplit {
					w = want.noSplit
				}
				if noSplit && w == nil {
					w = want.canary
				}
				if strings.Join(got, "\n") != strings.Join(w, "\n") {
					t.Errorf("no split: %v:\n got: %q\nwant: %q", noSplit, got, w)
				}
				for _, s := range got {
					if noSplit && c.baseline && strings.Contains(s, "canary") {
						t.Errorf("a watch without a split speaks of a canary: %q", s)
					}
				}
			}
		})
	}
}

func TestThePastIsNamedByItsOffset(t *testing.T) {
	for _, tc := range []struct {
		canary, baseline map[string]string
		offset           time.Duration
		noSplit          bool
		past             string
	}{
		{canary: map[string]string{"track": "canary"}, baseline: map[string]string{"track": "stable"}},
		{}, // no canary labels, no baseline: the words stay the canary's
		{baseline: map[string]string{"track": "stable"}},                  // a live baseline: validate rejects it without canary labels
		{canary: map[string]string{"track": "canary"}, offset: time.Hour}, // a canary against its own past
		{offset: 30 * time.Minute, noSplit: true, past: "the same queries 30m earlier"},
		{baseline: map[string]string{"color": "blue", "app": "shop"}, offset: 7 * 24 * time.Hour, noSplit: true, past: "app=shop,color=blue 1w earlier"},
	} {
		pol := slo.CanaryPolicy{Canary: slo.Scope{Labels: tc.canary}}
		if tc.baseline != nil || tc.offset > 0 {
			pol.Baseline = &slo.Scope{Labels: tc.baseline, Offset: tc.offset}
		}
		if w := wordsFor(pol); w.noSplit != tc.noSplit || w.past != tc.past {
			t.Errorf("canary %v, baseline %v offset %s: no split %v, past %q; want %v, %q", tc.canary, tc.baseline, tc.offset, w.noSplit, w.past, tc.noSplit, tc.past)
		}
	}
}
