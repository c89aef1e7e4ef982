package app

import (
	"context"
	"fmt"
	"time"

	"github.com/sloguard/sloguard/internal/sim"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/rollout"
	"github.com/sloguard/sloguard/slo"
)

// noSplitStory releases the simulated service as a Power Platform solution
// import, a serverless function or a blue-green swap are released: to all
// traffic at once. The watch judges the whole service against the same
// queries one watch earlier, and the demo ends on what such a watch cannot
// tell.
func noSplitStory(start time.Time, opts DemoOptions, pol slo.CanaryPolicy) demoStory {
	svc := demoService(start, opts)
	// The whole service is one track, bad from the import on.
	whole := svc.Canary[0].Track
	whole.RPS += svc.Baseline[0].Track.RPS
	svc.Baseline = nil
	svc.Canary = []sim.Phase{{Track: sim.Track{RPS: whole.RPS, ErrorRatio: whole.ErrorRatio * opts.Fault}}}
	pol.Canary = slo.Scope{}
	pol.Baseline = &slo.Scope{Offset: pol.Duration}
	off := slo.FormatDuration(pol.Duration)
	outro := []string{"", "", "What this watch could and could not tell (sloguard validate says the same for your config):"}
	for _, line := range rollout.Explain(pol) {
		outro = append(outro, "    "+line)
	}
	outro = append(outro, "", "Try: sloguard demo --no-split --fault 1 (a clean release), sloguard demo --no-split --fault 3, sloguard demo (a canary with a live baseline).")
	return demoStory{
		service: pastService{svc},
		policy:  pol,
		intro: []string{
			fmt.Sprintf("2/2 The release goes to all traffic at once (no canary, no split), like a solution import; from then on the error ratio is %g× what it was.", opts.Fault),
			fmt.Sprintf("    sloguard watch judges the whole service every %s for up to %s, against the SLO and against the same queries %s earlier:", slo.FormatDuration(pol.Interval), off, off),
			fmt.Sprintf("    canary.canary left out, canary.baseline: {offset: %s}.", off),
		},
		outro: outro,
	}
}

// pastService reads a baseline from the past from the simulated history:
// the service had no tracks then, only the whole.
type pastService struct{ *sim.Service }

func (p pastService) Counts(ctx context.Context, q providers.Query, at time.Time) (providers.Counts, error) {
	if q.Scope.Offset > 0 {
		at = q.Scope.Shift(at)
		q.Scope = providers.Scope{Name: providers.ScopeService}
	}
	return p.Service.Counts(ctx, q, at)
}
