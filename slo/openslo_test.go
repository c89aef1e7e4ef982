package slo

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestOpenSLOLoadsEveryShape(t *testing.T) {
	cfg, err := Load("testdata/openslo/checkout.yaml", withTypes(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	const (
		bad   = `sum(rate(http_requests_total{service="checkout",code=~"5.."}[{{.window}}]))`
		total = `sum(rate(http_requests_total{service="checkout"}[{{.window}}]))`
		fast  = `sum(rate(http_request_duration_seconds_bucket{service="checkout",le="0.3"}[{{.window}}]))`
		count = `sum(rate(http_request_duration_seconds_count{service="checkout"}[{{.window}}]))`
		p99   = `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{service="checkout"}[{{.window}}])))`
	)
	want := &Config{
		Source:    "testdata/openslo/checkout.yaml",
		Format:    FormatOpenSLO,
		Providers: []Provider{{Name: "prom", Type: "prometheus", Settings: fakeSettings("url", "http://prometheus.monitoring:9090")}},
		SLOs: []SLO{
			{
				Name: "checkout-availability", Service: "checkout", Description: "Requests answered without a 5xx",
				Provider: "prom", Objective: 99.9, Window: 30 * day, Budgeting: Occurrences,
				SLI: SLI{ErrorQuery: bad, TotalQuery: total},
			},
			{
				Name: "checkout-fast", Service: "checkout", Provider: "prom", Objective: 99, Window: 28 * day,
				Budgeting: Timeslices, Timeslice: Timeslice{Window: 5 * time.Minute, Target: 95},
				SLI: SLI{GoodQuery: fast, TotalQuery: count},
			},
			{
				Name: "checkout-latency", Service: "checkout", Provider: "prom", Objective: 95, Window: 90 * day,
				Budgeting: Timeslices, Timeslice: Timeslice{Window: time.Minute},
				SLI: SLI{Query: p99, Op: "<=", Value: 0.3},
			},
			{
				Name: "payments-availability-strict", Service: "payments", Provider: "prom", Objective: 99.95, Window: 7 * day,
				Budgeting: Occurrences, SLI: SLI{GoodQuery: `sum(payments_total{result="ok"})`, TotalQuery: "sum(payments_total)", Counter: true},
			},
			{
				Name: "payments-availability-loose-target", Service: "payments", Provider: "prom", Objective: 57, Window: 7 * day,
				Budgeting: Occurrences, SLI: SLI{GoodQuery: `sum(payments_total{result="ok"})`, TotalQuery: "sum(payments_total)", Counter: true},
			},
		},
		Gate:     GatePolicy{BurnAlerts: DefaultBurnAlerts(), OnNoData: PolicyPass, OnError: PolicyInconclusive},
		Canary:   DefaultCanary(),
		Rollback: Rollback{Timeout: time.Minute, Retries: 2},
	}
	if len(cfg.SLOs) != len(want.SLOs) {
		t.Fatalf("got %d SLOs, want %d: %+v", len(cfg.SLOs), len(want.SLOs), cfg.SLOs)
	}
	for i := range want.SLOs {
		if !reflect.DeepEqual(cfg.SLOs[i], want.SLOs[i]) {
			t.Errorf("SLO %d\n got %+v\nwant %+v", i, cfg.SLOs[i], want.SLOs[i])
		}
	}
	if !reflect.DeepEqual(unlocated(cfg), want) {
		t.Errorf("config\n got %+v\nwant %+v", cfg, want)
	}
}

func TestOpenSLORawRatioWithBackendFromOptions(t *testing.T) {
	cfg, err := Load("testdata/openslo/raw.yaml", withTypes(Options{Default: promDefault("http://thanos-query:9090")}))
	if err != nil {
		t.Fatal(err)
	}
	want := SLO{Name: "search-availability", Service: "search", Provider: "thanos", Objective: 99.5, Window: 365 * day,
		Budgeting: Occurrences, SLI: SLI{ErrorRatioQuery: "1 - (search:success:ratio_rate{{.window}})"}}
	if len(cfg.SLOs) != 1 || !reflect.DeepEqual(cfg.SLOs[0], want) {
		t.Errorf("SLOs\n got %+v\nwant [%+v]", cfg.SLOs, want)
	}
	if len(cfg.Providers) != 1 || cfg.Providers[0].Settings.(fakeBlock).Keys["url"] != "http://thanos-query:9090" {
		t.Errorf("providers %+v: want thanos at the URL from the options", cfg.Providers)
	}
}

// TestOpenSLOProblems checks that problems point at the document and line
// they are on, in OpenSLO's words.
func TestOpenSLOProblems(t *testing.T) {
	good, err := readTestdata("testdata/openslo/checkout.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		old, new string
		want     string
	}{
		"a target above 1 in the 4th document": {
			"      target: 0.999", "      target: 1.5",
			"f.yaml:54: spec.objectives[0].target: must be between 0 and 1 (exclusive), e.g. 0.999 for 99.9 %, got 1.5",
		},
		"a percent target out of range": {
			"      target: 0.999", "      targetPercent: 100",
			"f.yaml:54: spec.objectives[0].targetPercent: must be a percent between 0 and 100 (exclusive), e.g. 99.9, got 100",
		},
		"both target and targetPercent": {
			"      target: 0.999", "      target: 0.999\n      targetPercent: 99.9",
			"f.yaml:55: spec.objectives[0].targetPercent: use target or targetPercent, not both",
		},
		"a timeSliceTarget above 1": {
			"timeSliceTarget: 0.95", "timeSliceTarget: 95",
			"f.yaml:86: spec.objectives[0].timeSliceTarget: must be above 0 and at most 1, e.g. 0.95, got 95",
		},
		"a timeSliceWindow that does not divide the window": {
			"timeSliceWindow: 5m", "timeSliceWindow: 11m",
			"f.yaml:87: spec.objectives[0].timeSliceWindow: 11m does not divide the timeWindow 28d",
		},
		"a threshold with an unknown op": {
			"op: lte", "op: <=",
			`f.yaml:111: spec.objectives[0].op: "<=": use lt, lte, gt or gte`,
		},
		"a threshold budgeted in occurrences": {
			"  budgetingMethod: Timeslices\n  timeWindow:\n    - duration: 1Q", "  budgetingMethod: Occurrences\n  timeWindow:\n    - duration: 1Q",
			"f.yaml:105: spec.budgetingMethod: a thresholdMetric is budgeted in time slices: use budgetingMethod: Timeslices",
		},
		"an unknown budgeting method": {
			"budgetingMethod: Occurrences\n  timeWindow:\n    - duration: 1M", "budgetingMethod: Events\n  timeWindow:\n    - duration: 1M",
			`f.yaml:48: spec.budgetingMethod: "Events": use Occurrences, Timeslices or RatioTimeslices`,
		},
		"a calendar window": {
			"duration: 1M\n      isRolling: true", "duration: 1M\n      isRolling: false",
			"f.yaml:51: spec.timeWindow[0].isRolling: calendar-aligned windows are not supported: use isRolling: true",
		},
		"metrics from two DataSources": {
			"metricSourceRef: prom\n        type: Prometheus\n        spec:\n          query: sum(rate(http_requests_total{service=\"checkout\",code",
			"metricSourceRef: thanos\n        type: Prometheus\n        spec:\n          query: sum(rate(http_requests_total{service=\"checkout\",code",
			`f.yaml:28: spec.ratioMetric.bad.metricSource.metricSourceRef: "thanos" differs from "prom" of the other metrics: sloguard reads an SLI from one DataSource`,
		},
		"a ratioMetric with total alone": {
			"    bad:\n      metricSource:\n        metricSourceRef: prom\n        type: Prometheus\n        spec:\n          query: sum(rate(http_requests_total{service=\"checkout\",code=~\"5..\"}[{{.window}}]))\n", "",
			"f.yaml:24: spec.ratioMetric: needs good or bad beside total: the metric of the good or of the bad events",
		},
		"a DataSource of an unsupported type": {
			"type: Prometheus\n  connectionDetails", "type: CloudWatch\n  connectionDetails",
			`f.yaml:15: spec.type: DataSource type "CloudWatch" is not supported: use Prometheus or Datadog`,
		},
		"a document of another apiVersion": {
			"apiVersion: openslo/v1\nkind: SLI", "apiVersion: openslo/v1alpha\nkind: SLI",
			`f.yaml:19: apiVersion: "openslo/v1alpha" is not supported: every document must be openslo/v1`,
		},
		"two SLIs with one name": {
			"apiVersion: openslo/v1\nkind: AlertPolicy", "apiVersion: openslo/v1\nkind: SLI\nmetadata:\n  name: checkout-errors\nspec: {}\n---\napiVersion: openslo/v1\nkind: AlertPolicy",
			`f.yaml:153: metadata.name: an SLI named "checkout-errors" is defined already, on line 19`,
		},
		"an SLO without spec": {
			"  name: checkout-availability\n  displayName: Checkout availability\nspec:", "  name: checkout-availability\n  displayName: Checkout availability\nnotspec:",
			"f.yaml:39: spec: required: the SLO's spec",
		},
		"two SLO documents with one name": {
			"  name: checkout-fast\n", "  name: checkout-availability\n",
			`f.yaml:59: metadata.name: duplicate SLO name "checkout-availability": --slo and the decision record refer to SLOs by name, so names must be unique`,
		},
	} {
		t.Run(name, func(t *testing.T) {
			if !strings.Contains(good, tc.old) {
				t.Fatalf("the fixture has no %q", tc.old)
			}
			data := strings.Replace(good, tc.old, tc.new, 1)
			_, err := Parse("f.yaml", []byte(data), withTypes(Options{}))
			if err == nil {
				t.Fatal("no error")
			}
			if err.Error() != tc.want {
				t.Errorf("error:\n got %s\nwant %s", err, tc.want)
			}
		})
	}
}

func TestOpenSLOWithoutSLO(t *testing.T) {
	data := "apiVersion: openslo/v1\nkind: DataSource\nmetadata: {name: prom}\nspec: {type: Prometheus, connectionDetails: {url: 'http://p:9090'}}\n"
	_, err := Parse("f.yaml", []byte(data), withTypes(Options{}))
	if want := "f.yaml: no document of kind SLO: an OpenSLO file needs at least one"; err == nil || err.Error() != want {
		t.Errorf("error:\n got %v\nwant %s", err, want)
	}
}

func TestPercent(t *testing.T) {
	for in, want := range map[float64]float64{0.999: 99.9, 0.57: 57, 0.9995: 99.95, 0.95: 95, 0.99999: 99.999, 0.5: 50, 0.123456: 12.3456} {
		if got := percent(in); got != want {
			t.Errorf("percent(%v) = %v, want %v exactly", in, got, want)
		}
	}
}
