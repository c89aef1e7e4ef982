package slo

import (
	"math"
	"time"

	"go.yaml.in/yaml/v3"
)

// DefaultCanary is the watch policy when the config says nothing.
func DefaultCanary() CanaryPolicy {
	return CanaryPolicy{
		Duration: 10 * time.Minute, Interval: 30 * time.Second,
		MaxFalseRollback: 0.01, Power: 0.95,
		HealthyBurnRate: 1, BreachBurnRate: 3, RelativeTolerance: 1.5, BreachRelative: 3,
		Consecutive: 2, OnNoData: PolicyInconclusive, OnError: PolicyInconclusive,
		ConsecutiveErrorLimit: 4, OnBaselineBreach: PolicyInconclusive,
	}
}

func buildCanary(r *rawCanary, ps *problems) CanaryPolicy {
	c := DefaultCanary()
	if r == nil {
		return c
	}
	dur := func(v, path string, into *time.Duration) {
		if v == "" {
			return
		}
		if d, err := ParseDuration(v); err != nil {
			ps.add(path, "%v", err)
		} else {
			*into = d
		}
	}
	dur(r.Duration, "canary.duration", &c.Duration)
	dur(r.Interval, "canary.interval", &c.Interval)
	if c.Interval > c.Duration {
		ps.add("canary.interval", "%s is longer than the duration %s: the canary would be read once at most; shorten interval or lengthen duration", FormatDuration(c.Interval), FormatDuration(c.Duration))
	}
	buildScopes(r, &c, ps)
	prob := func(v *float64, path string, lo, hi float64, what string, into *float64) {
		if v == nil {
			return
		}
		if math.IsNaN(*v) || *v <= lo || *v >= hi {
			if math.IsInf(hi, 1) {
				ps.add(path, "must be a finite number above %v, got %v: %s", lo, *v, what)
			} else {
				ps.add(path, "must be between %v and %v (exclusive), got %v: %s", lo, hi, *v, what)
			}
			return
		}
		*into = *v
	}
	prob(r.MaxFalseRollback, "canary.max_false_rollback", 0, 0.5, "the probability of rolling back a healthy canary, e.g. 0.01", &c.MaxFalseRollback)
	prob(r.Power, "canary.power", 0.5, 1, "the probability of catching a bad canary, e.g. 0.95", &c.Power)
	prob(r.HealthyBurnRate, "canary.healthy_burn_rate", 0, math.Inf(1), "the burn rate of a healthy canary, e.g. 1", &c.HealthyBurnRate)
	prob(r.BreachBurnRate, "canary.breach_burn_rate", 0, math.Inf(1), "the burn rate a pass must rule out, e.g. 3", &c.BreachBurnRate)
	prob(r.RelativeTolerance, "canary.relative_tolerance", 0, math.Inf(1), "how many times the baseline's error ratio a healthy canary may have, e.g. 1.5", &c.RelativeTolerance)
	prob(r.BreachRelative, "canary.breach_relative", 0, math.Inf(1), "how many times the baseline's error ratio a pass must rule out, e.g. 3", &c.BreachRelative)
	if c.BreachRelative <= c.RelativeTolerance {
		ps.add("canary.breach_relative", "breach_relative (%v) must be above relative_tolerance (%v)", c.BreachRelative, c.RelativeTolerance)
	}
	if c.BreachBurnRate <= c.HealthyBurnRate {
		path := "canary.breach_burn_rate"
		if r.BreachBurnRate == nil {
			path = "canary.healthy_burn_rate"
		}
		ps.add(path, "breach_burn_rate (%v) must be above healthy_burn_rate (%v)", c.BreachBurnRate, c.HealthyBurnRate)
	}
	if r.Consecutive != nil {
		if *r.Consecutive < 1 {
			ps.add("canary.consecutive", "must be at least 1, got %d", *r.Consecutive)
		}
		c.Consecutive = *r.Consecutive
	}
	if r.ConsecutiveErrorLimit != nil {
		if *r.ConsecutiveErrorLimit < 1 {
			ps.add("canary.consecutive_error_limit", "must be at least 1, got %d", *r.ConsecutiveErrorLimit)
		}
		c.ConsecutiveErrorLimit = *r.ConsecutiveErrorLimit
	}
	c.OnNoData = policy(r.OnNoData, c.OnNoData, "canary.on_no_data", ps)
	c.OnError = policy(r.OnError, c.OnError, "canary.on_error", ps)
	switch r.OnBaselineBreach {
	case "":
	case PolicyInconclusive, PolicyFail:
		c.OnBaselineBreach = r.OnBaselineBreach
	default:
		ps.add("canary.on_baseline_breach", "%q: use inconclusive (the canary is not rolled back while the baseline burns as fast) or fail (roll back anyway)", r.OnBaselineBreach)
	}
	return c
}

func buildRollback(r *rawRollback, ps *problems, kinds []ActionType) Rollback {
	rb := Rollback{Timeout: time.Minute, Retries: 2}
	if r == nil {
		return rb
	}
	if r.Timeout != "" {
		if d, err := ParseDuration(r.Timeout); err != nil {
			ps.add("rollback.timeout", "%v", err)
		} else {
			rb.Timeout = d
		}
	}
	if r.Retries != nil {
		if *r.Retries < 0 || *r.Retries > 10 {
			ps.add("rollback.retries", "must be between 0 and 10, got %d", *r.Retries)
		}
		rb.Retries = *r.Retries
	}
	if r.node == nil || r.node.Kind != yaml.MappingNode {
		return rb
	}
	keys := []string{"timeout", "retries"}
	for _, k := range kinds {
		keys = append(keys, k.Key)
	}
	written := map[string]*yaml.Node{}
	for i := 0; i+1 < len(r.node.Content); i += 2 {
		k := r.node.Content[i]
		if !contains(keys, k.Value) {
			ps.addYAML([]Problem{{File: ps.file, Line: k.Line, Path: "rollback." + k.Value, Msg: unknownKeyIn(keys, k.Value)}})
		}
		written[k.Value] = r.node.Content[i+1]
	}
	for _, k := range kinds {
		if n, ok := written[k.Key]; ok {
			b := &Block{path: "rollback." + k.Key, node: n, ps: ps}
			rb.Actions = append(rb.Actions, RollbackAction{Key: k.Key, Settings: k.Decode(b)})
		}
	}
	return rb
}
