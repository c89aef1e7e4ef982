package rollout

import (
	"fmt"
	"strings"

	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/slo"
)

// decide sets the watch's decision from its trackers.
func decide(d *report.Decision, ts []*tracker, pol slo.CanaryPolicy) {
	w := wordsFor(pol)
	var failed, unsure, passed []string
	for _, t := range ts {
		s := t.summary()
		dec, why := t.final(d.Canary.Interrupted)
		if dec == noData {
			dec = pol.OnNoData
			why += fmt.Sprintf(" (on_no_data: %s)", pol.OnNoData)
		}
		s.Decision, s.Reason = dec, why
		d.Canary.SLOs = append(d.Canary.SLOs, s)
		d.SLOs = append(d.SLOs, report.SLO{
			Name: t.slo.Name, Service: t.slo.Service, Objective: t.slo.Objective, Window: sloWindow(t.slo),
			Budgeting: t.slo.Budgeting, BurnRates: map[string]*float64{}, Decision: dec, Reasons: []string{why}, Queries: t.queries,
		})
		line := t.slo.Name + ": " + why
		switch dec {
		case report.Fail:
			failed = append(failed, line)
		case report.Inconclusive:
			unsure = append(unsure, line)
		default:
			passed = append(passed, line)
		}
	}
	switch {
	case len(failed) > 0:
		d.Decision, d.Reason = report.Fail, w.breached()+strings.Join(failed, " | ")
		for _, t := range ts {
			if t.decidedAt != nil && (d.Canary.DecidedAt == nil || t.decidedAt.Before(*d.Canary.DecidedAt)) {
				d.Canary.DecidedAt = t.decidedAt
			}
		}
	case d.Canary.Interrupted:
		d.Decision, d.Reason = report.Inconclusive, "interrupted after "+d.Canary.Elapsed+": no decision"
	case len(unsure) > 0:
		d.Decision, d.Reason = report.Inconclusive, "cannot tell yet: "+strings.Join(unsure, " | ")
	default:
		d.Decision, d.Reason = report.Pass, w.healthy(d.Canary.Elapsed)+strings.Join(passed, " | ")
	}
}

// sloWindow is the SLO's own window for the record ("99.9 % over 30d"),
// not the time watched: that is the canary's elapsed.
func sloWindow(s slo.SLO) string {
	if s.Window <= 0 {
		return ""
	}
	return slo.FormatDuration(s.Window)
}
