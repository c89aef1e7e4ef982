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

// osloReading is one SLO document being read into native SLOs.
type osloReading struct {
	s         osloSLORef
	ps        *problems
	rs        rawSLO     // what every objective shares
	origin    osloOrigin // where it came from
	threshold bool       // a thresholdMetric
}

// readOpenSLO turns one SLO document into native SLOs, one per objective,
// reporting in OpenSLO's terms what the shared checks would say in
// sloguard's.
func readOpenSLO(s osloSLORef, slis map[string]osloSLIRef, broken map[string]bool, ps *problems) []osloBuilt {
	sli, sliBase, ok := osloIndicator(s, slis, broken, ps)
	if !ok {
		return nil
	}
	r := &osloReading{s: s, ps: ps,
		rs:        rawSLO{Name: s.name, Service: s.spec.Service, Description: s.spec.Description, windowParser: ParseOpenSLODuration},
		origin:    osloOrigin{doc: s.base, sli: sliBase, queries: map[string]string{}, srcRef: s.base + ".spec"},
		threshold: sli.Spec.ThresholdMetric != nil && sli.Spec.RatioMetric == nil,
	}
	r.window()
	r.budgeting()
	r.metrics(sli, sliBase)
	if broken[r.rs.Provider] {
		ps.reported = append(ps.reported, r.origin.srcRef) // its DataSource has a problem reported already
	}
	objs := s.spec.Objectives
	if len(objs) == 0 {
		ps.add(s.base+".spec.objectives", "needs at least one objective, e.g. [{target: 0.999}]")
	}
	var out []osloBuilt
	for j, o := range objs {
		out = append(out, r.objective(j, o, len(objs) > 1))
	}
	return out
}

// osloIndicator finds an SLO document's SLI: inline, or the SLI document
// its indicatorRef names.
func osloIndicator(s osloSLORef, slis map[string]osloSLIRef, broken map[string]bool, ps *problems) (*osloSLI, string, bool) {
	sli, sliBase := s.spec.Indicator, s.base+".spec.indicator.spec"
	if sli == nil && s.spec.IndicatorRef != "" {
		ref, ok := slis[s.spec.IndicatorRef]
		if !ok && broken[s.spec.IndicatorRef] {
			return nil, "", false // its SLI document has a problem reported already
		}
		if !ok {
			ps.add(s.base+".spec.indicatorRef", "no SLI document named %q: defined are %s", s.spec.IndicatorRef, sliNames(slis))
			return nil, "", false
		}
		sli, sliBase = &ref.sli, ref.base+".spec"
	}
	if sli == nil {
		ps.add(s.base+".spec", "needs indicator (an inline SLI) or indicatorRef (the name of an SLI document)")
		return nil, "", false
	}
	return sli, sliBase, true
}

func (r *osloReading) window() {
	base, tws := r.s.base, r.s.spec.TimeWindow
	if len(tws) != 1 {
		r.ps.add(base+".spec.timeWindow", "needs exactly one time window, e.g. [{duration: 28d, isRolling: true}]")
		r.rs.Window = "30d"
		return
	}
	tw := tws[0]
	if tw.IsRolling != nil && !*tw.IsRolling {
		r.ps.add(base+".spec.timeWindow[0].isRolling", "calendar-aligned windows are not supported: use isRolling: true")
	}
	r.rs.Window = tw.Duration
	if r.rs.Window == "" {
		r.ps.add(base+".spec.timeWindow[0].duration", "required, e.g. 28d or 1M")
		r.rs.Window = "30d"
	}
}

func (r *osloReading) budgeting() {
	path := r.s.base + ".spec.budgetingMethod"
	switch m := r.s.spec.BudgetingMethod; m {
	case "Occurrences":
		r.rs.Budgeting = Occurrences
		if r.threshold {
			r.ps.claim(path, "a thresholdMetric is budgeted in time slices: use budgetingMethod: Timeslices")
		}
	case "Timeslices", "RatioTimeslices":
		r.rs.Budgeting = Timeslices
	case "":
		r.ps.claim(path, "required: Occurrences (good events / all events) or Timeslices (good slices / all slices)")
	default:
		r.ps.claim(path, "%q: use Occurrences, Timeslices or RatioTimeslices", m)
	}
}

// metric reads one metric source of the SLI: its query, where it sits,
// and the DataSource it names (one for the whole SLI).
func (r *osloReading) metric(sliBase, key, native string, m *osloMetricSource) string {
	if m == nil {
		return ""
	}
	q := "query"
	if m.MetricSource.Spec.Query == "" && m.MetricSource.Spec.PromQL != "" {
		q = "promql"
	}
	path := sliBase + "." + key + ".metricSource"
	r.origin.queries[native] = path + ".spec." + q
	switch ref := m.MetricSource.MetricSourceRef; {
	case ref == "":
	case r.rs.Provider == "":
		r.rs.Provider, r.origin.srcRef = ref, path+".metricSourceRef"
	case ref != r.rs.Provider:
		r.ps.claim(path+".metricSourceRef", "%q differs from %q of the other metrics: sloguard reads an SLI from one DataSource", ref, r.rs.Provider)
	}
	return m.query()
}

// metrics reads the SLI's queries into the native shape.
func (r *osloReading) metrics(sli *osloSLI, sliBase string) {
	switch rm, tm := sli.Spec.RatioMetric, sli.Spec.ThresholdMetric; {
	case rm != nil && tm != nil:
		r.ps.claim(sliBase, "use ratioMetric or thresholdMetric, not both")
	case rm != nil:
		q := &r.rs.SLI
		q.TotalQuery = r.metric(sliBase, "ratioMetric.total", "total_query", rm.Total)
		q.GoodQuery = r.metric(sliBase, "ratioMetric.good", "good_query", rm.Good)
		q.ErrorQuery = r.metric(sliBase, "ratioMetric.bad", "error_query", rm.Bad)
		if rm.Raw != nil {
			raw := r.metric(sliBase, "ratioMetric.raw", "error_ratio_query", rm.Raw)
			switch rm.RawType {
			case "failure":
				q.ErrorRatioQuery = raw
			case "success":
				q.ErrorRatioQuery = "1 - (" + raw + ")"
			default:
				r.ps.claim(sliBase+".ratioMetric.rawType", "%q: use success or failure (what the raw ratio counts)", rm.RawType)
			}
		}
		q.counter = rm.Counter && !windowVar.MatchString(q.TotalQuery)
	case tm != nil:
		r.rs.SLI.Query = r.metric(sliBase, "thresholdMetric", "query", tm)
	default:
		r.ps.claim(sliBase, "needs ratioMetric or thresholdMetric")
	}
}

// objective builds the native SLO of the j-th objective (named after it
// when there are several).
func (r *osloReading) objective(j int, o osloObjective, several bool) osloBuilt {
	rs, org := r.rs, r.origin
	org.objective = fmt.Sprintf("%s.spec.objectives[%d]", r.s.base, j)
	org.targetKey = "target"
	if several {
		rs.Name = r.rs.Name + "-" + firstNonEmpty(o.Name, slug(o.DisplayName), fmt.Sprint(j))
	}
	rs.Objective, org.targetKey = r.target(o, org.objective)
	if r.threshold {
		rs.SLI.Op, rs.SLI.Value = r.comparison(o, org.objective)
	}
	if rs.Budgeting == Timeslices {
		rs.Timeslice = &rawTimeslice{Window: o.TimeSliceWindow, Target: r.sliceTarget(o, org.objective)}
	}
	return osloBuilt{raw: rs, origin: org}
}

// target reads an objective's target as a percent, and the key it sits
// at.
func (r *osloReading) target(o osloObjective, at string) (*float64, string) {
	switch t := o.Target; {
	case t != nil && o.TargetPercent != nil:
		r.ps.claim(at+".targetPercent", "use target or targetPercent, not both")
		return nil, "targetPercent"
	case o.TargetPercent != nil:
		return o.TargetPercent, "targetPercent"
	case t == nil:
		r.ps.claim(at+".target", "required: the objective as a fraction, e.g. 0.999 for 99.9 %% (or targetPercent: 99.9)")
	case math.IsNaN(*t) || *t <= 0 || *t >= 1:
		r.ps.claim(at+".target", "must be between 0 and 1 (exclusive), e.g. 0.999 for 99.9 %%, got %v", *t)
	default:
		v := percent(*t)
		return &v, "target"
	}
	return nil, "target"
}

// comparison reads a threshold objective's op and value.
func (r *osloReading) comparison(o osloObjective, at string) (string, *float64) {
	op, ok := osloOps[o.Op]
	switch {
	case o.Op == "":
		r.ps.claim(at+".op", "required with a thresholdMetric: lt, lte, gt or gte (the comparison a good value passes, e.g. lt for latency)")
	case !ok:
		r.ps.claim(at+".op", "%q: use lt, lte, gt or gte", o.Op)
	}
	if o.Value == nil {
		r.ps.claim(at+".value", "required with a thresholdMetric: the limit a good value meets, e.g. 0.3")
	}
	return op, o.Value
}

// sliceTarget reads a timeslices objective's slice target as a percent.
func (r *osloReading) sliceTarget(o osloObjective, at string) *float64 {
	switch t := o.TimeSliceTarget; {
	case r.threshold:
	case t == nil:
		r.ps.claim(at+".timeSliceTarget", "required with budgetingMethod: %s: the fraction of good events a slice needs to count as good, e.g. 0.95", r.s.spec.BudgetingMethod)
	case math.IsNaN(*t) || *t <= 0 || *t > 1:
		r.ps.claim(at+".timeSliceTarget", "must be above 0 and at most 1, e.g. 0.95, got %v", *t)
	default:
		v := percent(*t)
		return &v
	}
	return nil
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
