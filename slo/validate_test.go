package slo

import (
	"math"
	"reflect"
	"testing"
	"time"
)

// unlocated is cfg without what locates problems in its file, so that it
// compares equal to a config built by hand.
func unlocated(cfg *Config) *Config {
	c := *cfg
	c.where = nil
	return &c
}

func TestBuildGoodFixture(t *testing.T) {
	cfg, got := buildProblems(t, goodRaw(), Options{})
	if len(got) > 0 {
		t.Fatalf("the good fixture has problems: %q", got)
	}
	if want := wantConfig(); !reflect.DeepEqual(unlocated(cfg), want) {
		t.Errorf("built\n%+v\nwant\n%+v", cfg, want)
	}
}

func TestBuildSLOProblems(t *testing.T) {
	for name, tc := range map[string]struct {
		mutate func(*rawConfig)
		want   []string
	}{
		"an SLO without a name": {
			func(c *rawConfig) { c.SLOs[0].Name = "" },
			[]string{"slos[0].name: required: a unique name, e.g. checkout-availability"},
		},
		"an SLO name with spaces": {
			func(c *rawConfig) { c.SLOs[0].Name = "checkout availability" },
			[]string{`slos[0].name: "checkout availability": use letters, digits and _ . : -`},
		},
		"two SLOs with one name": {
			func(c *rawConfig) { c.SLOs = append(c.SLOs, c.SLOs[0]) },
			[]string{`slos[1].name: duplicate SLO name "checkout-availability": --slo and the decision record refer to SLOs by name, so names must be unique`},
		},
		"no SLOs at all": {
			func(c *rawConfig) { c.SLOs = nil },
			[]string{"slos: no SLOs: add at least one under slos"},
		},
		"an objective that is not a number": {
			func(c *rawConfig) { c.SLOs[0].Objective = ptr(math.NaN()) },
			[]string{"slos[0].objective: must be a percent between 0 and 100 (exclusive), e.g. 99.9, got NaN"},
		},
		"an objective given as a fraction": {
			func(c *rawConfig) { c.SLOs[0].Objective = ptr(0.999) },
			[]string{"slos[0].objective: 0.999 looks like a fraction: the objective is a percent, e.g. 99.9 (not 0.999)"},
		},
		"a loose objective of 50 %": {
			func(c *rawConfig) { c.SLOs[0].Objective = ptr(50.0) },
			nil,
		},
		"a window in OpenSLO months": {
			func(c *rawConfig) { c.SLOs[0].Window = "1M" },
			[]string{`slos[0].window: "1M" is not a duration: use a number and a unit (ms, s, m, h, d, w, y), e.g. 30d or 5m`},
		},
		"two providers and no provider named": {
			func(c *rawConfig) {
				c.Providers = append(c.Providers, provider("thanos", "prometheus", "url: http://thanos:9090"))
			},
			[]string{`slos[0].provider: required when there are 2 providers: one of "prom", "thanos"`},
		},
		"no provider at all": {
			func(c *rawConfig) { c.Providers = nil },
			[]string{"providers: no provider to query: add one under providers (or pass --prometheus-url)"},
		},
		"an unknown budgeting": {
			func(c *rawConfig) { c.SLOs[0].Budgeting = "requests" },
			[]string{`slos[0].budgeting: unknown budgeting "requests": use occurrences or timeslices`},
		},
		"a threshold SLI budgeted in occurrences": {
			func(c *rawConfig) { c.SLOs[0] = goodThreshold(); c.SLOs[0].Budgeting = Occurrences },
			[]string{"slos[0].budgeting: a threshold SLI (op, value) is budgeted in timeslices: remove budgeting or set it to timeslices"},
		},
		"a timeslice on an occurrences SLO": {
			func(c *rawConfig) { c.SLOs[0].Timeslice = &rawTimeslice{Window: "5m", Target: ptr(99.0)} },
			[]string{"slos[0].timeslice: only used with budgeting: timeslices"},
		},
		"a timeslices SLO without target": {
			func(c *rawConfig) { c.SLOs[0].Budgeting = Timeslices },
			[]string{"slos[0].timeslice.target: required with budgeting: timeslices: the SLI in percent a slice must reach to count as good, e.g. 99"},
		},
		"a timeslice target above 100": {
			func(c *rawConfig) {
				c.SLOs[0].Budgeting, c.SLOs[0].Timeslice = Timeslices, &rawTimeslice{Target: ptr(101.0)}
			},
			[]string{"slos[0].timeslice.target: must be a percent above 0 and at most 100, got 101"},
		},
		"a timeslice window that does not divide the window": {
			func(c *rawConfig) {
				c.SLOs[0].Budgeting, c.SLOs[0].Timeslice = Timeslices, &rawTimeslice{Window: "7m", Target: ptr(99.0)}
			},
			[]string{"slos[0].timeslice.window: 7m does not divide the SLO window 30d"},
		},
		"a timeslice window longer than the window": {
			func(c *rawConfig) {
				c.SLOs[0].Budgeting, c.SLOs[0].Timeslice = Timeslices, &rawTimeslice{Window: "60d", Target: ptr(99.0)}
			},
			[]string{"slos[0].timeslice.window: 60d does not divide the SLO window 30d"},
		},
		"a timeslice target on a threshold SLI": {
			func(c *rawConfig) {
				c.SLOs[0] = goodThreshold()
				c.SLOs[0].Timeslice = &rawTimeslice{Target: ptr(99.0)}
			},
			[]string{"slos[0].timeslice.target: not used by a threshold SLI: a slice is good when its value meets op and value"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			raw := goodRaw()
			tc.mutate(raw)
			_, got := buildProblems(t, raw, Options{})
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("problems:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestBuildSLIProblems(t *testing.T) {
	for name, tc := range map[string]struct {
		mutate func(*rawSLI)
		want   []string
	}{
		"two SLI shapes at once": {
			func(s *rawSLI) { s.ErrorRatioQuery = "x" },
			[]string{"slos[0].sli: use one SLI shape: events (error_query or good_query, with total_query), error_ratio_query, or a threshold (query, op, value)"},
		},
		"no SLI at all": {
			func(s *rawSLI) { *s = rawSLI{} },
			[]string{"slos[0].sli: required: error_query or good_query with total_query, error_ratio_query, or query with op and value"},
		},
		"an error query without total": {
			func(s *rawSLI) { s.TotalQuery = "" },
			[]string{"slos[0].sli.total_query: required with error_query or good_query"},
		},
		"a total query alone": {
			func(s *rawSLI) { s.ErrorQuery = "" },
			[]string{"slos[0].sli.error_query: required with total_query: error_query (bad events) or good_query"},
		},
		"error and good queries together": {
			func(s *rawSLI) { s.GoodQuery = totalQuery },
			[]string{"slos[0].sli.good_query: use error_query or good_query, not both"},
		},
		"a query without {{.window}}": {
			func(s *rawSLI) { s.ErrorQuery = `sum(rate(errors_total[5m]))` },
			[]string{"slos[0].sli.error_query: missing {{.window}}: write the range as [{{.window}}] so that sloguard can evaluate each window, e.g. rate(http_requests_total[{{.window}}])"},
		},
		"a template other than {{.window}}": {
			func(s *rawSLI) { s.ErrorQuery = `sum(rate(errors_total{service="{{.service}}"}[{{.window}}]))` },
			[]string{"slos[0].sli.error_query: only {{.window}} may be templated in a query"},
		},
		"a raw counter query needs no {{.window}}": {
			func(s *rawSLI) {
				s.ErrorQuery, s.TotalQuery, s.counter = "sum(errors_total)", "sum(requests_total)", true
			},
			nil,
		},
		"an error ratio query without {{.window}}": {
			func(s *rawSLI) { *s = rawSLI{ErrorRatioQuery: "job:errors:ratio5m"} },
			[]string{"slos[0].sli.error_ratio_query: missing {{.window}}: write the range as [{{.window}}] so that sloguard can evaluate each window, e.g. rate(http_requests_total[{{.window}}])"},
		},
		"consecutive on an events SLI": {
			func(s *rawSLI) { s.Consecutive = ptr(2) },
			[]string{"slos[0].sli.consecutive: only used by threshold SLIs (op, value)"},
		},
		"a threshold without a query": {
			func(s *rawSLI) { *s = rawSLI{Op: "<", Value: ptr(0.3)} },
			[]string{"slos[0].sli.query: required with op and value"},
		},
		"a threshold with a bad op": {
			func(s *rawSLI) { *s = rawSLI{Query: p99Query, Op: "=<", Value: ptr(0.3)} },
			[]string{`slos[0].sli.op: "=<": use one of <, <=, >, >= (the comparison a good value passes, e.g. < for latency)`},
		},
		"a threshold without a value": {
			func(s *rawSLI) { *s = rawSLI{Query: p99Query, Op: "<"} },
			[]string{"slos[0].sli.value: required: the limit a good value meets, e.g. 0.3"},
		},
		"a threshold with an infinite value": {
			func(s *rawSLI) { *s = rawSLI{Query: p99Query, Op: "<", Value: ptr(math.Inf(1))} },
			[]string{"slos[0].sli.value: must be a finite number"},
		},
		"a Datadog SLO id on a prometheus provider": {
			func(s *rawSLI) { *s = rawSLI{DatadogSLOID: "abc123"} },
			[]string{"slos[0].sli.datadog_slo_id: only used with a datadog provider"},
		},
		"a Datadog SLO id beside queries": {
			func(s *rawSLI) { s.DatadogSLOID = "abc123" },
			[]string{"slos[0].sli.datadog_slo_id: only used with a datadog provider",
				"slos[0].sli.datadog_slo_id: reads a Datadog SLO object's budget: remove the other SLI keys (queries, op, value, consecutive)"},
		},
		"a threshold that must be bad 0 times in a row": {
			func(s *rawSLI) { *s = rawSLI{Query: p99Query, Op: "<", Value: ptr(0.3), Consecutive: ptr(0)} },
			[]string{"slos[0].sli.consecutive: must be at least 1, got 0"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			raw := goodRaw()
			tc.mutate(&raw.SLOs[0].SLI)
			_, got := buildProblems(t, raw, Options{})
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("problems:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestBuildSLODefaults(t *testing.T) {
	raw := goodRaw()
	raw.SLOs[0].Window = ""
	raw.SLOs = append(raw.SLOs, goodThreshold())
	cfg, got := buildProblems(t, raw, Options{})
	if len(got) > 0 {
		t.Fatalf("problems: %q", got)
	}
	if w := cfg.SLOs[0].Window; w != 30*day {
		t.Errorf("an SLO without window gets %v, want 30d", w)
	}
	want := SLO{
		Name: "checkout-latency", Service: "checkout", Provider: "prom", Objective: 99, Window: 28 * day,
		Budgeting: Timeslices, Timeslice: Timeslice{Window: 5 * time.Minute},
		SLI: SLI{Query: p99Query, Op: "<", Value: 0.3},
	}
	if !reflect.DeepEqual(cfg.SLOs[1], want) {
		t.Errorf("a threshold SLO builds to\n%+v\nwant\n%+v", cfg.SLOs[1], want)
	}
}

func TestBuildDefaultProviderFromOptions(t *testing.T) {
	raw := goodRaw()
	raw.Providers = nil
	cfg, got := buildProblems(t, raw, withTypes(Options{Default: promDefault("http://prom:9090")}))
	if len(got) > 0 {
		t.Fatalf("problems: %q", got)
	}
	want := []Provider{{Name: "default", Type: "prometheus", Settings: fakeSettings("url", "http://prom:9090")}}
	if !reflect.DeepEqual(cfg.Providers, want) || cfg.SLOs[0].Provider != "default" {
		t.Errorf("providers %+v, SLO provider %q; want %+v and \"default\"", cfg.Providers, cfg.SLOs[0].Provider, want)
	}
}

func TestBuildDatadogSLO(t *testing.T) {
	raw := goodRaw()
	raw.Providers = []rawProvider{provider("dd", "datadog", "")}
	raw.SLOs[0].SLI = rawSLI{DatadogSLOID: "abc123"}
	cfg, got := buildProblems(t, raw, Options{})
	if len(got) > 0 {
		t.Fatalf("problems: %q", got)
	}
	if sli := cfg.SLOs[0].SLI; sli.DatadogSLOID != "abc123" || sli.Kind() != KindRatio {
		t.Errorf("SLI %+v of kind %v, want the Datadog SLO id as a ratio", sli, sli.Kind())
	}
}
