package main

import (
	"testing"

	"github.com/sloguard/sloguard/slo"
)

func TestPrometheusTokenFillsOnlyProvidersWithoutCredentials(t *testing.T) {
	tests := map[string]struct {
		pc   slo.Provider
		env  map[string]string
		want string // BearerTokenEnv after
	}{
		"a prometheus provider without credentials takes it": {slo.Provider{Type: "prometheus"}, map[string]string{prometheusTokenEnv: "t"}, prometheusTokenEnv},
		"its own bearer token wins":                          {slo.Provider{Type: "prometheus", BearerTokenEnv: "PROM_TOKEN"}, map[string]string{prometheusTokenEnv: "t"}, "PROM_TOKEN"},
		"basic auth wins":                                    {slo.Provider{Type: "prometheus", BasicAuthUserEnv: "U", BasicAuthPasswordEnv: "P"}, map[string]string{prometheusTokenEnv: "t"}, ""},
		"an Authorization header wins":                       {slo.Provider{Type: "prometheus", Headers: map[string]string{"Authorization": "Basic x"}}, map[string]string{prometheusTokenEnv: "t"}, ""},
		"other backends are left alone":                      {slo.Provider{Type: "datadog"}, map[string]string{prometheusTokenEnv: "t"}, ""},
		"nothing without the variable":                       {slo.Provider{Type: "prometheus"}, map[string]string{}, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := withPrometheusToken(tc.pc, envFunc(tc.env)).BearerTokenEnv; got != tc.want {
				t.Errorf("BearerTokenEnv %q, want %q", got, tc.want)
			}
		})
	}
}
