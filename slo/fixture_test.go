package slo

import (
	"os"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func ptr[T any](v T) *T { return &v }

const (
	errorsQuery = `sum(rate(http_requests_total{service="checkout",code=~"5.."}[{{.window}}]))`
	totalQuery  = `sum(rate(http_requests_total{service="checkout"}[{{.window}}]))`
	p99Query    = `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[{{.window}}])))`
)

// goodRaw is a valid native config: one Prometheus provider, one events
// SLO. Cases mutate it to break one thing.
func goodRaw() *rawConfig {
	return &rawConfig{
		Version:   1,
		Providers: []rawProvider{provider("prom", "prometheus", "url: http://127.0.0.1:9090")},
		SLOs: []rawSLO{{
			Name: "checkout-availability", Service: "checkout", Objective: ptr(99.9), Window: "30d",
			SLI: rawSLI{ErrorQuery: errorsQuery, TotalQuery: totalQuery},
		}},
	}
}

// goodThreshold is a valid threshold SLO for the provider of goodRaw.
func goodThreshold() rawSLO {
	return rawSLO{
		Name: "checkout-latency", Service: "checkout", Objective: ptr(99.0), Window: "28d",
		SLI: rawSLI{Query: p99Query, Op: "<", Value: ptr(0.3)},
	}
}

// buildProblems builds raw and returns its problems as "path: message".
func buildProblems(t *testing.T, raw *rawConfig, opts Options) (*Config, []string) {
	t.Helper()
	ps := &problems{file: "sloguard.yaml"}
	cfg := build(raw, ps, withTypes(opts))
	var got []string
	for _, p := range ps.list {
		got = append(got, strings.TrimPrefix(p.Error(), "sloguard.yaml: "))
	}
	return cfg, got
}

// wantConfig is what goodRaw builds to, defaults and all.
func wantConfig() *Config {
	return &Config{
		Providers: []Provider{{Name: "prom", Type: "prometheus", Settings: fakeSettings("url", "http://127.0.0.1:9090")}},
		SLOs: []SLO{{
			Name: "checkout-availability", Service: "checkout", Provider: "prom", Objective: 99.9, Window: 30 * day,
			Budgeting: Occurrences, SLI: SLI{ErrorQuery: errorsQuery, TotalQuery: totalQuery},
		}},
		Gate:     GatePolicy{BurnAlerts: DefaultBurnAlerts(), OnNoData: PolicyPass, OnError: PolicyInconclusive},
		Canary:   DefaultCanary(),
		Rollback: Rollback{Timeout: time.Minute, Retries: 2},
	}
}

func readTestdata(path string) (string, error) {
	b, err := os.ReadFile(path)
	return string(b), err
}

// fakeBlock is what the stand-in backend types decode a block into: its
// keys, whatever they are.
type fakeBlock struct {
	Keys map[string]any `yaml:",inline"`
}

func fakeSettings(kv ...string) fakeBlock {
	f := fakeBlock{Keys: map[string]any{}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Keys[kv[i]] = kv[i+1]
	}
	return f
}

// testTypes stand in for the backends, which slo's own tests cannot
// import (they import slo): their names and the rules they set for
// queries and baselines. The backends' own blocks are tested with the
// backends (providers/all), and every golden error file with the real
// ones (golden_test.go).
func testTypes() []ProviderType {
	decode := func(b *Block) any {
		var f fakeBlock
		b.Decode(&f)
		return f
	}
	return []ProviderType{
		{Name: "prometheus", Keys: []string{"url"}, Decode: decode, Queries: QueryRules{Windowed: true},
			OpenSLO: &OpenSLOSource{Type: "Prometheus", Keys: [][2]string{{"url", "url"}, {"address", "url"}}}},
		{Name: "datadog", Keys: []string{"site"}, Decode: decode, Queries: QueryRules{SLOObject: true},
			OpenSLO: &OpenSLOSource{Type: "Datadog", Keys: [][2]string{{"site", "site"}}}},
		{Name: "appinsights", Decode: decode},
		{Name: "scrape", Keys: []string{"targets"}, Decode: decode, Queries: QueryRules{Windowed: true}, NoHistory: "keeps no history", LiveBaseline: ", targets.baseline"},
		{Name: "static", Keys: []string{"file", "values"}, Decode: decode, Queries: QueryRules{Recorded: true}, NoHistory: "has no time"},
	}
}

// withTypes gives opts the stand-in types.
func withTypes(opts Options) Options {
	if opts.Types == nil {
		opts.Types = testTypes()
	}
	return opts
}

// promDefault is the default provider --prometheus-url makes.
func promDefault(url string) *DefaultProvider {
	return &DefaultProvider{Type: "prometheus", Keys: map[string]string{"url": url}}
}

// provider is a raw provider whose block holds the YAML keys given.
func provider(name, typ, keys string) rawProvider {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte("{"+keys+"}"), &doc); err != nil {
		panic(err)
	}
	return rawProvider{Name: name, Type: typ, node: doc.Content[0]}
}
