package slo

import (
	"math"
	"strings"
	"time"
)

// sloBuilder builds one SLO of the native shape, reporting its problems
// under path.
type sloBuilder struct {
	rs    rawSLO
	path  string
	ps    *problems
	parse func(string) (time.Duration, error) // the format's durations
}

func buildSLO(rs rawSLO, path string, providers []Provider, ts *types, ps *problems) SLO {
	b := sloBuilder{rs: rs, path: path, ps: ps, parse: rs.windowParser}
	if b.parse == nil {
		b.parse = ParseDuration
	}
	s := SLO{Name: rs.Name, Service: rs.Service, Description: rs.Description, Provider: rs.Provider, Window: 30 * day, Budgeting: Occurrences}
	b.name(s.Name)
	s.Objective = b.objective()
	if rs.Window != "" {
		if d, err := b.parse(rs.Window); err != nil {
			ps.add(path+".window", "%v", err)
		} else {
			s.Window = d
		}
	}
	prov := b.provider(&s, providers)
	var rules QueryRules
	if pt, ok := ts.byName[prov.Type]; ok {
		rules = pt.Queries
	}
	s.SLI = buildSLI(rs.SLI, path+".sli", rules, ps)
	b.budgeting(&s)
	return s
}

func (b sloBuilder) name(name string) {
	if name == "" {
		b.ps.add(b.path+".name", "required: a unique name, e.g. checkout-availability")
	} else if !namePattern.MatchString(name) {
		b.ps.add(b.path+".name", "%q: use letters, digits and _ . : -", name)
	}
}

func (b sloBuilder) objective() float64 {
	o := b.rs.Objective
	switch {
	case o == nil:
		b.ps.add(b.path+".objective", "required: the target in percent, e.g. 99.9")
	case math.IsNaN(*o) || *o <= 0 || *o >= 100:
		b.ps.add(b.path+".objective", "must be a percent between 0 and 100 (exclusive), e.g. 99.9, got %v", *o)
	case *o <= 1:
		b.ps.add(b.path+".objective", "%v looks like a fraction: the objective is a percent, e.g. 99.9 (not 0.999)", *o)
	default:
		return *o
	}
	return 0
}

// provider finds the provider the SLO reads: the one named, or the only
// one there is.
func (b sloBuilder) provider(s *SLO, providers []Provider) Provider {
	switch {
	case s.Provider != "":
		p, ok := findProvider(providers, s.Provider)
		if !ok {
			b.ps.add(b.path+".provider", "unknown provider %q: defined are %s", s.Provider, providerNames(providers))
		}
		return p
	case len(providers) == 1:
		s.Provider = providers[0].Name
		return providers[0]
	case len(providers) == 0:
		// reported once for the file by build
	default:
		b.ps.add(b.path+".provider", "required when there are %d providers: one of %s", len(providers), providerNames(providers))
	}
	return Provider{}
}

// budgeting sets how the SLO's budget is counted, and its time slices.
func (b sloBuilder) budgeting(s *SLO) {
	rs, path := b.rs, b.path
	// A threshold SLI, even one whose op is missing or wrong: it is
	// budgeted in time slices either way.
	threshold := s.SLI.Kind() == KindThreshold ||
		(rs.SLI.Query != "" || rs.SLI.Op != "" || rs.SLI.Value != nil) && rs.SLI.ErrorQuery == "" && rs.SLI.GoodQuery == "" && rs.SLI.TotalQuery == "" && rs.SLI.ErrorRatioQuery == ""
	switch rs.Budgeting {
	case "", Occurrences:
		if threshold {
			s.Budgeting = Timeslices
		}
	case Timeslices:
		s.Budgeting = Timeslices
	default:
		b.ps.add(path+".budgeting", "unknown budgeting %q: use occurrences or timeslices", rs.Budgeting)
	}
	if rs.Budgeting == Occurrences && threshold {
		b.ps.add(path+".budgeting", "a threshold SLI (op, value) is budgeted in timeslices: remove budgeting or set it to timeslices")
	}
	if rs.Timeslice != nil && s.Budgeting != Timeslices {
		b.ps.add(path+".timeslice", "only used with budgeting: timeslices")
	}
	if s.Budgeting == Timeslices {
		s.Timeslice = b.timeslice(s.Window, threshold)
	}
}

// timeslice reads the slices of a timeslices SLO of window.
func (b sloBuilder) timeslice(window time.Duration, threshold bool) Timeslice {
	rs, path := b.rs, b.path
	// 5m, not 1m: rate() over one scrape interval has too few samples at
	// common 30s-1m scrapes, and every slice would read as empty.
	ts := Timeslice{Window: 5 * time.Minute}
	if rs.Timeslice != nil && rs.Timeslice.Window != "" {
		if d, err := b.parse(rs.Timeslice.Window); err != nil {
			b.ps.add(path+".timeslice.window", "%v", err)
		} else {
			ts.Window = d
		}
	}
	if window%ts.Window != 0 {
		b.ps.add(path+".timeslice.window", "%s does not divide the SLO window %s", durationText(rs.Timeslice.window(), ts.Window), durationText(rs.Window, window))
	}
	switch {
	case rs.Timeslice != nil && rs.Timeslice.Target != nil:
		t := *rs.Timeslice.Target
		if threshold {
			b.ps.add(path+".timeslice.target", "not used by a threshold SLI: a slice is good when its value meets op and value")
		} else if math.IsNaN(t) || t <= 0 || t > 100 {
			b.ps.add(path+".timeslice.target", "must be a percent above 0 and at most 100, got %v", t)
		}
		ts.Target = t
	case !threshold:
		b.ps.add(path+".timeslice.target", "required with budgeting: timeslices: the SLI in percent a slice must reach to count as good, e.g. 99")
	}
	return ts
}

// sliBuilder builds an SLO's SLI under path, by the rules of the backend
// that reads it.
type sliBuilder struct {
	r     rawSLI
	path  string
	rules QueryRules
	ps    *problems
}

func buildSLI(r rawSLI, path string, rules QueryRules, ps *problems) SLI {
	b := sliBuilder{r: r, path: path, rules: rules, ps: ps}
	s := SLI{ErrorQuery: r.ErrorQuery, GoodQuery: r.GoodQuery, TotalQuery: r.TotalQuery, ErrorRatioQuery: r.ErrorRatioQuery, Query: r.Query, Op: r.Op, Counter: r.counter}
	events := r.ErrorQuery != "" || r.GoodQuery != "" || r.TotalQuery != ""
	ratio := r.ErrorRatioQuery != ""
	threshold := r.Query != "" || r.Op != "" || r.Value != nil
	shapes := 0
	for _, on := range []bool{events, ratio, threshold} {
		if on {
			shapes++
		}
	}
	if r.DatadogSLOID != "" {
		s.DatadogSLOID = r.DatadogSLOID
		b.sloObject(shapes)
		return s
	}
	switch {
	case shapes > 1:
		ps.add(path, "use one SLI shape: events (error_query or good_query, with total_query), error_ratio_query, or a threshold (query, op, value)")
		return s
	case shapes == 0:
		if !rules.Recorded {
			ps.add(path, "required: error_query or good_query with total_query, error_ratio_query, or query with op and value")
		}
		return s
	}
	if r.Consecutive != nil {
		if !threshold {
			ps.add(path+".consecutive", "only used by threshold SLIs (op, value)")
		} else if *r.Consecutive < 1 {
			ps.add(path+".consecutive", "must be at least 1, got %d", *r.Consecutive)
		}
		s.Consecutive = *r.Consecutive
	}
	switch {
	case events:
		b.events()
	case ratio:
		b.query("error_ratio_query", r.ErrorRatioQuery, true)
	case threshold:
		s.Value = b.threshold()
	}
	return s
}

// sloObject checks an SLI that reads a vendor's SLO object.
func (b sliBuilder) sloObject(shapes int) {
	if !b.rules.SLOObject {
		b.ps.add(b.path+".datadog_slo_id", "only used with a datadog provider")
	}
	if shapes > 0 || b.r.Consecutive != nil {
		b.ps.add(b.path+".datadog_slo_id", "reads a Datadog SLO object's budget: remove the other SLI keys (queries, op, value, consecutive)")
	}
}

func (b sliBuilder) events() {
	r, path, needsQueries := b.r, b.path, !b.rules.Recorded
	if r.TotalQuery == "" && needsQueries {
		b.ps.add(path+".total_query", "required with error_query or good_query")
	}
	if r.ErrorQuery != "" && r.GoodQuery != "" {
		b.ps.add(path+".good_query", "use error_query or good_query, not both")
	} else if r.ErrorQuery == "" && r.GoodQuery == "" && needsQueries {
		b.ps.add(path+".error_query", "required with total_query: error_query (bad events) or good_query")
	}
	b.query("error_query", r.ErrorQuery, true)
	b.query("good_query", r.GoodQuery, true)
	b.query("total_query", r.TotalQuery, true)
}

// threshold checks a threshold SLI and returns its limit.
func (b sliBuilder) threshold() float64 {
	r, path := b.r, b.path
	if r.Query == "" && !b.rules.Recorded {
		b.ps.add(path+".query", "required with op and value")
	}
	if r.Op == "" {
		b.ps.add(path+".op", "required with query and value: one of <, <=, >, >= (the comparison a good value passes, e.g. < for latency)")
	} else if !contains([]string{"<", "<=", ">", ">="}, r.Op) {
		b.ps.add(path+".op", "%q: use one of <, <=, >, >= (the comparison a good value passes, e.g. < for latency)", r.Op)
	}
	var v float64
	switch {
	case r.Value == nil:
		b.ps.add(path+".value", "required: the limit a good value meets, e.g. 0.3")
	case math.IsNaN(*r.Value) || math.IsInf(*r.Value, 0):
		b.ps.add(path+".value", "must be a finite number")
	default:
		v = *r.Value
	}
	b.query("query", r.Query, false)
	return v
}

// query checks one query's template. Backends that take the window from
// the request's time range (Datadog, Application Insights) need no
// {{.window}}.
func (b sliBuilder) query(key, q string, needWindow bool) {
	if q == "" {
		return
	}
	rest := windowVar.ReplaceAllString(q, "")
	if strings.Contains(rest, "{{") {
		b.ps.add(b.path+"."+key, "only {{.window}} may be templated in a query")
	}
	if needWindow && b.rules.Windowed && !b.r.counter && !windowVar.MatchString(q) {
		b.ps.add(b.path+"."+key, "missing {{.window}}: write the range as [{{.window}}] so that sloguard can evaluate each window, e.g. rate(http_requests_total[{{.window}}])")
	}
}
