package scrape

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// sample is one series' value in one scrape.
type sample struct {
	labels labels.Labels
	v      float64
}

// snapshot is one successful scrape of a target, stamped with the
// evaluation time it was taken for.
type snapshot struct {
	at     time.Time
	series map[string]sample // by labels.String()
}

// history keeps a target's snapshots, oldest first.
type history struct {
	mu    sync.Mutex // held across a scrape, so that one `at` scrapes once
	snaps []snapshot
}

// newest is the time of the latest snapshot, zero when there is none.
func (h *history) newest() time.Time {
	if len(h.snaps) == 0 {
		return time.Time{}
	}
	return h.snaps[len(h.snaps)-1].at
}

// add appends a snapshot and forgets those that no window of length keep
// ending now can need: all but the latest at or before now-keep.
func (h *history) add(s snapshot, keep time.Duration) {
	h.snaps = append(h.snaps, s)
	cut := s.at.Add(-keep)
	i := sort.Search(len(h.snaps), func(i int) bool { return h.snaps[i].at.After(cut) })
	if i > 1 {
		h.snaps = append(h.snaps[:0], h.snaps[i-1:]...)
	}
}

// increase is what the matching series of a target counted in (from, to]:
// the sum, per series, of the rises between consecutive snapshots, where a
// value below the previous one is a counter reset, counted from 0. A
// series missing from a snapshot is 0 there (not created yet, or gone with
// a restart). The base is the latest snapshot at or before from; without
// one, the first snapshot inside the window, so that counting starts at
// sloguard's first scrape. covered is false when fewer than two snapshots
// bound the window; matched counts the series that matched (in the one
// snapshot there is, when not covered).
func (h *history) increase(match func(labels.Labels) bool, from, to time.Time) (inc float64, matched int, covered bool) {
	lo := sort.Search(len(h.snaps), func(i int) bool { return h.snaps[i].at.After(from) }) // first inside
	hi := sort.Search(len(h.snaps), func(i int) bool { return h.snaps[i].at.After(to) })   // past the last inside
	if lo == hi {
		return 0, 0, false
	}
	base := lo - 1
	if base < 0 {
		base, lo = lo, lo+1
	}
	if lo >= hi { // one snapshot: nothing to count yet, but what matches is known
		for _, smp := range h.snaps[base].series {
			if match(smp.labels) {
				matched++
			}
		}
		return 0, matched, false
	}
	span := h.snaps[base:hi]
	keys := map[string]bool{}
	for _, s := range span {
		for k, smp := range s.series {
			if !keys[k] && match(smp.labels) {
				keys[k] = true
			}
		}
	}
	for k := range keys {
		prev := span[0].series[k].v // 0 when missing
		for _, s := range span[1:] {
			v := s.series[k].v
			switch {
			case math.IsNaN(v) || math.IsNaN(prev):
				inc = math.NaN()
			case v >= prev:
				inc += v - prev
			default:
				inc += v // a reset: the counter started again from 0
			}
			prev = v
		}
	}
	return inc, len(keys), true
}

// parse reads a text exposition into series named as Prometheus names
// them: counters, gauges and untyped values by their name, histograms as
// _bucket{le}, _count and _sum, summaries as {quantile}, _count and _sum.
func parse(r io.Reader) (map[string]sample, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, err
	}
	out := map[string]sample{}
	add := func(name string, base []*dto.LabelPair, extraName, extraValue string, v float64) {
		b := labels.NewScratchBuilder(len(base) + 2)
		b.Add(labels.MetricName, name)
		for _, lp := range base {
			b.Add(lp.GetName(), lp.GetValue())
		}
		if extraName != "" {
			b.Add(extraName, extraValue)
		}
		b.Sort()
		ls := b.Labels()
		out[ls.String()] = sample{labels: ls, v: v}
	}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			lp := m.GetLabel()
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				add(name, lp, "", "", m.GetCounter().GetValue())
			case dto.MetricType_GAUGE:
				add(name, lp, "", "", m.GetGauge().GetValue())
			case dto.MetricType_UNTYPED:
				add(name, lp, "", "", m.GetUntyped().GetValue())
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				inf := false
				for _, b := range h.GetBucket() {
					inf = inf || math.IsInf(b.GetUpperBound(), 1)
					add(name+"_bucket", lp, "le", formatFloat(b.GetUpperBound()), float64(b.GetCumulativeCount()))
				}
				if !inf {
					add(name+"_bucket", lp, "le", "+Inf", float64(h.GetSampleCount()))
				}
				add(name+"_count", lp, "", "", float64(h.GetSampleCount()))
				add(name+"_sum", lp, "", "", h.GetSampleSum())
			case dto.MetricType_SUMMARY:
				s := m.GetSummary()
				for _, q := range s.GetQuantile() {
					add(name, lp, "quantile", formatFloat(q.GetQuantile()), q.GetValue())
				}
				add(name+"_count", lp, "", "", float64(s.GetSampleCount()))
				add(name+"_sum", lp, "", "", s.GetSampleSum())
			default:
				return nil, fmt.Errorf("metric %s has type %s, which sloguard does not read", name, f.GetType())
			}
		}
	}
	return out, nil
}

// formatFloat writes le and quantile values as the text format does.
func formatFloat(f float64) string {
	if math.IsInf(f, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
