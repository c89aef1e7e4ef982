package promtest

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/prometheus/common/model"

	"github.com/sloguard/sloguard/internal/sim"
)

// Instance is one process of a Bursty service, with its labels.
type Instance struct {
	Name, Zone string
	Rate       float64 // requests per second
}

// Fault multiplies an instance's error ratio from From to To before End
// (From > To): the planted bad release.
type Fault struct {
	Instance string
	From, To time.Duration
	Factor   float64
}

// Bursty is a service's request counters, one pair per instance, as a
// scrape every Step would have stored them, with errors that come in clumps
// the way retries, a dependency's hiccup or a noisy client make them: per
// instance and scrape, Poisson requests, and errors as a compound Poisson
// count (Poisson bursts of geometric size, capped at the requests) whose
// variance is Dispersion × its mean. Labels: service, instance, zone, code.
type Bursty struct {
	Service    string
	End        time.Time // a whole minute
	Span       time.Duration
	Step       time.Duration // the scrape interval, a whole number of seconds
	Seed       uint64
	Instances  []Instance
	ErrorRatio float64 // the mean share of requests that fail
	Dispersion float64 // variance / mean of the errors per scrape; 1 is Poisson
	Faults     []Fault
}

// Validate reports a history that cannot be generated.
func (b *Bursty) Validate() error {
	switch {
	case b.Service == "" || len(b.Instances) == 0:
		return fmt.Errorf("bursty: a service name and instances are required")
	case b.Step < time.Second || b.Step%time.Second != 0:
		return fmt.Errorf("bursty: step %s must be a whole number of seconds", b.Step)
	case b.Span < 2*b.Step:
		return fmt.Errorf("bursty: span %s holds fewer than two samples", b.Span)
	case !b.End.Equal(b.End.Truncate(time.Minute)):
		return fmt.Errorf("bursty: end %s must be a whole minute", b.End)
	case b.Dispersion < 1 || b.ErrorRatio < 0 || b.ErrorRatio >= 1:
		return fmt.Errorf("bursty: dispersion %v must be at least 1 and the error ratio %v in [0, 1)", b.Dispersion, b.ErrorRatio)
	}
	return nil
}

// burstyPhase keeps every sample half a second off the whole seconds a
// watch evaluates at, besides phase's 17 s off the minute.
const burstyPhase = phase + 500*time.Millisecond

// times lists the scrape times, oldest first.
func (b *Bursty) times() []time.Time {
	n := int((b.Span-burstyPhase)/b.Step) + 1
	ts := make([]time.Time, n)
	for i := range ts {
		ts[i] = b.End.Add(-burstyPhase - time.Duration(n-1-i)*b.Step)
	}
	return ts
}

// ratio is an instance's error ratio in the scrape interval ending ago
// before End.
func (b *Bursty) ratio(instance string, ago time.Duration) float64 {
	r := b.ErrorRatio
	for _, f := range b.Faults {
		if f.Instance == instance && ago <= f.From && ago > f.To {
			r *= f.Factor
		}
	}
	return math.Min(r, 1)
}

// counters draws every instance's good and bad counters at each scrape
// time, in Instances' order. The same seed draws the same history.
func (b *Bursty) counters() (times []time.Time, good, bad [][]float64) {
	rng := rand.New(rand.NewPCG(b.Seed, 0x5eed))
	// Bursts are geometric on 1, 2, …, with mean m: a compound Poisson
	// count has variance/mean = E[S²]/E[S] = 2m - 1 = Dispersion.
	m := (b.Dispersion + 1) / 2
	burst := func() int {
		if m <= 1 {
			return 1
		}
		return 1 + int(math.Floor(math.Log(1-rng.Float64())/math.Log(1-1/m)))
	}
	times = b.times()
	for _, in := range b.Instances {
		gs, bs := make([]float64, len(times)), make([]float64, len(times))
		g, e := float64(counterStart), float64(counterStart)
		for i, t := range times {
			if i > 0 {
				n := sim.Poisson(rng, in.Rate*b.Step.Seconds())
				errs := 0
				for k := sim.Poisson(rng, float64(n)*b.ratio(in.Name, b.End.Sub(t))/m); k > 0 && errs < n; k-- {
					errs += burst()
				}
				errs = min(errs, n)
				g, e = g+float64(n-errs), e+float64(errs)
			}
			gs[i], bs[i] = g, e
		}
		good, bad = append(good, gs), append(bad, bs)
	}
	return times, good, bad
}

// WriteOpenMetrics implements Backfill.
func (b *Bursty) WriteOpenMetrics(w io.Writer) error {
	if err := b.Validate(); err != nil {
		return err
	}
	times, good, bad := b.counters()
	bw := bufio.NewWriterSize(w, 1<<20)
	fmt.Fprintf(bw, "# HELP http_requests Requests served, by instance and status code.\n# TYPE http_requests counter\n")
	var line []byte
	for k, in := range b.Instances {
		for _, sr := range []struct {
			code string
			vals []float64
		}{{"200", good[k]}, {"500", bad[k]}} {
			prefix := fmt.Sprintf("%s{service=%q,instance=%q,zone=%q,code=%q} ", Metric, b.Service, in.Name, in.Zone, sr.code)
			for i, t := range times {
				line = append(line[:0], prefix...)
				line = strconv.AppendFloat(line, sr.vals[i], 'f', -1, 64)
				line = append(line, ' ')
				line = strconv.AppendFloat(line, float64(t.UnixMilli())/1000, 'f', 3, 64)
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

// Loaded implements Backfill: Prometheus must count every sample at End.
func (b *Bursty) Loaded() (string, time.Time, float64) {
	q := fmt.Sprintf("sum(count_over_time(%s{service=%q}[%s]))", Metric, b.Service, model.Duration(b.Span))
	return q, b.End, float64(2 * len(b.Instances) * len(b.times()))
}
