package slo

import (
	"fmt"
	"math"
	"strings"
)

// osloBuilt is one native SLO read from an OpenSLO SLO document (one per
// objective), and where its parts came from.
type osloBuilt struct {
	raw    rawSLO
	origin osloOrigin
}

// osloOrigin says where a native SLO came from in an OpenSLO file, so that
// problems found by the shared checks point at the right document line.
type osloOrigin struct {
	doc       string            // docs[i] of the SLO
	objective string            // docs[i].spec.objectives[j]
	targetKey string            // target or targetPercent
	sli       string            // the SLI's spec: inline, or in its own document
	queries   map[string]string // native query key -> path of the OpenSLO query
	srcRef    string            // path of the metricSourceRef
}

// readOpenSLO turns one SLO document into native SLOs, one per objective,
// reporting in OpenSLO's terms what the shared checks would say in
// sloguard's.
func readOpenSLO(s osloSLORef, slis map[string]osloSLIRef, broken map[string]bool, ps *problems) []osloBuilt {
	base := s.base
	sli, sliBase := s.spec.Indicator, base+".spec.indicator.spec"
	if sli == nil && s.spec.IndicatorRef != "" {
		ref, ok := slis[s.spec.IndicatorRef]
		if !ok && broken[s.spec.IndicatorRef] {
			return nil // its SLI document has a problem reported already
		}
		if !ok {
			ps.add(base+".spec.indicatorRef", "no SLI document named %q: defined are %s", s.spec.IndicatorRef, sliNames(slis))
			return nil
		}
		sli, sliBase = &ref.sli, ref.base+".spec"
	}
	if sli == nil {
		ps.add(base+".spec", "needs indicator (an inline SLI) or indicatorRef (the name of an SLI document)")
		return nil
	}
	rs := rawSLO{Name: s.name, Service: s.spec.Service, Description: s.spec.Description, windowParser: ParseOpenSLODuration}
	if len(s.spec.TimeWindow) != 1 {
		ps.add(base+".spec.timeWindow", "needs exactly one time window, e.g. [{duration: 28d, isRolling: true}]")
		rs.Window = "30d"
	} else {
		tw := s.spec.TimeWindow[0]
		if tw.IsRolling != nil && !*tw.IsRolling {
			ps.add(base+".spec.timeWindow[0].isRolling", "calendar-aligned windows are not supported: use isRolling: true")
		}
		rs.Window = tw.Duration
		if rs.Window == "" {
			ps.add(base+".spec.timeWindow[0].duration", "required, e.g. 28d or 1M")
			rs.Window = "30d"
		}
	}
	threshold := sli.Spec.ThresholdMetric != nil && sli.Spec.RatioMetric == nil
	switch s.spec.BudgetingMethod {
	case "Occurrences":
		rs.Budgeting = Occurrences
		if threshold {
			ps.claim(base+".spec.budgetingMethod", "a thresholdMetric is budgeted in time slices: use budgetingMethod: Timeslices")
		}
	case "Timeslices", "RatioTimeslices":
		rs.Budgeting = Timeslices
	case "":
		ps.claim(base+".spec.budgetingMethod", "required: Occurrences (good events / all events) or Timeslices (good slices / all slices)")
	default:
		ps.claim(base+".spec.budgetingMethod", "%q: use Occurrences, Timeslices or RatioTimeslices", s.spec.BudgetingMethod)
	}

	origin := osloOrigin{doc: base, sli: sliBase, queries: map[string]string{}, srcRef: base + ".spec"}
	metric := func(key, native string, m *osloMetricSource) string {
		if m == nil {
			return ""
		}
		q := "query"
		if m.MetricSource.Spec.Query == "" && m.MetricSource.Spec.PromQL != "" {
			q = "promql"
		}
		path := sliBase + "." + key + ".metricSource"
		origin.queries[native] = path + ".spec." + q
		switch ref := m.MetricSource.MetricSourceRef; {
		case ref == "":
		case rs.Provider == "":
			rs.Provider, origin.srcRef = ref, path+".metricSourceRef"
		case ref != rs.Provider:
			ps.claim(path+".metricSourceRef", "%q differs from %q of the other metrics: sloguard reads an SLI from one DataSource", ref, rs.Provider)
		}
		return m.query()
	}
	switch rm, tm := sli.Spec.RatioMetric, sli.Spec.ThresholdMetric; {
	case rm != nil && tm != nil:
		ps.claim(sliBase, "use ratioMetric or thresholdMetric, not both")
	case rm != nil:
		rs.SLI.TotalQuery = metric("ratioMetric.total", "total_query", rm.Total)
		rs.SLI.GoodQuery = metric("ratioMetric.good", "good_query", rm.Good)
		rs.SLI.ErrorQuery = metric("ratioMetric.bad", "error_query", rm.Bad)
		if rm.Raw != nil {
			q := metric("ratioMetric.raw", "error_ratio_query", rm.Raw)
			switch rm.RawType {
			case "failure":
				rs.SLI.ErrorRatioQuery = q
			case "success":
				rs.SLI.ErrorRatioQuery = "1 - (" + q + ")"
			default:
				ps.claim(sliBase+".ratioMetric.rawType", "%q: use success or failure (what the raw ratio counts)", rm.RawType)
			}
		}
		rs.SLI.counter = rm.Counter && !windowVar.MatchString(rs.SLI.TotalQuery)
	case tm != nil:
		rs.SLI.Query = metric("thresholdMetric", "query", tm)
	default:
		ps.claim(sliBase, "needs ratioMetric or thresholdMetric")
	}
	if broken[rs.Provider] {
		ps.reported = append(ps.reported, origin.srcRef) // its DataSource has a problem reported already
	}

	objs := s.spec.Objectives
	if len(objs) == 0 {
		ps.add(base+".spec.objectives", "needs at least one objective, e.g. [{target: 0.999}]")
	}
	var out []osloBuilt
	for j, o := range objs {
		r, org := rs, origin
		org.objective = fmt.Sprintf("%s.spec.objectives[%d]", base, j)
		org.targetKey = "target"
		if len(objs) > 1 {
			r.Name = rs.Name + "-" + firstNonEmpty(o.Name, slug(o.DisplayName), fmt.Sprint(j))
		}
		switch t := o.Target; {
		case t != nil && o.TargetPercent != nil:
			org.targetKey = "targetPercent"
			ps.claim(org.objective+".targetPercent", "use target or targetPercent, not both")
		case o.TargetPercent != nil:
			r.Objective, org.targetKey = o.TargetPercent, "targetPercent"
		case t == nil:
			ps.claim(org.objective+".target", "required: the objective as a fraction, e.g. 0.999 for 99.9 %% (or targetPercent: 99.9)")
		case math.IsNaN(*t) || *t <= 0 || *t >= 1:
			ps.claim(org.objective+".target", "must be between 0 and 1 (exclusive), e.g. 0.999 for 99.9 %%, got %v", *t)
		default:
			v := percent(*t)
			r.Objective = &v
		}
		if threshold {
			op, ok := osloOps[o.Op]
			switch {
			case o.Op == "":
				ps.claim(org.objective+".op", "required with a thresholdMetric: lt, lte, gt or gte (the comparison a good value passes, e.g. lt for latency)")
			case !ok:
				ps.claim(org.objective+".op", "%q: use lt, lte, gt or gte", o.Op)
			}
			if o.Value == nil {
				ps.claim(org.objective+".value", "required with a thresholdMetric: the limit a good value meets, e.g. 0.3")
			}
			r.SLI.Op, r.SLI.Value = op, o.Value
		}
		if r.Budgeting == Timeslices {
			r.Timeslice = &rawTimeslice{Window: o.TimeSliceWindow}
			switch t := o.TimeSliceTarget; {
			case threshold:
			case t == nil:
				ps.claim(org.objective+".timeSliceTarget", "required with budgetingMethod: %s: the fraction of good events a slice needs to count as good, e.g. 0.95", s.spec.BudgetingMethod)
			case math.IsNaN(*t) || *t <= 0 || *t > 1:
				ps.claim(org.objective+".timeSliceTarget", "must be above 0 and at most 1, e.g. 0.95, got %v", *t)
			default:
				v := percent(*t)
				r.Timeslice.Target = &v
			}
		}
		out = append(out, osloBuilt{raw: r, origin: org})
	}
	return out
}

// sliWords are the OpenSLO names of the native SLI keys.
var sliWords = strings.NewReplacer("error_ratio_query", "raw", "error_query", "bad", "good_query", "good", "total_query", "total")

// source maps the tail of a native SLO path to where OpenSLO keeps it, and
// rewords the message in OpenSLO's terms.
func (o osloOrigin) source(rest, msg string) (string, string) {
	switch {
	case rest == ".objective":
		return o.objective + "." + o.targetKey, msg
	case rest == ".timeslice.target":
		return o.objective + ".timeSliceTarget", msg
	case strings.HasPrefix(rest, ".timeslice"):
		return o.objective + ".timeSliceWindow", strings.ReplaceAll(msg, "SLO window", "timeWindow")
	case rest == ".window":
		return o.doc + ".spec.timeWindow[0].duration", msg
	case rest == ".budgeting":
		return o.doc + ".spec.budgetingMethod", msg
	case rest == ".provider":
		return o.srcRef, strings.Replace(msg, "unknown provider", "no DataSource named", 1)
	case rest == ".sli.op", rest == ".sli.value":
		return o.objective + strings.TrimPrefix(rest, ".sli"), msg
	case strings.HasPrefix(rest, ".sli"):
		switch {
		case strings.HasPrefix(msg, "missing {{.window}}"):
			msg += "; or, if the queries select raw counters, set counter: true"
		case strings.HasPrefix(msg, "required with total_query"):
			return o.sli + ".ratioMetric", "needs good or bad beside total: the metric of the good or of the bad events"
		}
		if q, ok := o.queries[strings.TrimPrefix(rest, ".sli.")]; ok {
			return q, sliWords.Replace(msg)
		}
		return o.sli, sliWords.Replace(msg)
	case rest == ".name":
		return o.doc + ".metadata.name", msg
	}
	return o.doc + ".spec", msg
}
