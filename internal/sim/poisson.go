// Package sim simulates request traffic: seeded per-second Poisson arrivals
// of good and bad requests, for the detection benchmark and the demo.
package sim

import (
	"math"
	"math/rand/v2"
)

// Poisson draws from a Poisson distribution with mean lambda: Knuth's
// product method for small means, Hörmann's PTRS rejection (valid from 10
// on) for large ones.
func Poisson(rng *rand.Rand, lambda float64) int {
	switch {
	case lambda <= 0:
		return 0
	case lambda < 10:
		l, k, p := math.Exp(-lambda), 0, 1.0
		for {
			p *= rng.Float64()
			if p <= l {
				return k
			}
			k++
		}
	}
	return ptrs(rng, lambda)
}

// ptrs is "The transformed rejection method for generating Poisson random
// variables", W. Hörmann, Insurance: Mathematics and Economics 12 (1993).
func ptrs(rng *rand.Rand, lambda float64) int {
	slam := math.Sqrt(lambda)
	loglam := math.Log(lambda)
	b := 0.931 + 2.53*slam
	a := -0.059 + 0.02483*b
	invalpha := 1.1239 + 1.1328/(b-3.4)
	vr := 0.9277 - 3.6224/(b-2)
	for {
		u := rng.Float64() - 0.5
		v := rng.Float64()
		us := 0.5 - math.Abs(u)
		k := math.Floor((2*a/us+b)*u + lambda + 0.43)
		if us >= 0.07 && v <= vr {
			return int(k)
		}
		if k < 0 || (us < 0.013 && v > us) {
			continue
		}
		lg, _ := math.Lgamma(k + 1)
		if math.Log(v)+math.Log(invalpha)-math.Log(a/(us*us)+b) <= -lambda+k*loglam-lg {
			return int(k)
		}
	}
}

// Track is one deployment track's traffic: requests per second and the
// probability that a request fails.
type Track struct {
	RPS        float64
	ErrorRatio float64
}

// Second draws one second of traffic: bad and total requests. Good and bad
// arrivals are independent Poisson streams, which is exactly a Poisson
// stream of requests each failing with probability ErrorRatio.
func (t Track) Second(rng *rand.Rand) (bad, total int) {
	bad = Poisson(rng, t.RPS*t.ErrorRatio)
	good := Poisson(rng, t.RPS*(1-t.ErrorRatio))
	return bad, bad + good
}
