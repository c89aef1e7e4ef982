package slo

import (
	"math"
	"testing"
	"time"
)

const tolerance = 1e-9

func near(got, want float64) bool {
	if math.IsInf(want, 0) || math.IsNaN(want) {
		return got == want || (math.IsNaN(got) && math.IsNaN(want))
	}
	return math.Abs(got-want) <= tolerance
}

func TestErrorRatio(t *testing.T) {
	for name, tc := range map[string]struct {
		bad, total float64
		want       float64
		ok         bool
	}{
		"some errors give their share of the total": {bad: 5, total: 1000, want: 0.005, ok: true},
		"no errors give a ratio of zero":            {bad: 0, total: 1000, want: 0, ok: true},
		"no events at all are not a ratio":          {bad: 0, total: 0, ok: false},
		"errors without events are not a ratio":     {bad: 3, total: 0, ok: false},
		"a negative total is not a ratio":           {bad: 1, total: -5, ok: false},
		"a NaN total is not a ratio":                {bad: 1, total: math.NaN(), ok: false},
		"an infinite total is not a ratio":          {bad: 1, total: math.Inf(1), ok: false},
		"NaN errors are not a ratio":                {bad: math.NaN(), total: 100, ok: false},
		"more errors than events are capped at 1":   {bad: 150, total: 100, want: 1, ok: true},
		"negative errors are raised to 0":           {bad: -1, total: 100, want: 0, ok: true},
		"fractional rates divide as counts do":      {bad: 0.25, total: 125, want: 0.002, ok: true},
	} {
		t.Run(name, func(t *testing.T) {
			got, ok := ErrorRatio(tc.bad, tc.total)
			if ok != tc.ok || !near(got, tc.want) {
				t.Errorf("ErrorRatio(%v, %v) = %v, %v; want %v, %v", tc.bad, tc.total, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestSLIPercent(t *testing.T) {
	for name, tc := range map[string]struct{ ratio, want float64 }{
		"no errors is 100 %":         {0, 100},
		"half a percent of errors":   {0.005, 99.5},
		"one in a thousand":          {0.001, 99.9},
		"every request failing is 0": {1, 0},
	} {
		t.Run(name, func(t *testing.T) {
			if got := SLIPercent(tc.ratio); !near(got, tc.want) {
				t.Errorf("SLIPercent(%v) = %v, want %v", tc.ratio, got, tc.want)
			}
		})
	}
}

func TestBurnRateAndBudgetRemaining(t *testing.T) {
	for name, tc := range map[string]struct {
		ratio, objective float64
		burn, remaining  float64
	}{
		"no errors burn nothing and leave the whole budget":  {0, 99.9, 0, 100},
		"half the budget's error ratio burns at 0.5":         {0.0005, 99.9, 0.5, 50},
		"exactly the budget burns at 1 and leaves nothing":   {0.001, 99.9, 1, 0},
		"twice the budget is overspent by a whole budget":    {0.002, 99.9, 2, -100},
		"the workbook's page threshold burns at 14.4":        {0.0144, 99.9, 14.4, -1340},
		"a 99 % objective allows 1 % of errors":              {0.0025, 99, 0.25, 75},
		"every request failing burns the whole window":       {1, 99, 100, -9900},
		"an objective of 100 burns infinitely on any error":  {0.001, 100, math.Inf(1), math.Inf(-1)},
		"an objective of 100 burns nothing without errors":   {0, 100, 0, 100},
		"a loose objective of 50 allows half of the traffic": {0.25, 50, 0.5, 50},
	} {
		t.Run(name, func(t *testing.T) {
			if got := BurnRate(tc.ratio, tc.objective); !near(got, tc.burn) {
				t.Errorf("BurnRate(%v, %v) = %v, want %v", tc.ratio, tc.objective, got, tc.burn)
			}
			if got := BudgetRemaining(tc.ratio, tc.objective); !near(got, tc.remaining) {
				t.Errorf("BudgetRemaining(%v, %v) = %v, want %v", tc.ratio, tc.objective, got, tc.remaining)
			}
		})
	}
}

func TestSLOBudget(t *testing.T) {
	if got := (SLO{Objective: 99.9}).Budget(); !near(got, 0.001) {
		t.Errorf("Budget() of 99.9 = %v, want 0.001", got)
	}
	if got := (SLO{Objective: 95}).Budget(); !near(got, 0.05) {
		t.Errorf("Budget() of 95 = %v, want 0.05", got)
	}
}

func TestBurnAlertFires(t *testing.T) {
	page := BurnAlert{Long: time.Hour, Short: 5 * time.Minute, Factor: 14.4}
	for name, tc := range map[string]struct {
		long, short float64
		want        bool
	}{
		"both windows above the factor fire":           {15, 20, true},
		"only the long window above does not fire":     {15, 2, false},
		"only the short window above does not fire":    {2, 15, false},
		"exactly the factor is not above it":           {14.4, 14.4, false},
		"the long window at the factor does not fire":  {14.4, 30, false},
		"the short window at the factor does not fire": {30, 14.4, false},
		"no burn does not fire":                        {0, 0, false},
		"a NaN burn rate does not fire":                {math.NaN(), 20, false},
		"infinite burn rates fire":                     {math.Inf(1), math.Inf(1), true},
	} {
		t.Run(name, func(t *testing.T) {
			if got := page.Fires(tc.long, tc.short); got != tc.want {
				t.Errorf("Fires(%v, %v) = %v, want %v", tc.long, tc.short, got, tc.want)
			}
		})
	}
}

func TestBurnWindows(t *testing.T) {
	for name, tc := range map[string]struct {
		alerts []BurnAlert
		want   []time.Duration
	}{
		"the defaults need four windows, shortest first": {
			alerts: DefaultBurnAlerts(),
			want:   []time.Duration{5 * time.Minute, 30 * time.Minute, time.Hour, 6 * time.Hour},
		},
		"a window shared by two pairs is listed once": {
			alerts: []BurnAlert{{Long: time.Hour, Short: 5 * time.Minute}, {Long: 6 * time.Hour, Short: time.Hour}},
			want:   []time.Duration{5 * time.Minute, time.Hour, 6 * time.Hour},
		},
		"pairs given longest first still come out shortest first": {
			alerts: []BurnAlert{{Long: 3 * day, Short: 6 * time.Hour}, {Long: time.Hour, Short: 5 * time.Minute}},
			want:   []time.Duration{5 * time.Minute, time.Hour, 6 * time.Hour, 3 * day},
		},
		"the same pair twice gives its two windows": {
			alerts: []BurnAlert{{Long: time.Hour, Short: 5 * time.Minute}, {Long: time.Hour, Short: 5 * time.Minute, Factor: 2}},
			want:   []time.Duration{5 * time.Minute, time.Hour},
		},
		"no pairs need no windows": {alerts: nil, want: nil},
	} {
		t.Run(name, func(t *testing.T) {
			got := BurnWindows(tc.alerts)
			if len(got) != len(tc.want) {
				t.Fatalf("BurnWindows = %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("BurnWindows = %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestSliceGood(t *testing.T) {
	for name, tc := range map[string]struct {
		bad, total, target float64
		want               bool
	}{
		"a slice without events is good":             {0, 0, 99, true},
		"a slice without errors is good":             {0, 100, 99, true},
		"a slice exactly at its target is good":      {1, 100, 99, true},
		"a slice below its target is bad":            {2, 100, 99, false},
		"a 100 % target fails on a single error":     {1, 10000, 100, false},
		"a 100 % target holds without errors":        {0, 10, 100, true},
		"99.9 % of good events miss a 99.95 % slice": {1, 1000, 99.95, false},
		"more errors than events make a bad slice":   {5, 3, 50, false},
	} {
		t.Run(name, func(t *testing.T) {
			if got := SliceGood(tc.bad, tc.total, tc.target); got != tc.want {
				t.Errorf("SliceGood(%v, %v, %v) = %v, want %v", tc.bad, tc.total, tc.target, got, tc.want)
			}
		})
	}
}

func TestTimeslices(t *testing.T) {
	for name, tc := range map[string]struct {
		bad, slices     int
		objective       float64
		remaining, burn float64
	}{
		"no bad slices leave the whole budget":            {0, 1000, 99, 100, 0},
		"half the allowed bad slices leave half":          {5, 1000, 99, 50, 0.5},
		"exactly the allowed bad slices leave nothing":    {10, 1000, 99, 0, 1},
		"twice the allowed bad slices overspend":          {20, 1000, 99, -100, 2},
		"a 30 day window of minutes allows 43.2 at 99.9":  {432, 43200, 99.9, -900, 10},
		"one bad minute in 30 days of 99.9":               {1, 43200, 99.9, 100 * (1 - 1/43.2), 1 / 43.2},
		"no slices yet leave the whole budget, burn none": {0, 0, 99, 100, 0},
	} {
		t.Run(name, func(t *testing.T) {
			if got := TimesliceBudgetRemaining(tc.bad, tc.slices, tc.objective); !near(got, tc.remaining) {
				t.Errorf("TimesliceBudgetRemaining(%d, %d, %v) = %v, want %v", tc.bad, tc.slices, tc.objective, got, tc.remaining)
			}
			if got := TimesliceBurnRate(tc.bad, tc.slices, tc.objective); !near(got, tc.burn) {
				t.Errorf("TimesliceBurnRate(%d, %d, %v) = %v, want %v", tc.bad, tc.slices, tc.objective, got, tc.burn)
			}
		})
	}
}

func TestThresholdGood(t *testing.T) {
	for name, tc := range map[string]struct {
		op    string
		value float64
		want  bool
	}{
		"below a < limit is good":     {"<", 0.29, true},
		"at a < limit is bad":         {"<", 0.3, false},
		"at a <= limit is good":       {"<=", 0.3, true},
		"above a <= limit is bad":     {"<=", 0.31, false},
		"above a > limit is good":     {">", 0.31, true},
		"at a > limit is bad":         {">", 0.3, false},
		"at a >= limit is good":       {">=", 0.3, true},
		"below a >= limit is bad":     {">=", 0.29, false},
		"an unknown op is never good": {"==", 0.3, false},
		"NaN never meets a < limit":   {"<", math.NaN(), false},
	} {
		t.Run(name, func(t *testing.T) {
			sli := SLI{Query: "q", Op: tc.op, Value: 0.3}
			if got := sli.Good(tc.value); got != tc.want {
				t.Errorf("SLI{%s 0.3}.Good(%v) = %v, want %v", tc.op, tc.value, got, tc.want)
			}
		})
	}
}

func TestSLIKind(t *testing.T) {
	for name, tc := range map[string]struct {
		sli  SLI
		want Kind
	}{
		"error and total queries are events": {SLI{ErrorQuery: "e", TotalQuery: "t"}, KindEvents},
		"good and total queries are events":  {SLI{GoodQuery: "g", TotalQuery: "t"}, KindEvents},
		"an error ratio query is a ratio":    {SLI{ErrorRatioQuery: "r"}, KindRatio},
		"a query with an op is a threshold":  {SLI{Query: "q", Op: "<", Value: 1}, KindThreshold},
	} {
		t.Run(name, func(t *testing.T) {
			if got := tc.sli.Kind(); got != tc.want {
				t.Errorf("Kind() = %v, want %v", got, tc.want)
			}
		})
	}
}
