package slo

import (
	"os"
	"strings"
	"testing"
	"time"
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
		Providers: []rawProvider{{Name: "prom", Type: "prometheus", URL: "http://127.0.0.1:9090"}},
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
	cfg := build(raw, ps, opts)
	var got []string
	for _, p := range ps.list {
		got = append(got, strings.TrimPrefix(p.Error(), "sloguard.yaml: "))
	}
	return cfg, got
}

// wantConfig is what goodRaw builds to, defaults and all.
func wantConfig() *Config {
	return &Config{
		Providers: []Provider{{Name: "prom", Type: "prometheus", URL: "http://127.0.0.1:9090", Timeout: 30 * time.Second, Retries: 3, MaxConcurrency: 10}},
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
