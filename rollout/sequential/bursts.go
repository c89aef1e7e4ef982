package sequential

import "math"

// bursts is the null model of how errors arrive: bursts (a retry chain, a
// dependency's hiccup, a noisy client) arrive as a Poisson process, and a
// burst holds S errors with S geometric on {1, 2, ...}: after each error
// another follows with probability 1-q. Its dispersion (variance over mean
// of an error count, at any aggregation) is D = (2-q)/q, so q = 2/(D+1);
// D = 1 (q = 1) is plain Poisson, one error per burst.
//
// For a count C with mean m, exp(θC - m·φ(θ)) has expectation exactly 1,
// which is what makes the tests below test martingales:
//
//	φ(θ) = (M(θ) - 1)/E[S],  M(θ) = E[e^{θS}] = q·e^θ / (1 - (1-q)·e^θ).
type bursts struct{ q float64 }

// newBursts returns the model of dispersion d (at least 1).
func newBursts(d float64) bursts {
	if !(d > 1) {
		return bursts{q: 1}
	}
	return bursts{q: 2 / (d + 1)}
}

// dispersion is D, variance over mean.
func (b bursts) dispersion() float64 { return (2 - b.q) / b.q }

// mgf is M(θ), +Inf where it diverges.
func (b bursts) mgf(theta float64) float64 {
	u := math.Exp(theta)
	den := 1 - (1-b.q)*u
	if den <= 0 {
		return math.Inf(1)
	}
	return b.q * u / den
}

// phi is the cumulant per expected error: log E[e^{θC}] = m·φ(θ).
func (b bursts) phi(theta float64) float64 {
	return b.q * (b.mgf(theta) - 1)
}

// tilt is the θ whose tilted model has r times the mean, the growth-optimal
// bet against "r times the healthy rate, bursts alike": φ'(θ) = r. For
// r > 1 it is positive, for r < 1 negative.
func (b bursts) tilt(r float64) float64 {
	a := 1 - b.q
	if a < 1e-12 {
		return math.Log(r)
	}
	// φ'(θ) = q²u / (1 - a·u)² = r with u = e^θ: the smaller root of
	// r·a²·u² - (2ra + q²)·u + r = 0 keeps a·u < 1.
	bb := 2*r*a + b.q*b.q
	disc := bb*bb - 4*r*r*a*a
	u := (bb - math.Sqrt(disc)) / (2 * r * a * a)
	// The cancellation above loses digits when u is small; the product of
	// the roots is 1/a², so recompute from the larger root.
	if big := (bb + math.Sqrt(disc)) / (2 * r * a * a); big > 0 {
		u = 1 / (a * a * big)
	}
	return math.Log(u)
}

// growth is the expected log growth per expected healthy error of the bet
// tilted for r, when the truth is r times the healthy rate.
func (b bursts) growth(r float64) float64 {
	th := b.tilt(r)
	return th*r - b.phi(th)
}

// split is ψ such that a burst that lands on the canary with probability
// pi, its errors counted as exp(θ·canary - ψ·all), has expectation 1:
// pi·M(θ-ψ) + (1-pi)·M(-ψ) = 1. Without bursts (q = 1) that is the
// binomial likelihood ratio's ψ = log(1 - pi + pi·e^θ).
func (b bursts) split(theta, pi float64) float64 {
	poisson := math.Log1p(pi * math.Expm1(theta))
	if b.q >= 1-1e-12 {
		return poisson
	}
	a := 1 - b.q
	// f(ψ) = pi·M(θ-ψ) + (1-pi)·M(-ψ) - 1 decreases in ψ, from f > 0 at
	// min(0, θ) to f < 0 at max(0, θ). Newton's method from the Poisson
	// root, kept inside the bracket, bisecting when a step leaves it.
	lo, hi := math.Min(0, theta), math.Max(0, theta)
	psi := math.Min(math.Max(poisson, lo), hi)
	for range 60 {
		u1, u2 := math.Exp(theta-psi), math.Exp(-psi)
		d1, d2 := 1-a*u1, 1-a*u2
		if d1 <= 0 || d2 <= 0 { // beyond the pole: ψ is too small
			lo = psi
			psi = (lo + hi) / 2
			continue
		}
		f := pi*b.q*u1/d1 + (1-pi)*b.q*u2/d2 - 1
		if f > 0 {
			lo = psi
		} else {
			hi = psi
		}
		if math.Abs(f) < 1e-13 || hi-lo < 1e-13 {
			break
		}
		df := -(pi*b.q*u1/(d1*d1) + (1-pi)*b.q*u2/(d2*d2))
		next := psi - f/df
		if !(next > lo && next < hi) {
			next = (lo + hi) / 2
		}
		psi = next
	}
	return psi
}

// Tilt returns θ and φ(θ) of the exponential tilt for r times the healthy
// rate, under bursts of dispersion d: exp(θ·C - φ·m) is the likelihood
// ratio a one-sided test that knows r and d would use (the detection
// benchmark's oracle).
func Tilt(d, r float64) (theta, phi float64) {
	b := newBursts(d)
	theta = b.tilt(r)
	return theta, b.phi(theta)
}
