package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/sloguard/sloguard/internal/promtest"
	"github.com/sloguard/sloguard/report"
)

// These tests drive `sloguard check` in-process against a real Prometheus
// holding a generated month of traffic, and compare its figures with what
// rate() must answer over that data (promtest.History.ErrorRatio).

// integrationMonth is the traffic the tests gate on, one service per
// story, each serving 10 requests a second.
func integrationMonth(end time.Time) *promtest.History {
	seg := func(from, to time.Duration, ratio float64) []promtest.Segment {
		return []promtest.Segment{{From: from, To: to, ErrorRatio: ratio}}
	}
	var patches []promtest.Segment // 12 minutes of 5 % errors every day
	for d := range 31 {
		start := time.Duration(d)*promtest.Day + 3*time.Hour
		patches = append(patches, promtest.Segment{From: start, To: start - 12*time.Minute, ErrorRatio: 0.05})
	}
	return promtest.New(end,
		promtest.Service{Name: "healthy", Rate: 10, ErrorRatio: 0.0002},
		promtest.Service{Name: "spent", Rate: 10, ErrorRatio: 0.0001, Segments: seg(21*promtest.Day, 14*promtest.Day, 0.005)},       // a bad week three weeks ago
		promtest.Service{Name: "burning", Rate: 10, Segments: seg(10*time.Minute, 0, 0.1)},                                          // errors only in the last 10 minutes
		promtest.Service{Name: "spike", Rate: 10, ErrorRatio: 0.0001, Segments: seg(2*promtest.Day+time.Hour, 2*promtest.Day, 0.5)}, // an hour of 50 % two days ago
		promtest.Service{Name: "slowburn", Rate: 10, ErrorRatio: 0.0001, Segments: seg(3*promtest.Day, 0, 0.0035)},                  // 3.5× the budget for 3 days
		promtest.Service{Name: "flaky", Rate: 10, ErrorRatio: 0.0001, Segments: patches},
		promtest.Service{Name: "idle"}, // counters that never move: no traffic
	)
}

// eventsSLO is a native SLO of 99.9 % over 30 days on a service's 5xx.
func eventsSLO(service string) string {
	return fmt.Sprintf(`  - name: %[1]s
    service: %[1]s
    objective: 99.9
    window: 30d
    sli:
      error_query: sum(rate(http_requests_total{service=%[1]q,code=~"5.."}[{{.window}}]))
      total_query: sum(rate(http_requests_total{service=%[1]q}[{{.window}}]))
`, service)
}

// nativeConfig is a config for one Prometheus at url; gate is YAML or "".
func nativeConfig(url, gate string, slos ...string) string {
	return fmt.Sprintf("version: 1\nproviders:\n  - {name: prom, type: prometheus, url: %q, timeout: 5s, retries: 0}\nslos:\n%s%s",
		url, strings.Join(slos, ""), gate)
}

type checkOutcome struct {
	code           int
	rec            report.Decision
	stdout, stderr string
}

// checkJSON writes config to a file and runs `sloguard check -o json` on it.
func checkJSON(t *testing.T, config string, args ...string) checkOutcome {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sloguard.yaml")
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	argv := append([]string{"sloguard", "check", "-c", path, "-o", "json"}, args...)
	o := checkOutcome{code: run(t.Context(), argv, &stdout, &stderr), stdout: stdout.String(), stderr: stderr.String()}
	if o.stdout != "" {
		if err := json.Unmarshal(stdout.Bytes(), &o.rec); err != nil {
			t.Fatalf("stdout is not a decision record: %v\n%s", err, o.stdout)
		}
	}
	return o
}

func (o checkOutcome) slo(t *testing.T, name string) report.SLO {
	t.Helper()
	for _, s := range o.rec.SLOs {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no SLO %q in the record; stdout:\n%s\nstderr:\n%s", name, o.stdout, o.stderr)
	return report.SLO{}
}

// closedLoopbackURL points at a loopback port nothing listens on.
func closedLoopbackURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func TestCheckAgainstPrometheus(t *testing.T) {
	t.Setenv("GITHUB_ACTIONS", "") // a local run, even inside CI
	t.Setenv("TF_BUILD", "")
	srv := promtest.Start(t, integrationMonth(time.Now()))
	h, url := srv.History, srv.URL
	at := []string{"--at", h.End.Format(time.RFC3339)}

	t.Run("figures match the data", func(t *testing.T) { testFigures(t, h, url, at) })
	t.Run("exit codes follow the policy", func(t *testing.T) { testExitCodes(t, url, at) })
	t.Run("timeslices", func(t *testing.T) { testTimeslices(t, h, url, at) })
	t.Run("slices too short for the scrape interval are a config error", func(t *testing.T) { testShortSlices(t, url, at) })
	t.Run("other formats agree with native", func(t *testing.T) { testFormats(t, url, at) })

	t.Run("an override lets a closed gate through and keeps its reason", func(t *testing.T) {
		o := checkJSON(t, nativeConfig(url, "", eventsSLO("spent")), append(at, "--override", "hotfix for INC-42")...)
		if o.code != 0 || o.rec.Decision != report.Overridden || o.rec.Override != "hotfix for INC-42" || !strings.Contains(o.rec.Reason, "hotfix for INC-42") {
			t.Errorf("exit %d, decision %q, override %q, reason %q; want 0, overridden and the reason", o.code, o.rec.Decision, o.rec.Override, o.rec.Reason)
		}
		if s := o.slo(t, "spent"); s.Decision != report.Fail {
			t.Errorf("the SLO itself reads %q; an override must not hide that it failed", s.Decision)
		}
	})
	t.Run("--slo evaluates only the named SLOs", func(t *testing.T) {
		o := checkJSON(t, nativeConfig(url, "", eventsSLO("healthy"), eventsSLO("spent")), append(at, "--slo", "healthy")...)
		if o.code != 0 || len(o.rec.SLOs) != 1 || o.rec.SLOs[0].Name != "healthy" {
			t.Errorf("exit %d with %d SLO(s); want 0 with healthy alone\n%s", o.code, len(o.rec.SLOs), o.stdout)
		}
	})
	t.Run("--slo naming no SLO is a usage error", func(t *testing.T) {
		o := checkJSON(t, nativeConfig(url, "", eventsSLO("healthy")), append(at, "--slo", "nope")...)
		if o.code != 2 || o.stdout != "" || !strings.Contains(o.stderr, "--slo nope: no such SLO") {
			t.Errorf("exit %d, stdout %q, stderr %q; want 2, nothing, the reason", o.code, o.stdout, o.stderr)
		}
	})
	t.Run("without --at it evaluates now", func(t *testing.T) {
		before := time.Now().Add(-time.Second)
		o := checkJSON(t, nativeConfig(url, "", eventsSLO("healthy")))
		if o.code != 0 || o.rec.EvaluatedAt.Before(before) || o.rec.EvaluatedAt.After(time.Now()) {
			t.Errorf("exit %d, evaluated at %s; want 0, now\n%s%s", o.code, o.rec.EvaluatedAt, o.stdout, o.stderr)
		}
	})
	t.Run("--report writes the record that stdout prints", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "record.json")
		o := checkJSON(t, nativeConfig(url, "", eventsSLO("healthy"), eventsSLO("burning")), append(at, "--report", file)...)
		b, err := os.ReadFile(file)
		if err != nil || o.code != 1 || string(b) != o.stdout {
			t.Errorf("exit %d, read %v; file and stdout differ:\n%s\n---\n%s", o.code, err, b, o.stdout)
		}
	})
}

// testFigures compares budget and burn rates with the data, within 0.1.
func testFigures(t *testing.T, h *promtest.History, url string, at []string) {
	services := []string{"healthy", "spent", "burning", "spike", "slowburn"}
	slos := make([]string, len(services))
	for i, s := range services {
		slos[i] = eventsSLO(s)
	}
	o := checkJSON(t, nativeConfig(url, "", slos...), at...)
	if !o.rec.EvaluatedAt.Equal(h.End) {
		t.Fatalf("evaluated at %s, want %s", o.rec.EvaluatedAt, h.End)
	}
	for _, svc := range services {
		t.Run(svc+" has the budget and burn rates of its data", func(t *testing.T) {
			s := o.slo(t, svc)
			r, _ := h.ErrorRatio(svc, h.End, 30*promtest.Day)
			if want := promtest.BudgetRemaining(r, 99.9); s.ErrorBudgetRemaining == nil || math.Abs(*s.ErrorBudgetRemaining-want) > 0.1 {
				t.Errorf("error_budget_remaining = %v, want %.3f", derefFloat(s.ErrorBudgetRemaining), want)
			}
			for _, w := range []time.Duration{5 * time.Minute, 30 * time.Minute, time.Hour, 6 * time.Hour} {
				key := model.Duration(w).String()
				r, _ := h.ErrorRatio(svc, h.End, w)
				got := s.BurnRates[key]
				if want := promtest.BurnRate(r, 99.9); got == nil || math.Abs(*got-want) > 0.1 {
					t.Errorf("burn_rates[%s] = %v, want %.3f", key, derefFloat(got), want)
				}
			}
		})
	}
}

func derefFloat(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// testExitCodes runs one story per case and checks the exit code, the
// decision and, where it matters, the reason.
func testExitCodes(t *testing.T, url string, at []string) {
	slowPair := "gate:\n  burn_rate_alerts:\n    - {long: 1h, short: 5m, factor: 14.4}\n    - {long: 6h, short: 30m, factor: 6}\n    - {long: 3d, short: 6h, factor: 1}\n"
	noData := func(p string) string { return "gate: {on_no_data: " + p + "}\n" }
	onError := func(p string) string { return "gate: {on_error: " + p + "}\n" }
	down := closedLoopbackURL(t)
	tests := map[string]struct {
		config   string
		code     int
		decision string
		reason   string
	}{
		"a healthy service passes":                                 {nativeConfig(url, "", eventsSLO("healthy")), 0, report.Pass, "gate open"},
		"a spent budget closes the gate":                           {nativeConfig(url, "", eventsSLO("spent")), 1, report.Fail, "error budget spent"},
		"a fast burn closes the gate though budget is left":        {nativeConfig(url, "", eventsSLO("burning")), 1, report.Fail, "(1h)"},
		"a spike that has passed dents the budget, the gate opens": {nativeConfig(url, "", eventsSLO("spike")), 0, report.Pass, "gate open"},
		"a slow burn slips past the default pairs":                 {nativeConfig(url, "", eventsSLO("slowburn")), 0, report.Pass, "gate open"},
		"a slow burn is caught by a (3d, 6h, 1) pair":              {nativeConfig(url, slowPair, eventsSLO("slowburn")), 1, report.Fail, "(3d)"},
		"no traffic under on_no_data pass passes":                  {nativeConfig(url, noData("pass"), eventsSLO("idle")), 0, report.Pass, "gate open"},
		"no traffic under on_no_data fail fails":                   {nativeConfig(url, noData("fail"), eventsSLO("idle")), 1, report.Fail, "no traffic in the 30d window"},
		"no traffic under on_no_data inconclusive is inconclusive": {nativeConfig(url, noData("inconclusive"), eventsSLO("idle")), 3, report.Inconclusive, "no traffic"},
		"a service with no series at all is no traffic too":        {nativeConfig(url, noData("inconclusive"), eventsSLO("ghost")), 3, report.Inconclusive, "no traffic"},
		"an unreachable provider under on_error pass passes":       {nativeConfig(down, onError("pass"), eventsSLO("healthy")), 0, report.Pass, "gate open"},
		"an unreachable provider under on_error fail fails":        {nativeConfig(down, onError("fail"), eventsSLO("healthy")), 1, report.Fail, "cannot read the SLI"},
		"an unreachable provider is inconclusive by default":       {nativeConfig(down, "", eventsSLO("healthy")), 3, report.Inconclusive, "cannot read the SLI"},
		"a query returning two series is a config error": {
			nativeConfig(url, "", strings.Replace(eventsSLO("healthy"), `sum(rate(http_requests_total{service="healthy"}[{{.window}}]))`, `rate(http_requests_total{service="healthy"}[{{.window}}])`, 1)),
			2, "", "returned 2 series",
		},
		"an unknown key in the config is a config error": {
			nativeConfig(url, "", strings.Replace(eventsSLO("healthy"), "objective:", "objectiv:", 1)), 2, "", "objectiv",
		},
	}
	// Exit 2 prints no record: reason is then looked for on stderr.
	budgets := map[string][2]float64{ // bounds of error_budget_remaining
		"a fast burn closes the gate though budget is left":        {90, 100},
		"a spike that has passed dents the budget, the gate opens": {0, 50},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			o := checkJSON(t, tc.config, at...)
			if tc.code == 2 {
				if o.code != 2 || o.stdout != "" || !strings.Contains(o.stderr, tc.reason) {
					t.Errorf("exit %d, stdout %q, stderr %q; want 2, nothing on stdout, stderr naming %q", o.code, o.stdout, o.stderr, tc.reason)
				}
				return
			}
			if o.code != tc.code || o.rec.Decision != tc.decision || !strings.Contains(o.rec.Reason, tc.reason) {
				t.Errorf("exit %d, decision %q, reason %q; want %d, %q, a reason with %q\nstderr: %s",
					o.code, o.rec.Decision, o.rec.Reason, tc.code, tc.decision, tc.reason, o.stderr)
			}
			if bounds, ok := budgets[name]; ok {
				if b := o.rec.SLOs[0].ErrorBudgetRemaining; b == nil || *b < bounds[0] || *b > bounds[1] {
					t.Errorf("error_budget_remaining = %v, want between %v and %v", derefFloat(b), bounds[0], bounds[1])
				}
			}
		})
	}
}

// testTimeslices checks slice counts, budget and burn rates of a ratio SLI
// and a threshold SLI, both judged per 5-minute slice.
func testTimeslices(t *testing.T, h *promtest.History, url string, at []string) {
	const ratioSLO = `  - name: flaky-slices
    service: flaky
    objective: 98
    window: 30d
    budgeting: timeslices
    timeslice: {window: 5m, target: 99}
    sli:
      error_query: sum(rate(http_requests_total{service="flaky",code=~"5.."}[{{.window}}]))
      total_query: sum(rate(http_requests_total{service="flaky"}[{{.window}}]))
`
	const thresholdSLO = `  - name: flaky-threshold
    service: flaky
    objective: 98
    window: 30d
    timeslice: {window: 5m}
    sli:
      query: sum(rate(http_requests_total{service="flaky",code=~"5.."}[{{.window}}])) / sum(rate(http_requests_total{service="flaky"}[{{.window}}]))
      op: "<"
      value: 0.02
`
	o := checkJSON(t, nativeConfig(url, "", ratioSLO, thresholdSLO), at...)
	slices := h.Slices("flaky", h.End, 30*promtest.Day, 5*time.Minute)
	tests := map[string]struct {
		slo string
		bad func(promtest.Slice) bool
	}{
		"a ratio SLI counts slices under 99 % as bad":                {"flaky-slices", func(s promtest.Slice) bool { return s.HasData && 100*(1-s.ErrorRatio) < 99 }},
		"a threshold SLI counts slices at 2 % errors or more as bad": {"flaky-threshold", func(s promtest.Slice) bool { return s.HasData && s.ErrorRatio >= 0.02 }},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := o.slo(t, tc.slo)
			bad := make([]bool, len(slices))
			nBad := 0
			for i, sl := range slices {
				bad[i] = tc.bad(sl)
				if bad[i] {
					nBad++
				}
			}
			if nBad == 0 {
				t.Fatal("the fixture has no bad slices: this test would prove nothing")
			}
			n := len(slices)
			if s.Slices == nil || s.Slices.Total != n || s.Slices.Good != n-nBad || s.Slices.Size != "5m" {
				t.Errorf("slices = %+v, want %d good of %d, size 5m", s.Slices, n-nBad, n)
			}
			if want := 100 * (1 - float64(nBad)/(0.02*float64(n))); s.ErrorBudgetRemaining == nil || math.Abs(*s.ErrorBudgetRemaining-want) > 0.1 {
				t.Errorf("error_budget_remaining = %v, want %.3f", derefFloat(s.ErrorBudgetRemaining), want)
			}
			for _, w := range []time.Duration{5 * time.Minute, 30 * time.Minute, time.Hour, 6 * time.Hour} {
				k, kBad := int(w/(5*time.Minute)), 0
				for _, b := range bad[n-k:] {
					if b {
						kBad++
					}
				}
				key := model.Duration(w).String()
				if want := float64(kBad) / float64(k) / 0.02; s.BurnRates[key] == nil || math.Abs(*s.BurnRates[key]-want) > 0.1 {
					t.Errorf("burn_rates[%s] = %v, want %.3f", key, derefFloat(s.BurnRates[key]), want)
				}
			}
		})
	}
}

// testShortSlices: with one scrape a minute a 1m slice holds one sample,
// so rate() answers nothing in any slice. That must not pass as "no
// traffic".
func testShortSlices(t *testing.T, url string, at []string) {
	short := strings.Replace(eventsSLO("healthy"), "    sli:", "    budgeting: timeslices\n    timeslice: {window: 1m, target: 99}\n    sli:", 1)
	o := checkJSON(t, nativeConfig(url, "", short), at...)
	if o.code != 2 || o.stdout != "" || !strings.Contains(o.stderr, "no 1m slice has a value, yet the 30d window has data") {
		t.Errorf("exit %d, stdout %q, stderr %q; want 2 and why", o.code, o.stdout, o.stderr)
	}
}

// testFormats runs an OpenSLO and a Sloth file written for the same SLOs
// as a native one, and wants the same decision and figures.
func testFormats(t *testing.T, url string, at []string) {
	want := checkJSON(t, nativeConfig(url, "", eventsSLO("burning"), eventsSLO("spike")), at...)
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("testdata", "integration", name))
		if err != nil {
			t.Fatal(err)
		}
		return strings.ReplaceAll(string(b), "[[.URL]]", url)
	}
	tests := map[string]struct {
		config string
		args   []string
		names  []string // the native SLOs' names in this format
	}{
		"an OpenSLO v1 file, with rates and with raw counters": {read("openslo.yaml"), nil, []string{"burning", "spike"}},
		"a Sloth prometheus/v1 file with --prometheus-url":     {read("sloth.yaml"), []string{"--prometheus-url", url}, []string{"shop-burning", "shop-spike"}},
	}
	for name, tc := range tests {
		t.Run(name+" decides as the native file does", func(t *testing.T) {
			o := checkJSON(t, tc.config, append(at, tc.args...)...)
			if o.code != want.code || o.rec.Decision != want.rec.Decision || o.code != 1 {
				t.Fatalf("exit %d, decision %q; native: exit %d, %q (want 1, fail)\nstderr: %s", o.code, o.rec.Decision, want.code, want.rec.Decision, o.stderr)
			}
			for i, n := range tc.names {
				got, exp := o.slo(t, n), want.rec.SLOs[i]
				if got.Decision != exp.Decision || got.Window != "30d" || !agreeFloat(got.ErrorBudgetRemaining, exp.ErrorBudgetRemaining) {
					t.Errorf("%s: decision %q, window %s, budget %v; native: %q, 30d, %v", n, got.Decision, got.Window, derefFloat(got.ErrorBudgetRemaining), exp.Decision, derefFloat(exp.ErrorBudgetRemaining))
				}
				for w, b := range exp.BurnRates {
					if g := got.BurnRates[w]; !agreeFloat(g, b) {
						t.Errorf("%s: burn_rates[%s] = %v, native %v", n, w, derefFloat(g), derefFloat(b))
					}
				}
			}
		})
	}
}

func agreeFloat(a, b *float64) bool { return a != nil && b != nil && math.Abs(*a-*b) <= 1e-4 }
