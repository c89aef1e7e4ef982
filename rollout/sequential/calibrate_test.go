package sequential

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// crossingProbability estimates P(sup M ≥ e^logc) for the absolute mixture
// under the null, monitored continuously in operational time Λ (the healthy
// errors expected so far, whatever the traffic), for each boundary of
// logcs (ascending). Importance sampling: paths are drawn under the
// mixture of alternatives, where the mixture reaches any boundary almost
// surely, and a crossing at τ weighs 1/M_τ (the likelihood ratio back to
// the null). Looking only at interval ends can only cross less often.
func crossingProbability(m bursts, logcs []float64, paths int, rng *rand.Rand) []float64 {
	var theta, phi, lw, cum [len(alternatives)]float64
	total := 0.0
	for i, a := range alternatives {
		theta[i], lw[i] = m.tilt(a.mult), math.Log(a.weight)
		phi[i] = m.phi(theta[i])
		total += a.weight
		cum[i] = total
	}
	out := make([]float64, len(logcs))
	var terms [len(alternatives)]float64
	for range paths {
		// Under alternative j the bursts arrive at rate M(θ)/E[S] per unit
		// of Λ and their sizes are geometric with continuation (1-q)·e^θ.
		j, _ := slices.BinarySearch(cum[:], rng.Float64()*total)
		j = min(j, len(alternatives)-1)
		rate := m.q * m.mgf(theta[j])
		cont := (1 - m.q) * math.Exp(theta[j])
		lam, c, k := 0.0, 0.0, 0
		for k < len(logcs) && lam < 1e5 {
			lam += rng.ExpFloat64() / rate
			c++
			if cont > 0 {
				c += math.Floor(math.Log(1-rng.Float64()) / math.Log(cont))
			}
			for i := range terms {
				terms[i] = lw[i] + theta[i]*c - phi[i]*lam
			}
			lm := logSumExp(terms[:])
			for k < len(logcs) && lm >= logcs[k] {
				out[k] += math.Exp(-lm)
				k++
			}
		}
	}
	for k := range out {
		out[k] /= float64(paths)
	}
	return out
}

// TestOvershootKeepsTheAbsoluteQuestionWithinAlpha is the calibration of
// the absolute question's boundary κ/α: for Poisson errors and for bursts
// of any dispersion, the chance that the evidence ever reaches κ/α under
// the null is at most α, even looked at continuously.
func TestOvershootKeepsTheAbsoluteQuestionWithinAlpha(t *testing.T) {
	rng := rand.New(rand.NewPCG(2026, 9))
	for _, alpha := range []float64{0.008, 0.001} {
		for _, d := range []float64{1, 1.05, 1.2, 2, 5, 10, 30} {
			p := crossingProbability(newBursts(d), []float64{math.Log(overshoot / alpha)}, 40000, rng)[0]
			if p > alpha {
				t.Errorf("α %g, dispersion %g: crosses κ/α with probability %.5f, above α", alpha, d, p)
			}
			t.Logf("α %g, dispersion %g: P(cross κ/α) = %.3g α", alpha, d, p/alpha)
		}
	}
}

// TestCrossingProbabilityAgreesWithPlainSimulation checks the importance
// sampler against paths drawn under the null itself, at a boundary low
// enough (20) to be crossed often.
func TestCrossingProbabilityAgreesWithPlainSimulation(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, d := range []float64{1, 5} {
		m := newBursts(d)
		is := crossingProbability(m, []float64{math.Log(20)}, 40000, rng)[0]
		hits, n := 0, 60000
		var terms, theta, phi [len(alternatives)]float64
		for i, a := range alternatives {
			theta[i] = m.tilt(a.mult)
			phi[i] = m.phi(theta[i])
		}
		for range n {
			lam, c := 0.0, 0.0
			for lam < 500 {
				lam += rng.ExpFloat64() / m.q // bursts per healthy error: q
				c++
				if m.q < 1 {
					c += math.Floor(math.Log(1-rng.Float64()) / math.Log(1-m.q))
				}
				for i, a := range alternatives {
					terms[i] = math.Log(a.weight) + theta[i]*c - phi[i]*lam
				}
				lm := logSumExp(terms[:])
				if lm >= math.Log(20) {
					hits++
					break
				}
				if lm < -25 { // e^-25: this path will not come back
					break
				}
			}
		}
		plain := float64(hits) / float64(n)
		se := math.Sqrt(plain * (1 - plain) / float64(n))
		if math.Abs(is-plain) > 4*se {
			t.Errorf("dispersion %g: importance sampling %.4f, plain simulation %.4f ± %.4f", d, is, plain, se)
		}
	}
}
