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
