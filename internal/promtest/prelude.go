package promtest

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/sloguard/sloguard/internal/sim"
)

// Prelude is the history a scraped target would have left in Prometheus
// before a live test starts scraping it: Span of the target's counters,
// one sample every Step up to End, under the very labels the scrape gives
// them (ScrapeLabels plus the target's own), requests Poisson and errors
// Poisson (or in bursts) among them. A watch then reads hours of history
// before --since, as it would in production, instead of a few minutes.
//
// The target's own counters start from zero after End, as after a
// restart: rate() and increase() read the drop as a counter reset, so a
// window across the seam counts the requests on both sides of it.
type Prelude struct {
	End        time.Time     // the last sample, before the target starts
	Span       time.Duration // how far back before End the samples reach
	Step       time.Duration // the scrape interval, a whole number of seconds
	Seed       uint64
	Dispersion float64 // variance over mean of the errors per step; ≤ 1: Poisson
	Targets    []Target
}

// Target is one scraped series pair of a Prelude: code="200" and
// code="500" under Labels.
type Target struct {
	Labels     map[string]string // every label but code and __name__
	Rate       float64           // requests per second
	ErrorRatio float64
}

// ScrapeLabels are the labels RunScraping's Prometheus attaches to every
// series it scrapes from target (host:port).
func ScrapeLabels(target string) map[string]string {
	return map[string]string{"job": scrapeJob, "instance": target}
}

// Validate reports a prelude that cannot be generated.
func (p *Prelude) Validate() error {
	switch {
	case len(p.Targets) == 0:
		return fmt.Errorf("prelude: no targets")
	case p.Step < time.Second || p.Step%time.Second != 0:
		return fmt.Errorf("prelude: step %s must be a whole number of seconds", p.Step)
	case p.Span < 2*p.Step:
		return fmt.Errorf("prelude: span %s holds fewer than two samples", p.Span)
	}
	for _, t := range p.Targets {
		if t.Labels["code"] != "" || t.ErrorRatio < 0 || t.ErrorRatio >= 1 || t.Rate < 0 {
			return fmt.Errorf("prelude: target %v: no code label, an error ratio in [0, 1) and a rate ≥ 0 are required", t.Labels)
		}
	}
	return nil
}

// times lists the sample times, oldest first; the newest is End.
func (p *Prelude) times() []time.Time {
	n := int(p.Span / p.Step)
	ts := make([]time.Time, n)
	for i := range ts {
		ts[i] = p.End.Add(-time.Duration(n-1-i) * p.Step)
	}
	return ts
}

// Counters draws every target's good and bad counters at each sample time,
// in Targets' order, starting at counterStart: far above anything a fresh
// target counts in a test, so its first scrape always reads as a reset.
func (p *Prelude) Counters() (times []time.Time, good, bad [][]float64) {
	rng := rand.New(rand.NewPCG(p.Seed, 0x9e1))
	times = p.times()
	for _, t := range p.Targets {
		s := sim.NewStream(rng, sim.Bursts{Dispersion: p.Dispersion})
		gs, bs := make([]float64, len(times)), make([]float64, len(times))
		g, e := float64(counterStart), float64(counterStart)
		for i := range times {
			if i > 0 {
				errs, total := s.Seconds(int(p.Step/time.Second), t.Rate, t.ErrorRatio)
				g, e = g+float64(total-errs), e+float64(errs)
			}
			gs[i], bs[i] = g, e
		}
		good, bad = append(good, gs), append(bad, bs)
	}
	return times, good, bad
}

// WriteOpenMetrics implements Backfill.
func (p *Prelude) WriteOpenMetrics(w io.Writer) error {
	if err := p.Validate(); err != nil {
		return err
	}
	times, good, bad := p.Counters()
	bw := bufio.NewWriterSize(w, 1<<20)
	fmt.Fprintf(bw, "# HELP http_requests Requests served, by status code.\n# TYPE http_requests counter\n")
	var line []byte
	for k, t := range p.Targets {
		for _, sr := range []struct {
			code string
			vals []float64
		}{{"200", good[k]}, {"500", bad[k]}} {
			prefix := Metric + labelSet(t.Labels, sr.code) + " "
			for i, ts := range times {
				line = append(line[:0], prefix...)
				line = strconv.AppendFloat(line, sr.vals[i], 'f', -1, 64)
				line = append(line, ' ')
				line = strconv.AppendFloat(line, float64(ts.UnixMilli())/1000, 'f', 3, 64)
				line = append(line, '\n')
				if _, err := bw.Write(line); err != nil {
					return err
				}
			}
		}
	}
	bw.WriteString("# EOF\n")
	return bw.Flush()
}

// labelSet writes labels and code as {k="v",…}, keys sorted.
func labelSet(labels map[string]string, code string) string {
	all := maps.Clone(labels)
	if all == nil {
		all = map[string]string{}
	}
	all["code"] = code
	parts := make([]string, 0, len(all))
	for _, k := range slices.Sorted(maps.Keys(all)) {
		parts = append(parts, fmt.Sprintf("%s=%q", k, all[k]))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// Loaded implements Backfill: at End rounded up to a whole second (queries
// take whole seconds), before any live scrape, Prometheus must count every
// sample.
func (p *Prelude) Loaded() (string, time.Time, float64) {
	at := p.End.Truncate(time.Second)
	if at.Before(p.End) {
		at = at.Add(time.Second)
	}
	q := fmt.Sprintf("sum(count_over_time(%s[%s]))", Metric, model.Duration(at.Sub(p.End)+p.Span))
	return q, at, float64(2 * len(p.Targets) * len(p.times()))
}
