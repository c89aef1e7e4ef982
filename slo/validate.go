package slo

import (
	"fmt"
	"math"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"
)

var (
	namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]*$`)
	envPattern  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	windowVar   = regexp.MustCompile(`\{\{\s*\.window\s*\}\}`)
)

// WindowVar matches {{.window}} in a query, spaces allowed.
func WindowVar() *regexp.Regexp { return windowVar }

// ExpandWindow replaces {{.window}} in q with w written as Prometheus does.
func ExpandWindow(q string, w time.Duration) string {
	return windowVar.ReplaceAllLiteralString(q, FormatDuration(w))
}

// build turns the raw native shape into a Config, reporting every problem.
func build(raw *rawConfig, ps *problems, opts Options) *Config {
	cfg := &Config{where: ps}
	ts := newTypes(opts.Types)
	cfg.Providers = buildProviders(raw, ts, ps, opts)
	if len(cfg.Providers) == 0 && len(raw.Providers) == 0 && len(raw.SLOs) > 0 {
		msg := raw.noProvider
		if msg == "" {
			msg = "no provider to query: add one under providers (or pass --prometheus-url)"
		}
		ps.add("providers", "%s", msg)
	}

	if len(raw.SLOs) == 0 && !raw.noSLOsReported {
		ps.add("slos", "no SLOs: add at least one under slos")
	}
	sloNames := map[string]bool{}
	for i, rs := range raw.SLOs {
		path := fmt.Sprintf("slos[%d]", i)
		s := buildSLO(rs, path, cfg.Providers, ts, ps)
		if s.Name != "" && sloNames[s.Name] {
			ps.add(path+".name", "duplicate SLO name %q: --slo and the decision record refer to SLOs by name, so names must be unique", s.Name)
		}
		sloNames[s.Name] = true
		cfg.SLOs = append(cfg.SLOs, s)
	}
	cfg.Gate = buildGate(raw.Gate, ps)
	cfg.Canary = buildCanary(raw.Canary, ps)
	checkOffsetBackends(cfg, ts, ps)
	cfg.Rollback = buildRollback(raw.Rollback, ps, opts.Actions)
	return cfg
}

func buildSLO(rs rawSLO, path string, providers []Provider, ts *types, ps *problems) SLO {
	s := SLO{Name: rs.Name, Service: rs.Service, Description: rs.Description, Provider: rs.Provider, Window: 30 * day, Budgeting: Occurrences}
	if s.Name == "" {
		ps.add(path+".name", "required: a unique name, e.g. checkout-availability")
	} else if !namePattern.MatchString(s.Name) {
		ps.add(path+".name", "%q: use letters, digits and _ . : -", s.Name)
	}
	switch {
	case rs.Objective == nil:
		ps.add(path+".objective", "required: the target in percent, e.g. 99.9")
	case math.IsNaN(*rs.Objective) || *rs.Objective <= 0 || *rs.Objective >= 100:
		ps.add(path+".objective", "must be a percent between 0 and 100 (exclusive), e.g. 99.9, got %v", *rs.Objective)
	case *rs.Objective <= 1:
		ps.add(path+".objective", "%v looks like a fraction: the objective is a percent, e.g. 99.9 (not 0.999)", *rs.Objective)
	default:
		s.Objective = *rs.Objective
	}
	parse := rs.windowParser
	if parse == nil {
		parse = ParseDuration
	}
	if rs.Window != "" {
		if d, err := parse(rs.Window); err != nil {
			ps.add(path+".window", "%v", err)
		} else {
			s.Window = d
		}
	}

	var prov Provider
	switch {
	case s.Provider != "":
		p, ok := findProvider(providers, s.Provider)
		if !ok {
			ps.add(path+".provider", "unknown provider %q: defined are %s", s.Provider, providerNames(providers))
		}
		prov = p
	case len(providers) == 1:
		prov = providers[0]
		s.Provider = prov.Name
	case len(providers) == 0:
		// reported once for the file by build
	default:
		ps.add(path+".provider", "required when there are %d providers: one of %s", len(providers), providerNames(providers))
	}

	var rules QueryRules
	if pt, ok := ts.byName[prov.Type]; ok {
		rules = pt.Queries
	}
	s.SLI = buildSLI(rs.SLI, path+".sli", rules, ps)
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
		ps.add(path+".budgeting", "unknown budgeting %q: use occurrences or timeslices", rs.Budgeting)
	}
	if rs.Budgeting == Occurrences && threshold {
		ps.add(path+".budgeting", "a threshold SLI (op, value) is budgeted in timeslices: remove budgeting or set it to timeslices")
	}
	if rs.Timeslice != nil && s.Budgeting != Timeslices {
		ps.add(path+".timeslice", "only used with budgeting: timeslices")
	}
	if s.Budgeting == Timeslices {
		// 5m, not 1m: rate() over one scrape interval has too few samples
		// at common 30s-1m scrapes, and every slice would read as empty.
		s.Timeslice = Timeslice{Window: 5 * time.Minute}
		if rs.Timeslice != nil && rs.Timeslice.Window != "" {
			if d, err := parse(rs.Timeslice.Window); err != nil {
				ps.add(path+".timeslice.window", "%v", err)
			} else {
				s.Timeslice.Window = d
			}
		}
		if s.Window%s.Timeslice.Window != 0 {
			ps.add(path+".timeslice.window", "%s does not divide the SLO window %s", durationText(rs.Timeslice.window(), s.Timeslice.Window), durationText(rs.Window, s.Window))
		}
		switch {
		case rs.Timeslice != nil && rs.Timeslice.Target != nil:
			t := *rs.Timeslice.Target
			if threshold {
				ps.add(path+".timeslice.target", "not used by a threshold SLI: a slice is good when its value meets op and value")
			} else if math.IsNaN(t) || t <= 0 || t > 100 {
				ps.add(path+".timeslice.target", "must be a percent above 0 and at most 100, got %v", t)
			}
			s.Timeslice.Target = t
		case !threshold:
			ps.add(path+".timeslice.target", "required with budgeting: timeslices: the SLI in percent a slice must reach to count as good, e.g. 99")
		}
	}
	return s
}

func buildSLI(r rawSLI, path string, rules QueryRules, ps *problems) SLI {
	s := SLI{ErrorQuery: r.ErrorQuery, GoodQuery: r.GoodQuery, TotalQuery: r.TotalQuery, ErrorRatioQuery: r.ErrorRatioQuery, Query: r.Query, Op: r.Op, Counter: r.counter}
	events := r.ErrorQuery != "" || r.GoodQuery != "" || r.TotalQuery != ""
	ratio := r.ErrorRatioQuery != ""
	threshold := r.Query != "" || r.Op != "" || r.Value != nil
	shapes := 0
	for _, b := range []bool{events, ratio, threshold} {
		if b {
			shapes++
		}
	}
	needsQueries := !rules.Recorded
	if r.DatadogSLOID != "" {
		s.DatadogSLOID = r.DatadogSLOID
		if !rules.SLOObject {
			ps.add(path+".datadog_slo_id", "only used with a datadog provider")
		}
		if shapes > 0 || r.Consecutive != nil {
			ps.add(path+".datadog_slo_id", "reads a Datadog SLO object's budget: remove the other SLI keys (queries, op, value, consecutive)")
		}
		return s
	}
	switch {
	case shapes > 1:
		ps.add(path, "use one SLI shape: events (error_query or good_query, with total_query), error_ratio_query, or a threshold (query, op, value)")
		return s
	case shapes == 0:
		if needsQueries {
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
	// Backends that take the window from the request's time range
	// (Datadog, Application Insights) need no {{.window}}.
	windowed := rules.Windowed
	checkQuery := func(key, q string, needWindow bool) {
		if q == "" {
			return
		}
		rest := windowVar.ReplaceAllString(q, "")
		if strings.Contains(rest, "{{") {
			ps.add(path+"."+key, "only {{.window}} may be templated in a query")
		}
		if needWindow && windowed && !s.Counter && !windowVar.MatchString(q) {
			ps.add(path+"."+key, "missing {{.window}}: write the range as [{{.window}}] so that sloguard can evaluate each window, e.g. rate(http_requests_total[{{.window}}])")
		}
	}
	switch {
	case events:
		if r.TotalQuery == "" && needsQueries {
			ps.add(path+".total_query", "required with error_query or good_query")
		}
		if r.ErrorQuery != "" && r.GoodQuery != "" {
			ps.add(path+".good_query", "use error_query or good_query, not both")
		} else if r.ErrorQuery == "" && r.GoodQuery == "" && needsQueries {
			ps.add(path+".error_query", "required with total_query: error_query (bad events) or good_query")
		}
		checkQuery("error_query", r.ErrorQuery, true)
		checkQuery("good_query", r.GoodQuery, true)
		checkQuery("total_query", r.TotalQuery, true)
	case ratio:
		checkQuery("error_ratio_query", r.ErrorRatioQuery, true)
	case threshold:
		if r.Query == "" && needsQueries {
			ps.add(path+".query", "required with op and value")
		}
		if r.Op == "" {
			ps.add(path+".op", "required with query and value: one of <, <=, >, >= (the comparison a good value passes, e.g. < for latency)")
		} else if !contains([]string{"<", "<=", ">", ">="}, r.Op) {
			ps.add(path+".op", "%q: use one of <, <=, >, >= (the comparison a good value passes, e.g. < for latency)", r.Op)
		}
		if r.Value == nil {
			ps.add(path+".value", "required: the limit a good value meets, e.g. 0.3")
		} else if math.IsNaN(*r.Value) || math.IsInf(*r.Value, 0) {
			ps.add(path+".value", "must be a finite number")
		} else {
			s.Value = *r.Value
		}
		checkQuery("query", r.Query, false)
	}
	return s
}

func buildGate(r *rawGate, ps *problems) GatePolicy {
	g := GatePolicy{BurnAlerts: DefaultBurnAlerts(), OnNoData: PolicyPass, OnError: PolicyInconclusive}
	if r == nil {
		return g
	}
	if r.MinBudgetRemaining != nil {
		v := *r.MinBudgetRemaining
		if math.IsNaN(v) || v > 100 {
			ps.add("gate.min_budget_remaining", "must be a percent of at most 100, got %v", v)
		}
		g.MinBudgetRemaining = v
	}
	if r.BurnRateAlerts != nil {
		g.BurnAlerts = []BurnAlert{}
		for i, a := range r.BurnRateAlerts {
			path := fmt.Sprintf("gate.burn_rate_alerts[%d]", i)
			b := BurnAlert{}
			window := func(key, v, eg string) time.Duration {
				if v == "" {
					ps.add(path+"."+key, "required: a window such as %s", eg)
					return 0
				}
				d, err := ParseDuration(v)
				if err != nil {
					ps.add(path+"."+key, "%v", err)
				}
				return d
			}
			b.Long = window("long", a.Long, "1h")
			b.Short = window("short", a.Short, "5m")
			if b.Long > 0 && b.Short >= b.Long {
				ps.add(path+".short", "%s must be shorter than long (%s): the short window confirms that the long one is still burning", FormatDuration(b.Short), FormatDuration(b.Long))
			}
			switch f := a.Factor; {
			case f == nil:
				ps.add(path+".factor", "required: the burn rate both windows must exceed, e.g. 14.4")
			case math.IsNaN(*f) || math.IsInf(*f, 0) || *f <= 0:
				ps.add(path+".factor", "must be a burn rate above 0, e.g. 14.4, got %v", *f)
			default:
				b.Factor = *f
			}
			g.BurnAlerts = append(g.BurnAlerts, b)
		}
	}
	g.OnNoData = policy(r.OnNoData, g.OnNoData, "gate.on_no_data", ps)
	g.OnError = policy(r.OnError, g.OnError, "gate.on_error", ps)
	return g
}

func policy(v, def, path string, ps *problems) string {
	if v == "" {
		return def
	}
	if !contains([]string{PolicyPass, PolicyFail, PolicyInconclusive}, v) {
		ps.add(path, "%q: use pass, fail or inconclusive", v)
		return def
	}
	return v
}

// durationText is a duration as the user wrote it, or as Prometheus does
// when it was a default.
func durationText(written string, d time.Duration) string {
	if written != "" {
		return written
	}
	return FormatDuration(d)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func findProvider(ps []Provider, name string) (Provider, bool) {
	for _, p := range ps {
		if p.Name == name {
			return p, true
		}
	}
	return Provider{}, false
}

func providerNames(ps []Provider) string {
	if len(ps) == 0 {
		return "none"
	}
	n := make([]string, len(ps))
	for i, p := range ps {
		n[i] = fmt.Sprintf("%q", p.Name)
	}
	return strings.Join(n, ", ")
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// redactURL drops credentials, query strings and fragments from a URL
// before it is quoted in an error.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		s, _, _ := strings.Cut(raw, "?")
		s, _, _ = strings.Cut(s, "#")
		if i := strings.LastIndex(s, "@"); i >= 0 {
			s = s[i+1:]
		}
		return s
	}
	u.User = nil
	u.RawQuery = ""
	u.Fragment = ""
	return u.String()
}
