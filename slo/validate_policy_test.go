package slo

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestBuildPolicyProblems(t *testing.T) {
	for name, tc := range map[string]struct {
		mutate func(*rawConfig)
		want   []string
	}{
		"a minimum budget above 100 %": {
			func(c *rawConfig) { c.Gate = &rawGate{MinBudgetRemaining: ptr(120.0)} },
			[]string{"gate.min_budget_remaining: must be a percent of at most 100, got 120"},
		},
		"a burn alert with short as long as long": {
			func(c *rawConfig) {
				c.Gate = &rawGate{BurnRateAlerts: []rawBurnAlert{{Long: "1h", Short: "60m", Factor: ptr(14.4)}}}
			},
			[]string{"gate.burn_rate_alerts[0].short: 1h must be shorter than long (1h): the short window confirms that the long one is still burning"},
		},
		"a burn alert without windows or factor": {
			func(c *rawConfig) { c.Gate = &rawGate{BurnRateAlerts: []rawBurnAlert{{}}} },
			[]string{"gate.burn_rate_alerts[0].long: required: a window such as 1h",
				"gate.burn_rate_alerts[0].short: required: a window such as 5m",
				"gate.burn_rate_alerts[0].factor: required: the burn rate both windows must exceed, e.g. 14.4"},
		},
		"a burn alert with an infinite factor": {
			func(c *rawConfig) {
				c.Gate = &rawGate{BurnRateAlerts: []rawBurnAlert{{Long: "1h", Short: "5m", Factor: ptr(math.Inf(1))}}}
			},
			[]string{"gate.burn_rate_alerts[0].factor: must be a burn rate above 0, e.g. 14.4, got +Inf"},
		},
		"an unknown gate policy": {
			func(c *rawConfig) { c.Gate = &rawGate{OnNoData: "skip", OnError: "retry"} },
			[]string{`gate.on_no_data: "skip": use pass, fail or inconclusive`, `gate.on_error: "retry": use pass, fail or inconclusive`},
		},
		"a canary interval longer than its duration": {
			func(c *rawConfig) { c.Canary = &rawCanary{Duration: "5m", Interval: "10m"} },
			[]string{"canary.interval: 10m is longer than the duration 5m: the canary would be read once at most; shorten interval or lengthen duration"},
		},
		"a canary duration of zero": {
			func(c *rawConfig) { c.Canary = &rawCanary{Duration: "0"} },
			[]string{`canary.duration: "0" must be longer than zero`},
		},
		"a baseline with neither labels nor offset": {
			func(c *rawConfig) { c.Canary = &rawCanary{Baseline: &rawScope{}} },
			[]string{"canary.baseline: set labels (a live baseline, e.g. {track: stable}), offset (the same queries that long before the deploy, e.g. 1h), or both"},
		},
		"canary labels no backend can hold": {
			func(c *rawConfig) {
				c.Canary = &rawCanary{Canary: &rawScope{Labels: map[string]string{"track name": "canary", "a=b": "v2", "__name__": "up"}}}
			},
			[]string{`canary.canary.labels.__name__: "__name__" is reserved (names starting with __ are internal; __name__ is the metric name): select the track by a label of its own, e.g. track`,
				`canary.canary.labels.a=b: "a=b" is not a valid label name`,
				`canary.canary.labels.track name: "track name" is not a valid label name`},
		},
		"a canary label with an empty value": {
			func(c *rawConfig) { c.Canary = &rawCanary{Canary: &rawScope{Labels: map[string]string{"track": ""}}} },
			[]string{`canary.canary.labels.track: empty value: the matcher track="" selects every series without a track label, not this track: give the track's value, e.g. track: canary`},
		},
		"a baseline with the canary's labels": {
			func(c *rawConfig) {
				c.Canary = &rawCanary{Canary: &rawScope{Labels: map[string]string{"track": "canary"}}, Baseline: &rawScope{Labels: map[string]string{"track": "canary"}}}
			},
			[]string{`canary.baseline.labels: the same as canary.canary.labels: the baseline would be the canary itself; give the stable track's labels, e.g. {track: stable}`},
		},
		"dotted and dashed labels are left to the backend": {
			func(c *rawConfig) {
				c.Canary = &rawCanary{Canary: &rawScope{Labels: map[string]string{"customDimensions.track": "canary", "kube-version": "v2"}}}
			},
			nil,
		},
		"a max false rollback of 0": {
			func(c *rawConfig) { c.Canary = &rawCanary{MaxFalseRollback: ptr(0.0)} },
			[]string{"canary.max_false_rollback: must be between 0 and 0.5 (exclusive), got 0: the probability of rolling back a healthy canary, e.g. 0.01"},
		},
		"a max false rollback of 1": {
			func(c *rawConfig) { c.Canary = &rawCanary{MaxFalseRollback: ptr(1.0)} },
			[]string{"canary.max_false_rollback: must be between 0 and 0.5 (exclusive), got 1: the probability of rolling back a healthy canary, e.g. 0.01"},
		},
		"a power of 1": {
			func(c *rawConfig) { c.Canary = &rawCanary{Power: ptr(1.0)} },
			[]string{"canary.power: must be between 0.5 and 1 (exclusive), got 1: the probability of catching a bad canary, e.g. 0.95"},
		},
		"a relative breach below the tolerance": {
			func(c *rawConfig) { c.Canary = &rawCanary{BreachRelative: ptr(0.5)} },
			[]string{"canary.breach_relative: breach_relative (0.5) must be above relative_tolerance (1.5)"},
		},
		"a healthy burn rate above the default breach": {
			func(c *rawConfig) { c.Canary = &rawCanary{HealthyBurnRate: ptr(6.0)} },
			[]string{"canary.healthy_burn_rate: breach_burn_rate (3) must be above healthy_burn_rate (6)"},
		},
		"a breach burn rate below the healthy one": {
			func(c *rawConfig) { c.Canary = &rawCanary{BreachBurnRate: ptr(2.0), HealthyBurnRate: ptr(2.0)} },
			[]string{"canary.breach_burn_rate: breach_burn_rate (2) must be above healthy_burn_rate (2)"},
		},
		"canary counts below 1": {
			func(c *rawConfig) { c.Canary = &rawCanary{Consecutive: ptr(0), ConsecutiveErrorLimit: ptr(0)} },
			[]string{"canary.consecutive: must be at least 1, got 0", "canary.consecutive_error_limit: must be at least 1, got 0"},
		},
		"an unknown on_baseline_breach": {
			func(c *rawConfig) { c.Canary = &rawCanary{OnBaselineBreach: "pass"} },
			[]string{`canary.on_baseline_breach: "pass": use inconclusive (the canary is not rolled back while the baseline burns as fast) or fail (roll back anyway)`},
		},
		"rollback retries and timeout out of range": {
			func(c *rawConfig) { c.Rollback = &rawRollback{Retries: ptr(-1), Timeout: "soon"} },
			[]string{`rollback.timeout: "soon" is not a duration: use a number and a unit (ms, s, m, h, d, w, y), e.g. 30d or 5m`,
				"rollback.retries: must be between 0 and 10, got -1"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			raw := goodRaw()
			tc.mutate(raw)
			_, got := buildProblems(t, raw, Options{})
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("problems:\n got %q\nwant %q", got, tc.want)
			}
			for _, p := range got {
				for _, secret := range []string{"sk-live.abc123", "ghp_secret-token", "sig=abc"} {
					if strings.Contains(p, secret) {
						t.Errorf("a problem echoes the secret %q: %s", secret, p)
					}
				}
			}
		})
	}
}

func TestBuildPolicies(t *testing.T) {
	raw := goodRaw()
	raw.Gate = &rawGate{MinBudgetRemaining: ptr(10.0), BurnRateAlerts: []rawBurnAlert{{Long: "1d", Short: "2h", Factor: ptr(3.0)}}, OnNoData: "fail"}
	raw.Canary = &rawCanary{Duration: "20m", Interval: "1m", Canary: &rawScope{Labels: map[string]string{"track": "canary"}},
		Baseline: &rawScope{Labels: map[string]string{"track": "stable"}}, MaxFalseRollback: ptr(0.05), OnNoData: "pass", OnBaselineBreach: "fail"}
	raw.Rollback = &rawRollback{Timeout: "2m", Retries: ptr(1)}
	cfg, got := buildProblems(t, raw, Options{})
	if len(got) > 0 {
		t.Fatalf("problems: %q", got)
	}
	wantGate := GatePolicy{MinBudgetRemaining: 10, BurnAlerts: []BurnAlert{{Long: day, Short: 2 * time.Hour, Factor: 3}}, OnNoData: PolicyFail, OnError: PolicyInconclusive}
	if !reflect.DeepEqual(cfg.Gate, wantGate) {
		t.Errorf("gate\n%+v\nwant\n%+v", cfg.Gate, wantGate)
	}
	wantCanary := DefaultCanary()
	wantCanary.Duration, wantCanary.Interval = 20*time.Minute, time.Minute
	wantCanary.Canary = Scope{Labels: map[string]string{"track": "canary"}}
	wantCanary.Baseline = &Scope{Labels: map[string]string{"track": "stable"}}
	wantCanary.MaxFalseRollback, wantCanary.OnNoData, wantCanary.OnBaselineBreach = 0.05, PolicyPass, PolicyFail
	if !reflect.DeepEqual(cfg.Canary, wantCanary) {
		t.Errorf("canary\n%+v\nwant\n%+v", cfg.Canary, wantCanary)
	}
	if want := (Rollback{Timeout: 2 * time.Minute, Retries: 1}); !reflect.DeepEqual(cfg.Rollback, want) {
		t.Errorf("rollback\n%+v\nwant\n%+v", cfg.Rollback, want)
	}
}
