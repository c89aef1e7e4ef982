package slo

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestBuildScopes(t *testing.T) {
	canary := &rawScope{Labels: map[string]string{"track": "canary"}}
	stable := map[string]string{"track": "stable"}
	for name, tc := range map[string]struct {
		canary      *rawCanary
		providers   []rawProvider
		wantCanary  Scope
		wantBase    *Scope
		wantProblem []string
	}{
		"canary.canary left out judges the whole service": {
			canary:     &rawCanary{},
			wantCanary: Scope{},
		},
		"an offset alone is the same queries that long before": {
			canary:     &rawCanary{Duration: "30m", Baseline: &rawScope{Offset: "1h"}},
			wantCanary: Scope{},
			wantBase:   &Scope{Offset: time.Hour},
		},
		"an offset equal to the watch is the period just before the deploy": {
			canary:   &rawCanary{Duration: "10m", Baseline: &rawScope{Offset: "10m"}},
			wantBase: &Scope{Offset: 10 * time.Minute},
		},
		"labels and offset together are the labelled track that long before": {
			canary:     &rawCanary{Canary: canary, Baseline: &rawScope{Labels: stable, Offset: "1w"}},
			wantCanary: Scope{Labels: canary.Labels},
			wantBase:   &Scope{Labels: stable, Offset: 7 * 24 * time.Hour},
		},
		"a live baseline without a split compares the service with a part of itself": {
			canary:      &rawCanary{Baseline: &rawScope{Labels: stable}},
			wantProblem: []string{"canary.baseline.labels: a live baseline needs canary.canary.labels: without a split the whole service would be compared with a part of itself; set canary.canary.labels, or set canary.baseline.offset to compare with the past"},
		},
		"canary.canary written out with no labels": {
			canary:      &rawCanary{Canary: &rawScope{}},
			wantProblem: []string{"canary.canary.labels: required: the labels that select the canary, e.g. {track: canary}; or leave canary.canary out to judge the whole service (no split)"},
		},
		"an offset on the canary": {
			canary:      &rawCanary{Canary: &rawScope{Labels: canary.Labels, Offset: "1h"}},
			wantProblem: []string{"canary.canary.offset: only the baseline can be read from the past: move offset to canary.baseline"},
		},
		"an offset shorter than the watch overlaps it": {
			canary:      &rawCanary{Duration: "1h", Baseline: &rawScope{Offset: "30m"}},
			wantProblem: []string{"canary.baseline.offset: 30m is shorter than the watch (canary.duration 1h): the baseline would overlap the period after the deploy; use at least the duration"},
		},
		"an offset that is not a duration": {
			canary:      &rawCanary{Baseline: &rawScope{Offset: "yesterday"}},
			wantProblem: []string{`canary.baseline.offset: "yesterday" is not a duration: use a number and a unit (ms, s, m, h, d, w, y), e.g. 30d or 5m`},
		},
	} {
		t.Run(name, func(t *testing.T) {
			raw := goodRaw()
			raw.Canary = tc.canary
			if tc.providers != nil {
				raw.Providers = tc.providers
			}
			cfg, got := buildProblems(t, raw, Options{})
			if !reflect.DeepEqual(got, tc.wantProblem) {
				t.Fatalf("problems:\n got %q\nwant %q", got, tc.wantProblem)
			}
			if tc.wantProblem != nil {
				return
			}
			if !reflect.DeepEqual(cfg.Canary.Canary, tc.wantCanary) || !reflect.DeepEqual(cfg.Canary.Baseline, tc.wantBase) {
				t.Errorf("canary %+v, baseline %+v; want %+v, %+v", cfg.Canary.Canary, cfg.Canary.Baseline, tc.wantCanary, tc.wantBase)
			}
		})
	}
}

func TestDescribeSaysWhatIsJudgedAndAgainstWhat(t *testing.T) {
	for name, tc := range map[string]struct {
		pol              CanaryPolicy
		canary, baseline string
	}{
		"a canary and a live baseline": {
			CanaryPolicy{Canary: Scope{Labels: map[string]string{"track": "canary", "app": "checkout"}}, Baseline: &Scope{Labels: map[string]string{"track": "stable"}}},
			"the canary: app=checkout,track=canary", "live: track=stable",
		},
		"no split, the period before the deploy": {
			CanaryPolicy{Baseline: &Scope{Offset: 30 * time.Minute}},
			"the whole service (no split: every query unscoped)", "the same queries 30m earlier (offset 30m)",
		},
		"the stable colour a week ago": {
			CanaryPolicy{Canary: Scope{Labels: map[string]string{"color": "green"}}, Baseline: &Scope{Labels: map[string]string{"color": "blue"}, Offset: 7 * 24 * time.Hour}},
			"the canary: color=green", "color=blue, 1w earlier (offset 1w)",
		},
		"no split, no baseline": {
			CanaryPolicy{}, "the whole service (no split: every query unscoped)", "",
		},
	} {
		t.Run(name, func(t *testing.T) {
			c, b := tc.pol.Describe()
			if c != tc.canary || b != tc.baseline {
				t.Errorf("Describe() = %q, %q; want %q, %q", c, b, tc.canary, tc.baseline)
			}
		})
	}
}

func TestParseReadsAnOffsetBaselineWithoutASplit(t *testing.T) {
	cfg, err := Parse("sloguard.yaml", []byte(`version: 1
providers: [{name: ai, type: appinsights, app_id: 6f1b2c3d-aaaa-bbbb-cccc-0123456789ab}]
slos:
  - name: requests-availability
    objective: 99.5
    sli:
      error_query: requests | where success == false | summarize sum(itemCount)
      total_query: requests | summarize sum(itemCount)
canary:
  duration: 30m
  baseline: {offset: 30m}
`), withTypes(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Canary.Canary.Labels) != 0 || cfg.Canary.Baseline == nil || cfg.Canary.Baseline.Offset != 30*time.Minute {
		t.Errorf("canary %+v, baseline %+v; want no labels, offset 30m", cfg.Canary.Canary, cfg.Canary.Baseline)
	}
	_, err = Parse("sloguard.yaml", []byte("version: 1\nproviders: [{name: p, type: prometheus, url: http://p:9090}]\nslos: [{name: a, objective: 99, sli: {error_query: 'e[{{.window}}]', total_query: 't[{{.window}}]'}}]\ncanary:\n  baseline: {ofset: 1h}\n"), withTypes(Options{}))
	if err == nil || !strings.Contains(err.Error(), "sloguard.yaml:5") || !strings.Contains(err.Error(), "ofset") {
		t.Errorf("a misspelt offset: %v; want an error at line 5 naming it", err)
	}
}
