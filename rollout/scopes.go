package rollout

import (
	"time"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/slo"
)

// canaryScope is what a watch judges: the canary by its labels, or the
// whole service when there are none (a deploy without a traffic split).
func canaryScope(pol slo.CanaryPolicy) providers.Scope {
	return providers.Scope{Name: providers.ScopeCanary, Labels: pol.Canary.Labels}
}

// baselineScope is what the canary is compared with: the live baseline by
// its labels, or, with an offset, the baseline's labels (the canary's when
// it has none) that much earlier. The trackers read both alike: a past
// baseline is just another series of counts.
func baselineScope(pol slo.CanaryPolicy) providers.Scope {
	labels := pol.Baseline.Labels
	if len(labels) == 0 && pol.Baseline.Offset > 0 {
		labels = pol.Canary.Labels
	}
	return providers.Scope{Name: providers.ScopeBaseline, Labels: labels, Offset: pol.Baseline.Offset}
}

// Scopes are the scopes a watch reads each SLO in, canary first, built by
// the same functions the watch uses, so that validate and the checks at
// the start of a watch scope queries exactly as the watch will.
func Scopes(pol slo.CanaryPolicy) []providers.Scope {
	out := []providers.Scope{canaryScope(pol)}
	if pol.Baseline != nil {
		out = append(out, baselineScope(pol))
	}
	return out
}

// newCanaryRecord starts the record's canary part, saying in words what
// was judged and what it was compared with.
func newCanaryRecord(pol slo.CanaryPolicy, since time.Time) *report.Canary {
	labels := pol.Canary.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	c := &report.Canary{
		Duration: slo.FormatDuration(pol.Duration), Interval: slo.FormatDuration(pol.Interval),
		Since: since, Labels: labels,
	}
	c.Judged, c.BaselineDescription = pol.Describe()
	if pol.Baseline != nil {
		c.Baseline = pol.Baseline.Labels
		if pol.Baseline.Offset > 0 {
			c.BaselineOffset = slo.FormatDuration(pol.Baseline.Offset)
		}
	}
	return c
}
