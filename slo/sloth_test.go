package slo

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSlothLoadsEventsAndRaw(t *testing.T) {
	cfg, err := Load("testdata/sloth/checkout.yaml", withTypes(Options{Default: promDefault("http://127.0.0.1:9090")}))
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Source:    "testdata/sloth/checkout.yaml",
		Format:    FormatSloth,
		Providers: []Provider{{Name: "default", Type: "prometheus", Settings: fakeSettings("url", "http://127.0.0.1:9090")}},
		SLOs: []SLO{
			{
				Name: "checkout-requests-availability", Service: "checkout", Description: "Requests answered without a 5xx.",
				Provider: "default", Objective: 99.9, Window: 30 * day, Budgeting: Occurrences,
				SLI: SLI{
					ErrorQuery: `sum(rate(http_requests_total{service="checkout",code=~"(5..|429)"}[{{.window}}]))`,
					TotalQuery: `sum(rate(http_requests_total{service="checkout"}[{{.window}}]))`,
				},
			},
			{
				Name: "checkout-latency", Service: "checkout", Provider: "default", Objective: 99, Window: 30 * day, Budgeting: Occurrences,
				SLI: SLI{ErrorRatioQuery: "1 - (\n" +
					`  sum(rate(http_request_duration_seconds_bucket{service="checkout",le="0.3"}[{{.window}}]))` + "\n" +
					"  /\n" +
					`  sum(rate(http_request_duration_seconds_count{service="checkout"}[{{.window}}]))` + "\n)\n"},
			},
		},
		Gate:     GatePolicy{BurnAlerts: DefaultBurnAlerts(), OnNoData: PolicyPass, OnError: PolicyInconclusive},
		Canary:   DefaultCanary(),
		Rollback: Rollback{Timeout: time.Minute, Retries: 2},
	}
	if !reflect.DeepEqual(unlocated(cfg), want) {
		t.Errorf("config\n got %+v\nwant %+v", cfg, want)
	}
}

// rawBlock is the raw SLI of testdata/sloth/checkout.yaml.
const rawBlock = `        error_ratio_query: |
          1 - (
            sum(rate(http_request_duration_seconds_bucket{service="checkout",le="0.3"}[{{.window}}]))
            /
            sum(rate(http_request_duration_seconds_count{service="checkout"}[{{.window}}]))
          )
`

func TestSlothProblems(t *testing.T) {
	good, err := readTestdata("testdata/sloth/checkout.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		old, new string
		want     string
	}{
		"a plugin SLI": {
			"      events:\n", "      plugin:\n        id: sloth-common/kubernetes/apiserver/availability\n      events:\n",
			"f.yaml:15: slos[0].sli.plugin: Sloth SLI plugins are not supported: write the SLI as events (error_query, total_query) or raw (error_ratio_query)",
		},
		"events and raw together": {
			"      events:\n", "      raw:\n        error_ratio_query: x[{{.window}}]\n      events:\n",
			"f.yaml:14: slos[0].sli: use events or raw, not both",
		},
		"no SLI": {
			"    sli:\n      events:\n", "    sli: {}\n    x_events:\n",
			"f.yaml:14: slos[0].sli: required: events (error_query and total_query) or raw (error_ratio_query)\n" +
				`f.yaml:15: slos[0].x_events: unknown key "x_events": use one of name, objective, description, labels, sli, alerting`,
		},
		"events without error_query": {
			"        error_query:", "        good_query:",
			"f.yaml:15: slos[0].sli.events.error_query: required: the query of bad events, e.g. sum(rate(http_requests_total{code=~\"5..\"}[{{.window}}]))\n" +
				`f.yaml:16: slos[0].sli.events.good_query: unknown key "good_query": use one of error_query, total_query`,
		},
		"events without total_query": {
			"        total_query:", "        totals_query:",
			`f.yaml:17: slos[0].sli.events.totals_query: unknown key "totals_query": did you mean total_query?`,
		},
		"a raw SLI without its query": {
			"        error_ratio_query: |", "        error_ratio_query: \"\"\n        x: |",
			"f.yaml:34: slos[1].sli.raw.error_ratio_query: required: the error ratio (0 to 1) over [{{.window}}]\n" +
				`f.yaml:35: slos[1].sli.raw.x: unknown key "x": use one of error_ratio_query`,
		},
		"a raw SLI without {{.window}}": {
			rawBlock, "        error_ratio_query: job:http_errors:ratio_rate5m\n",
			"f.yaml:34: slos[1].sli.raw.error_ratio_query: missing {{.window}}: write the range as [{{.window}}] so that sloguard can evaluate each window, e.g. rate(http_requests_total[{{.window}}])",
		},
		"an objective as a fraction": {
			"objective: 99.9", "objective: 0.999",
			"f.yaml:10: slos[0].objective: 0.999 looks like a fraction: the objective is a percent, e.g. 99.9 (not 0.999)",
		},
		"a name Prometheus would not take": {
			`name: "latency"`, `name: "p99 latency"`,
			`f.yaml:30: slos[1].name: "checkout-p99 latency": use letters, digits and _ . : -`,
		},
	} {
		t.Run(name, func(t *testing.T) {
			if !strings.Contains(good, tc.old) {
				t.Fatalf("the fixture has no %q", tc.old)
			}
			data := strings.Replace(good, tc.old, tc.new, 1)
			_, err := Parse("f.yaml", []byte(data), withTypes(Options{Default: promDefault("http://127.0.0.1:9090")}))
			if err == nil {
				t.Fatal("no error")
			}
			if err.Error() != tc.want {
				t.Errorf("error:\n got %s\nwant %s", err, tc.want)
			}
		})
	}
}

// TestFormatsAgree loads one SLO written in the three formats: they build
// the same slo.SLO, but for the name Sloth prefixes with the service.
func TestFormatsAgree(t *testing.T) {
	opts := withTypes(Options{Default: promDefault("http://127.0.0.1:9090")})
	loaded := map[string]*Config{}
	for _, f := range []string{"native", "openslo", "sloth"} {
		cfg, err := Load("testdata/equivalent/"+f+".yaml", opts)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if cfg.Format != f {
			t.Errorf("%s.yaml detected as %q", f, cfg.Format)
		}
		if len(cfg.SLOs) != 1 {
			t.Fatalf("%s: %d SLOs, want 1", f, len(cfg.SLOs))
		}
		loaded[f] = cfg
	}
	native := loaded["native"].SLOs[0]
	if got := loaded["openslo"].SLOs[0]; !reflect.DeepEqual(got, native) {
		t.Errorf("OpenSLO builds\n%+v\nnative builds\n%+v", got, native)
	}
	sloth := loaded["sloth"].SLOs[0]
	if sloth.Name != "checkout-requests-availability" {
		t.Errorf("Sloth SLO named %q, want checkout-requests-availability", sloth.Name)
	}
	sloth.Name = native.Name
	if !reflect.DeepEqual(sloth, native) {
		t.Errorf("Sloth builds\n%+v\nnative builds\n%+v", sloth, native)
	}
	for f, cfg := range loaded {
		if !reflect.DeepEqual(cfg.Providers, loaded["native"].Providers) {
			t.Errorf("%s providers %+v differ from native %+v", f, cfg.Providers, loaded["native"].Providers)
		}
		if !reflect.DeepEqual(cfg.Gate, loaded["native"].Gate) || !reflect.DeepEqual(cfg.Canary, loaded["native"].Canary) {
			t.Errorf("%s policies differ from native", f)
		}
	}
}
