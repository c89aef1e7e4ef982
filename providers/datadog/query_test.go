package datadog

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/providers"
)

func TestResolve(t *testing.T) {
	canary := providers.Scope{Name: providers.ScopeCanary, Labels: map[string]string{"version": "canary"}}
	tests := map[string]struct {
		query  string
		scope  providers.Scope
		window time.Duration
		want   string
		bad    string // the ErrBadQuery message, when the query is refused
	}{
		"the service scope adds only the rollup": {
			query: errorsQ, want: `sum:trace.http.request.errors{service:checkout}.as_count().rollup(sum, 60)`,
		},
		"a canary tag is appended to existing tags": {
			query: errorsQ, scope: canary,
			want: `sum:trace.http.request.errors{service:checkout,version:canary}.as_count().rollup(sum, 60)`,
		},
		"{*} becomes the scope's tags": {
			query: `sum:requests{*}.as_count()`, scope: canary,
			want: `sum:requests{version:canary}.as_count().rollup(sum, 60)`,
		},
		"several tags go in sorted": {
			query: `sum:requests{*}.as_count()`,
			scope: providers.Scope{Name: "canary", Labels: map[string]string{"version": "v2", "kube_deployment": "checkout-canary"}},
			want:  `sum:requests{kube_deployment:checkout-canary,version:v2}.as_count().rollup(sum, 60)`,
		},
		"every metric of a formula is scoped and rolled up": {
			query: `sum:a.errors{env:prod}.as_count() + sum:b.errors{env:prod}.as_count()`, scope: canary,
			want: `sum:a.errors{env:prod,version:canary}.as_count().rollup(sum, 60) + sum:b.errors{env:prod,version:canary}.as_count().rollup(sum, 60)`,
		},
		"a by group is left alone": {
			query: `sum:requests{env:prod} by {host}.as_count()`, scope: canary,
			want: `sum:requests{env:prod,version:canary} by {host}.as_count().rollup(sum, 60)`,
		},
		"a boolean filter is ANDed with the scope": {
			query: `sum:requests{env:prod AND (service:a OR service:b)}.as_count()`, scope: canary,
			want: `sum:requests{(env:prod AND (service:a OR service:b)) AND version:canary}.as_count().rollup(sum, 60)`,
		},
		"a rollup in the query is kept": {
			query: `sum:requests{*}.as_count().rollup(sum, 30)`,
			want:  `sum:requests{*}.as_count().rollup(sum, 30)`,
		},
		"{{.window}} becomes the window in seconds": {
			query: `sum:requests{*}.as_count().rollup(sum, {{.window}})`, window: time.Hour,
			want: `sum:requests{*}.as_count().rollup(sum, 3600)`,
		},
		"a month is read in half-hour buckets": {
			query: `sum:requests{*}.as_count()`, window: 30 * 24 * time.Hour,
			want: `sum:requests{*}.as_count().rollup(sum, 1800)`,
		},
		"a tag the query already filters on is a bad query": {
			query: `sum:requests{version:v1}.as_count()`, scope: canary,
			bad: `scope {version:v1} already filters on tag "version"`,
		},
		"a negated tag the query filters on is a bad query too": {
			query: `sum:requests{env:prod,!version:v1}.as_count()`, scope: canary,
			bad: `already filters on tag "version"`,
		},
		"a metric without a scope is a bad query": {
			query: `sum:requests.as_count()`, bad: `no metric scope`,
		},
		"a scope tag value with a space is a bad query": {
			query: errorsQ, scope: providers.Scope{Name: "canary", Labels: map[string]string{"version": "v 2"}},
			bad: `canary label "version": the value "v 2" is not a Datadog tag value`,
		},
		"an unclosed scope is a bad query": {
			query: `sum:requests{env:prod.as_count()`, bad: `unbalanced {`,
		},
		"an unclosed function is a bad query": {
			query: `sum:requests{*}.as_count(`, bad: `unbalanced (`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w := tc.window
			if w == 0 {
				w = 5 * time.Minute
			}
			got, err := resolve(tc.query, w, "sum", rollupFor(w), tc.scope)
			if tc.bad != "" {
				if !errors.Is(err, providers.ErrBadQuery) || !strings.Contains(err.Error(), tc.bad) {
					t.Fatalf("err = %v, want ErrBadQuery saying %q", err, tc.bad)
				}
				return
			}
			if err != nil {
				t.Fatalf("resolve: %v", err)
			}
			if got != tc.want {
				t.Errorf("resolved\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestRollupFor(t *testing.T) {
	for w, want := range map[time.Duration]int{
		5 * time.Minute: 60, time.Hour: 60, 6 * time.Hour: 60, 24 * time.Hour: 60,
		7 * 24 * time.Hour: 600, 30 * 24 * time.Hour: 1800, 90 * 24 * time.Hour: 7200,
	} {
		if got := rollupFor(w); got != want {
			t.Errorf("rollupFor(%s) = %d, want %d", w, got, want)
		}
	}
}

func TestBaseURL(t *testing.T) {
	for site, want := range map[string]string{
		"datadoghq.com": "https://api.datadoghq.com", "datadoghq.eu": "https://api.datadoghq.eu",
		"us3.datadoghq.com": "https://api.us3.datadoghq.com", "us5.datadoghq.com": "https://api.us5.datadoghq.com",
		"ap1.datadoghq.com": "https://api.ap1.datadoghq.com", "ddog-gov.com": "https://api.ddog-gov.com",
		"app.datadoghq.eu": "https://api.datadoghq.eu",
	} {
		if got, err := baseURL("", site); err != nil || got != want {
			t.Errorf("baseURL(%q) = %q, %v; want %q", site, got, err, want)
		}
	}
	if got, _ := baseURL("http://127.0.0.1:8080/", "datadoghq.com"); got != "http://127.0.0.1:8080" {
		t.Errorf("url does not override the site: %q", got)
	}
	if _, err := baseURL("", "https://datadoghq.com/x"); err == nil {
		t.Errorf("a site with a path is accepted")
	}
}
