package gate

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/slo"
)

// diagnosing is a fake whose empty readings a Diagnose explains, and which
// records what it was asked.
type diagnosing struct {
	*fake
	unmatched []string // set on every reading
	diagnosis error
	asked     []time.Duration // the windows Diagnose was asked about
	hints     []bool
}

func (d *diagnosing) Counts(ctx context.Context, q providers.Query, at time.Time) (providers.Counts, error) {
	c, err := d.fake.Counts(ctx, q, at)
	c.Unmatched = d.unmatched
	return c, err
}

func (d *diagnosing) Slices(ctx context.Context, q providers.Query, r providers.Range) ([]providers.Counts, error) {
	out, err := d.fake.Slices(ctx, q, r)
	for i := range out {
		out[i].Unmatched = d.unmatched
	}
	return out, err
}

func (d *diagnosing) Diagnose(_ context.Context, q providers.Query, _ time.Time, queries []string, hints bool) error {
	if !reflect.DeepEqual(queries, d.unmatched) {
		return errors.New("asked about the wrong queries")
	}
	d.asked, d.hints = append(d.asked, q.Window), append(d.hints, hints)
	return d.diagnosis
}

var (
	typo    = &providers.QueryError{Provider: "prom", Query: "total", Err: &providers.UnknownMetricError{Metric: "http_request_total", Window: 30 * day, Suggestions: []string{"http_requests_total"}}}
	noMatch = &providers.QueryError{Provider: "prom", Query: "total", Err: &providers.NoMatchError{
		Selector: `http_requests_total{service="chekout"}`, Metric: "http_requests_total", Matcher: `service="chekout"`, Label: "service", Suggestions: []string{"checkout"},
	}}
)

// hourOfSlices is one hour of 5-minute slices against 90 %, all healthy.
func hourOfSlices() (slo.SLO, []providers.Counts) {
	s := goodSLO()
	s.Objective, s.Window, s.Budgeting = 90, time.Hour, slo.Timeslices
	s.Timeslice = slo.Timeslice{Window: 5 * time.Minute, Target: 99}
	out := make([]providers.Counts, 12)
	for i := range out {
		out[i] = providers.Counts{Good: 100, Total: 100}
	}
	return s, out
}

func TestEmptyReadingsAreExplainedOverTheSLOWindow(t *testing.T) {
	sliceSLO, healthySlices := hourOfSlices()
	quiet := func() *fake {
		return &fake{counts: map[time.Duration]providers.Counts{}, errs: map[time.Duration]error{}}
	}
	zeroErrors := func() *fake { f := steady(0); return f }
	tests := map[string]struct {
		prov      *diagnosing
		slo       slo.SLO
		wantErr   string // a bad query naming this
		decision  string
		reason    string
		warning   string
		wantHints bool
	}{
		"a misspelt total metric stops the check": {
			prov: &diagnosing{fake: quiet(), unmatched: []string{"total"}, diagnosis: typo}, slo: goodSLO(),
			wantErr: "unknown metric http_request_total: no series at all in the 30d window: did you mean http_requests_total?", wantHints: true,
		},
		"a misspelt error metric stops the check though every window has traffic": {
			prov: &diagnosing{fake: zeroErrors(), unmatched: []string{"errors"}, diagnosis: typo}, slo: goodSLO(),
			wantErr: "unknown metric http_request_total",
		},
		"a label value that matches nothing follows on_no_data, with the closest value": {
			prov: &diagnosing{fake: quiet(), unmatched: []string{"total"}, diagnosis: noMatch}, slo: goodSLO(),
			decision: report.Pass, wantHints: true,
			reason:  `no traffic in the 30d window: http_requests_total{service="chekout"} matches no series (service="chekout": did you mean checkout?) (on_no_data: pass)`,
			warning: `http_requests_total{service="chekout"} matches no series (service="chekout": did you mean checkout?)`,
		},
		"an error query with no series of a known metric is zero errors": {
			prov: &diagnosing{fake: zeroErrors(), unmatched: []string{"errors"}, diagnosis: noMatch}, slo: goodSLO(),
			decision: report.Pass, reason: "",
		},
		"a diagnosis that cannot tell leaves no data as it was": {
			prov: &diagnosing{fake: quiet(), unmatched: []string{"total"}, diagnosis: nil}, slo: goodSLO(),
			decision: report.Pass, wantHints: true, reason: "no traffic in the 30d window (on_no_data: pass)",
		},
		"a timeslice SLO whose error metric is misspelt stops the check": {
			prov: &diagnosing{fake: &fake{slices: healthySlices, counts: map[time.Duration]providers.Counts{}}, unmatched: []string{"errors"}, diagnosis: typo},
			slo:  sliceSLO, wantErr: "unknown metric http_request_total",
		},
		"a timeslice SLO with a misspelt total metric stops the check": {
			prov: &diagnosing{fake: &fake{sliceErr: providers.ErrNoData, counts: map[time.Duration]providers.Counts{}}, unmatched: []string{"total"}, diagnosis: typo},
			slo:  sliceSLO, wantErr: "unknown metric http_request_total", wantHints: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r, err := evaluate(context.Background(), tc.slo, goodPolicy(), tc.prov, at)
			if len(tc.prov.asked) != 1 || tc.prov.asked[0] != tc.slo.Window || tc.prov.hints[0] != tc.wantHints {
				t.Errorf("Diagnose asked about windows %v with hints %v; want once, over the SLO window %s, hints %v", tc.prov.asked, tc.prov.hints, tc.slo.Window, tc.wantHints)
			}
			if tc.wantErr != "" {
				if !errors.Is(err, providers.ErrBadQuery) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want a bad query naming %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Decision != tc.decision || (tc.reason != "" && strings.Join(r.Reasons, "; ") != tc.reason) {
				t.Errorf("decision %q, reasons %q; want %q, %q", r.Decision, r.Reasons, tc.decision, tc.reason)
			}
			if got := strings.Join(r.Warnings, "; "); got != tc.warning {
				t.Errorf("warnings %q, want %q", got, tc.warning)
			}
		})
	}
}

func TestAPassByPolicySaysNothingWasMeasured(t *testing.T) {
	down := &fake{counts: map[time.Duration]providers.Counts{}, errs: map[time.Duration]error{}}
	for _, w := range []time.Duration{30 * day, 5 * time.Minute, 30 * time.Minute, time.Hour, 6 * time.Hour} {
		down.errs[w] = outage
	}
	quiet := &fake{counts: map[time.Duration]providers.Counts{}}
	pol := goodPolicy()
	pol.OnError = slo.PolicyPass
	tests := map[string]struct {
		provs map[string]providers.Provider
		slos  []slo.SLO
		want  string
	}{
		"an unreachable backend under on_error: pass": {
			map[string]providers.Provider{"prom": down}, []slo.SLO{goodSLO()},
			"gate open by policy, not by measurement: checkout: cannot read the SLI: connection refused (on_error: pass)",
		},
		"no traffic under on_no_data: pass": {
			map[string]providers.Provider{"prom": quiet}, []slo.SLO{goodSLO()},
			"gate open by policy, not by measurement: checkout: no traffic in the 30d window (on_no_data: pass)",
		},
		"one measured SLO and one unreadable": {
			map[string]providers.Provider{"prom": down, "ok": steady(0)}, []slo.SLO{goodSLO(), func() slo.SLO { s := goodSLO(); s.Name, s.Provider = "search", "ok"; return s }()},
			"gate open by policy, not by measurement: checkout: cannot read the SLI: connection refused (on_error: pass) | 1 other SLO(s) within budget and not burning fast",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := &slo.Config{Gate: pol, SLOs: tc.slos}
			d, err := Check(context.Background(), cfg, tc.provs, Options{At: at})
			if err != nil {
				t.Fatal(err)
			}
			if d.Decision != report.Pass || d.Reason != tc.want {
				t.Errorf("decision %q, reason\n%q\nwant pass,\n%q", d.Decision, d.Reason, tc.want)
			}
			if strings.Contains(d.Reason, "gate open: ") {
				t.Error("the reason claims budgets nobody read")
			}
		})
	}
}
