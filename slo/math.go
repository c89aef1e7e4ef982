package slo

import (
	"math"
	"sort"
	"time"
)

// ErrorRatio is bad/total, kept within [0, 1] (counter resets and rate
// extrapolation can push bad past total). It reports false when there were
// no events, so that "no traffic" never reads as "healthy", and when the
// readings are not numbers at all (NaN, an infinite total).
func ErrorRatio(bad, total float64) (float64, bool) {
	if !(total > 0) || math.IsInf(total, 1) || math.IsNaN(bad) {
		return 0, false
	}
	r := bad / total
	switch {
	case r < 0:
		r = 0
	case r > 1:
		r = 1
	}
	return r, true
}

// SLIPercent is the SLI in percent for an error ratio.
func SLIPercent(errorRatio float64) float64 { return 100 * (1 - errorRatio) }

// budget is the allowed error ratio for an objective given in percent.
func budget(objective float64) float64 { return 1 - objective/100 }

// BurnRate is how many times faster than allowed the error budget burns:
// 1 spends exactly the budget over the SLO window. With no budget at all
// (an objective of 100), any error burns infinitely fast and none burns
// nothing.
func BurnRate(errorRatio, objective float64) float64 {
	b := budget(objective)
	if b <= 0 {
		if errorRatio > 0 {
			return math.Inf(1)
		}
		return 0
	}
	return errorRatio / b
}

// BudgetRemaining is the percent of the window's error budget left;
// negative when overspent.
func BudgetRemaining(errorRatio, objective float64) float64 {
	return 100 * (1 - BurnRate(errorRatio, objective))
}

// Fires reports whether a multi-window multi-burn-rate pair fires: both
// windows burn faster than the factor.
func (a BurnAlert) Fires(burnLong, burnShort float64) bool {
	return burnLong > a.Factor && burnShort > a.Factor
}

// BurnWindows lists the distinct windows the pairs need, shortest first.
func BurnWindows(alerts []BurnAlert) []time.Duration {
	seen := map[time.Duration]bool{}
	var ws []time.Duration
	for _, a := range alerts {
		for _, w := range []time.Duration{a.Short, a.Long} {
			if !seen[w] {
				seen[w] = true
				ws = append(ws, w)
			}
		}
	}
	sort.Slice(ws, func(i, j int) bool { return ws[i] < ws[j] })
	return ws
}

// SliceGood reports whether one ratio time slice meets its target (in
// percent). A slice without events is good: nothing failed in it.
func SliceGood(bad, total, targetPercent float64) bool {
	r, ok := ErrorRatio(bad, total)
	if !ok {
		return true
	}
	return SLIPercent(r) >= targetPercent
}

// TimesliceBudgetRemaining is the percent of a time-based budget left:
// 1 - bad slices / (budget * slices), negative when overspent.
func TimesliceBudgetRemaining(badSlices, slices int, objective float64) float64 {
	if slices <= 0 {
		return 100
	}
	return 100 * (1 - TimesliceBurnRate(badSlices, slices, objective))
}

// TimesliceBurnRate is the burn rate of a run of slices: the fraction of
// bad slices over the fraction allowed.
func TimesliceBurnRate(badSlices, slices int, objective float64) float64 {
	if slices <= 0 {
		return 0
	}
	return BurnRate(float64(badSlices)/float64(slices), objective)
}
