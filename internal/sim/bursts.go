package sim

import (
	"math"
	"math/rand/v2"
)

// Bursts make errors arrive in clumps, as retries, a dependency's hiccup or
// a noisy client produce them: bursts arrive as a Poisson process and each
// holds a geometric number of errors (after each error another follows
// with probability 1-q), so the variance of an error count is Dispersion
// times its mean, at any aggregation. With Span > 1 a burst's errors are
// spread uniformly over 1 to Span seconds from its start, straddling
// interval boundaries as a 2-10 s dependency hiccup does.
type Bursts struct {
	Dispersion float64 // variance over mean of error counts; ≤ 1: Poisson
	Span       int     // a burst lasts up to this many seconds (≤ 1: within one second)
}

// meanSize is the mean burst size for the dispersion: D = 2·E[S] - 1.
func (b Bursts) meanSize() float64 {
	if b.Dispersion <= 1 {
		return 1
	}
	return (b.Dispersion + 1) / 2
}

// size draws a burst's size.
func (b Bursts) size(rng *rand.Rand) int {
	s := b.meanSize()
	if s <= 1 {
		return 1
	}
	// Geometric on {1, 2, ...} with success probability 1/s.
	return 1 + int(math.Floor(math.Log(1-rng.Float64())/math.Log(1-1/s)))
}

// Stream draws a track's traffic second by second, carrying the errors of
// bursts that spill into the seconds ahead.
type Stream struct {
	Bursts Bursts
	rng    *rand.Rand
	ahead  []int // errors already due in the coming seconds; ahead[0] is the next
}

// NewStream starts a stream of the given burst shape.
func NewStream(rng *rand.Rand, b Bursts) *Stream {
	return &Stream{Bursts: b, rng: rng}
}

// Second draws one second at rps with an error ratio: bad and total
// requests (bad ones are requests too).
func (s *Stream) Second(rps, errorRatio float64) (bad, total int) {
	return s.Seconds(1, rps, errorRatio)
}

// Seconds draws n seconds at once (the same counts as n calls of Second,
// in distribution, for less work): bad and total requests.
func (s *Stream) Seconds(n int, rps, errorRatio float64) (bad, total int) {
	secs := float64(n)
	good := Poisson(s.rng, secs*rps*(1-errorRatio))
	mean := secs * rps * errorRatio
	// errors of earlier bursts due in these seconds
	due := min(n, len(s.ahead))
	for _, v := range s.ahead[:due] {
		bad += v
	}
	s.ahead = s.ahead[due:]
	if s.Bursts.Dispersion <= 1 && s.Bursts.Span <= 1 {
		bad += Poisson(s.rng, mean)
		return bad, bad + good
	}
	for range Poisson(s.rng, mean/s.Bursts.meanSize()) {
		size := s.Bursts.size(s.rng)
		if s.Bursts.Span <= 1 {
			bad += size
			continue
		}
		start, span := s.rng.IntN(n), 1+s.rng.IntN(s.Bursts.Span)
		for range size {
			if k := start + s.rng.IntN(span); k < n {
				bad++
			} else {
				for len(s.ahead) <= k-n {
					s.ahead = append(s.ahead, 0)
				}
				s.ahead[k-n]++
			}
		}
	}
	return bad, bad + good
}

// History draws slices of step seconds of a steady track, for the hour
// before a watch: bad and total per slice.
func (s *Stream) History(rps, errorRatio float64, slices, step int) (bad, total []float64) {
	bad, total = make([]float64, slices), make([]float64, slices)
	secs := float64(slices * step)
	n := Poisson(s.rng, rps*errorRatio*secs/s.Bursts.meanSize())
	for range n {
		start := s.rng.Float64() * secs
		size := s.Bursts.size(s.rng)
		span := 1.0
		if s.Bursts.Span > 1 {
			span = float64(1 + s.rng.IntN(s.Bursts.Span))
		}
		for range size {
			t := start + s.rng.Float64()*span
			if i := int(t) / step; i < slices {
				bad[i]++
			}
		}
	}
	for i := range total {
		total[i] = bad[i] + float64(Poisson(s.rng, rps*(1-errorRatio)*float64(step)))
	}
	return bad, total
}

// Incident is a stretch of history when a track's error ratio was raised
// (an incident elsewhere, a dependency down): Length seconds from From
// seconds into the history, at Ratio.
type Incident struct {
	From, Length int
	Ratio        float64
}

// AddIncident adds to a history's errors per slice of step seconds (from
// History) the extra errors of an incident at rps, over the history's own
// ratio, in bursts of the stream's shape. Errors replace successes: the
// totals do not change.
func (s *Stream) AddIncident(bad []float64, step int, rps, ratio float64, inc Incident) {
	extra, _ := s.History(rps, inc.Ratio-ratio, inc.Length, 1)
	for sec, v := range extra {
		if i := (inc.From + sec) / step; i >= 0 && i < len(bad) {
			bad[i] += v
		}
	}
}
