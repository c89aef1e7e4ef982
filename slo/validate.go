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
	namePattern   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]*$`)
	envPattern    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	windowVar     = regexp.MustCompile(`\{\{\s*\.window\s*\}\}`)
	providerTypes = []string{"prometheus", "datadog", "appinsights", "scrape", "static"}
)

// WindowVar matches {{.window}} in a query, spaces allowed.
func WindowVar() *regexp.Regexp { return windowVar }

// ExpandWindow replaces {{.window}} in q with w written as Prometheus does.
func ExpandWindow(q string, w time.Duration) string {
	return windowVar.ReplaceAllLiteralString(q, FormatDuration(w))
}

// build turns the raw native shape into a Config, reporting every problem.
func build(raw *rawConfig, ps *problems, opts Options) *Config {
	cfg := &Config{}
	names := map[string]bool{}
	for i, rp := range raw.Providers {
		p := buildProvider(rp, fmt.Sprintf("providers[%d]", i), ps)
		if p.Name != "" && names[p.Name] {
			ps.add(fmt.Sprintf("providers[%d].name", i), "duplicate provider name %q", p.Name)
		}
		names[p.Name] = true
		cfg.Providers = append(cfg.Providers, p)
	}
	if len(cfg.Providers) == 0 && opts.PrometheusURL != "" {
		cfg.Providers = append(cfg.Providers, Provider{Name: "default", Type: "prometheus", URL: opts.PrometheusURL, Timeout: 30 * time.Second, Retries: 3, MaxConcurrency: 10})
	}

	if len(raw.SLOs) == 0 {
		ps.add("slos", "no SLOs: add at least one under slos")
	}
	sloNames := map[string]bool{}
	for i, rs := range raw.SLOs {
		path := fmt.Sprintf("slos[%d]", i)
		s := buildSLO(rs, path, cfg.Providers, ps)
		if s.Name != "" && sloNames[s.Name] {
			ps.add(path+".name", "duplicate SLO name %q", s.Name)
		}
		sloNames[s.Name] = true
		cfg.SLOs = append(cfg.SLOs, s)
	}
	cfg.Gate = buildGate(raw.Gate, ps)
	cfg.Canary = buildCanary(raw.Canary, ps)
	cfg.Rollback = buildRollback(raw.Rollback, ps)
	return cfg
}

func buildProvider(rp rawProvider, path string, ps *problems) Provider {
	p := Provider{
		Name: rp.Name, Type: rp.Type, URL: rp.URL, Headers: rp.Headers,
		BearerTokenEnv: rp.BearerTokenEnv, PartialResponse: rp.PartialResponse,
		Site: rp.Site, APIKeyEnv: rp.APIKeyEnv, AppKeyEnv: rp.AppKeyEnv,
		AppID: rp.AppID, WorkspaceID: rp.WorkspaceID, Auth: rp.Auth, ClientID: rp.ClientID,
		Targets: rp.Targets, File: rp.File, Values: rp.Values,
		Timeout: 30 * time.Second, Retries: 3, MaxConcurrency: 10,
	}
	if rp.BasicAuth != nil {
		p.BasicAuthUserEnv, p.BasicAuthPasswordEnv = rp.BasicAuth.UsernameEnv, rp.BasicAuth.PasswordEnv
	}
	if rp.TLS != nil {
		p.CAFile, p.InsecureSkipVerify = rp.TLS.CAFile, rp.TLS.InsecureSkipVerify
	}
	if p.Name == "" {
		ps.add(path+".name", "required")
	} else if !namePattern.MatchString(p.Name) {
		ps.add(path+".name", "%q: use letters, digits and _ . : -", p.Name)
	}
	if !contains(providerTypes, p.Type) {
		if p.Type == "" {
			ps.add(path+".type", "required: one of %s", strings.Join(providerTypes, ", "))
		} else {
			ps.add(path+".type", "unknown provider type %q: use one of %s", p.Type, strings.Join(providerTypes, ", "))
		}
		return p
	}
	if rp.Timeout != "" {
		if d, err := ParseDuration(rp.Timeout); err != nil {
			ps.add(path+".timeout", "%v", err)
		} else {
			p.Timeout = d
		}
	}
	if rp.Retries != nil {
		if *rp.Retries < 0 || *rp.Retries > 10 {
			ps.add(path+".retries", "must be between 0 and 10, got %d", *rp.Retries)
		}
		p.Retries = *rp.Retries
	}
	if rp.MaxConcurrency != nil {
		if *rp.MaxConcurrency < 1 || *rp.MaxConcurrency > 100 {
			ps.add(path+".max_concurrency", "must be between 1 and 100, got %d", *rp.MaxConcurrency)
		}
		p.MaxConcurrency = *rp.MaxConcurrency
	}
	for key, env := range map[string]string{
		"bearer_token_env": p.BearerTokenEnv, "basic_auth.username_env": p.BasicAuthUserEnv,
		"basic_auth.password_env": p.BasicAuthPasswordEnv, "api_key_env": p.APIKeyEnv, "app_key_env": p.AppKeyEnv,
	} {
		if env != "" && !envPattern.MatchString(env) {
			// Never echo the value: it may be the secret itself.
			ps.add(path+"."+key, "must name an environment variable (letters, digits and _), not hold the secret itself")
		}
	}
	if (p.BasicAuthUserEnv == "") != (p.BasicAuthPasswordEnv == "") && rp.BasicAuth != nil {
		ps.add(path+".basic_auth", "needs both username_env and password_env")
	}
	if p.BearerTokenEnv != "" && p.BasicAuthUserEnv != "" {
		ps.add(path+".bearer_token_env", "use either bearer_token_env or basic_auth, not both")
	}
	if p.URL != "" {
		u, err := url.Parse(p.URL)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			ps.add(path+".url", "%q is not an http(s) URL", redactURL(p.URL))
		case u.User != nil:
			ps.add(path+".url", "must not carry credentials: use basic_auth with username_env and password_env")
		}
	}
	checkProviderFields(rp, p.Type, path, ps)
	switch p.Type {
	case "prometheus":
		if p.URL == "" {
			ps.add(path+".url", "required for a prometheus provider, e.g. http://127.0.0.1:9090")
		}
	case "datadog":
		if p.Site == "" {
			p.Site = "datadoghq.com"
		}
		if p.APIKeyEnv == "" {
			p.APIKeyEnv = "DD_API_KEY"
		}
		if p.AppKeyEnv == "" {
			p.AppKeyEnv = "DD_APP_KEY"
		}
	case "appinsights":
		if (p.AppID == "") == (p.WorkspaceID == "") {
			ps.add(path+".app_id", "set exactly one of app_id (Application Insights) or workspace_id (Log Analytics)")
		}
		auths := []string{"default", "environment", "workload_identity", "managed_identity", "azure_cli", "api_key"}
		if p.Auth == "" {
			p.Auth = "default"
		}
		if !contains(auths, p.Auth) {
			ps.add(path+".auth", "unknown auth %q: use one of %s", p.Auth, strings.Join(auths, ", "))
		}
		if p.Auth == "api_key" && p.APIKeyEnv == "" {
			ps.add(path+".api_key_env", "required with auth: api_key")
		}
	case "scrape":
		if len(p.Targets) == 0 {
			ps.add(path+".targets", "required: the /metrics URLs per scope, e.g. {canary: [http://10.0.0.5:8080/metrics]}")
		}
		for scope, urls := range p.Targets {
			if !contains([]string{"service", "canary", "baseline"}, scope) {
				ps.add(path+".targets."+scope, "unknown scope %q: use service, canary or baseline", scope)
			}
			for _, t := range urls {
				if u, err := url.Parse(t); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
					ps.add(path+".targets."+scope, "%q is not an http(s) URL", redactURL(t))
				}
			}
		}
	case "static":
		if p.File == "" && p.Values == nil {
			ps.add(path, "a static provider needs values or file")
		}
	}
	return p
}

// checkProviderFields rejects keys that the provider's type does not use.
func checkProviderFields(rp rawProvider, typ, path string, ps *problems) {
	set := map[string]bool{
		"url": rp.URL != "", "headers": rp.Headers != nil, "bearer_token_env": rp.BearerTokenEnv != "",
		"basic_auth": rp.BasicAuth != nil, "tls": rp.TLS != nil, "partial_response": rp.PartialResponse != nil,
		"site": rp.Site != "", "api_key_env": rp.APIKeyEnv != "", "app_key_env": rp.AppKeyEnv != "",
		"app_id": rp.AppID != "", "workspace_id": rp.WorkspaceID != "", "auth": rp.Auth != "", "client_id": rp.ClientID != "",
		"targets": rp.Targets != nil, "file": rp.File != "", "values": rp.Values != nil,
		"timeout": rp.Timeout != "", "retries": rp.Retries != nil, "max_concurrency": rp.MaxConcurrency != nil,
	}
	httpKeys := []string{"timeout", "retries", "max_concurrency"}
	allowed := map[string][]string{
		"prometheus":  append([]string{"url", "headers", "bearer_token_env", "basic_auth", "tls", "partial_response"}, httpKeys...),
		"datadog":     append([]string{"url", "site", "api_key_env", "app_key_env", "tls"}, httpKeys...),
		"appinsights": append([]string{"url", "app_id", "workspace_id", "auth", "client_id", "api_key_env", "tls"}, httpKeys...),
		"scrape":      append([]string{"targets", "headers", "bearer_token_env", "basic_auth", "tls"}, httpKeys...),
		"static":      {"file", "values"},
	}[typ]
	var keys []string
	for k, v := range set {
		if v && !contains(allowed, k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		ps.add(path+"."+k, "not used by a %s provider: remove it", typ)
	}
}

func buildSLO(rs rawSLO, path string, providers []Provider, ps *problems) SLO {
	s := SLO{Name: rs.Name, Service: rs.Service, Description: rs.Description, Provider: rs.Provider, Window: 30 * day, Budgeting: Occurrences}
	if s.Name == "" {
		ps.add(path+".name", "required")
	} else if !namePattern.MatchString(s.Name) {
		ps.add(path+".name", "%q: use letters, digits and _ . : -", s.Name)
	}
	switch {
	case rs.Objective == nil:
		ps.add(path+".objective", "required: the target in percent, e.g. 99.9")
	case math.IsNaN(*rs.Objective) || *rs.Objective <= 0 || *rs.Objective >= 100:
		ps.add(path+".objective", "must be between 0 and 100 (exclusive), got %v", *rs.Objective)
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
		ps.add(path+".provider", "no provider to query: add one under providers (or pass --prometheus-url)")
	default:
		ps.add(path+".provider", "required when there are %d providers: one of %s", len(providers), providerNames(providers))
	}

	s.SLI = buildSLI(rs.SLI, path+".sli", prov.Type, ps)
	threshold := s.SLI.Kind() == KindThreshold
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
		s.Timeslice = Timeslice{Window: time.Minute}
		if rs.Timeslice != nil && rs.Timeslice.Window != "" {
			if d, err := parse(rs.Timeslice.Window); err != nil {
				ps.add(path+".timeslice.window", "%v", err)
			} else {
				s.Timeslice.Window = d
			}
		}
		if s.Window%s.Timeslice.Window != 0 || s.Timeslice.Window > s.Window {
			ps.add(path+".timeslice.window", "%s does not divide the SLO window %s", FormatDuration(s.Timeslice.Window), FormatDuration(s.Window))
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

func buildSLI(r rawSLI, path, providerType string, ps *problems) SLI {
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
	needsQueries := providerType != "static"
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
	windowed := providerType == "prometheus" || providerType == "datadog"
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
		if !contains([]string{"<", "<=", ">", ">="}, r.Op) {
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
			var err error
			if b.Long, err = ParseDuration(a.Long); err != nil {
				ps.add(path+".long", "%v", err)
			}
			if b.Short, err = ParseDuration(a.Short); err != nil {
				ps.add(path+".short", "%v", err)
			}
			if b.Long > 0 && b.Short >= b.Long {
				ps.add(path+".short", "must be shorter than long (%s)", a.Long)
			}
			if a.Factor == nil || math.IsNaN(*a.Factor) || *a.Factor <= 0 {
				ps.add(path+".factor", "required: a burn rate above 0, e.g. 14.4")
			} else {
				b.Factor = *a.Factor
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

// redactURL drops credentials and query strings from a URL before it is
// quoted in an error.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User = nil
	u.RawQuery = ""
	return u.String()
}
