package rollout

import (
	"fmt"

	"github.com/sloguard/sloguard/slo"
)

// Explain says what a watch under pol judges, what it compares it with,
// and, for a deploy without a split or a baseline from the past, what such
// a watch can and cannot tell, so that `validate` states the limits before
// anyone relies on them.
func Explain(pol slo.CanaryPolicy) []string {
	judged, base := pol.Describe()
	head := "watch judges " + judged
	if base != "" {
		head += ", against " + base
	}
	lines := []string{head + "."}
	split := len(pol.Canary.Labels) > 0
	past := pol.Baseline != nil && pol.Baseline.Offset > 0
	switch {
	case pol.Baseline == nil && !split:
		lines = append(lines,
			fmt.Sprintf("  can tell:    whether the service burns its error budget faster than %g× the sustainable rate after the deploy (the absolute question).", pol.HealthyBurnRate),
			"  cannot tell: a regression that stays under the budget, nor whether the deploy caused a breach. Add canary.baseline.offset (e.g. the watch's duration) to compare with the period before the deploy.")
	case past:
		d := slo.FormatDuration(pol.Baseline.Offset)
		lines = append(lines,
			fmt.Sprintf("  can tell:    a deploy that makes errors worse than the same series %s earlier by more than %g×, even under the budget, and a burn of the budget (the absolute question).", d, pol.RelativeTolerance),
			"  cannot tell: whether the deploy is the cause. An incident that starts at the deploy for another reason (a dependency down, a region outage, a surge) looks the same: a live baseline would suffer it too and cancel it, a past one cannot.",
			fmt.Sprintf("               Nor does it know what changed since %s ago besides the deploy: a daily peak, a campaign, a weekday (offset: 1w follows weekly seasonality), or an incident in the past window, which becomes the yardstick.", d))
	}
	return lines
}
