package sequential

import (
	"math"
	"testing"
)

// TestBurstTiltsAreMartingales checks the model's algebra: the tilted
// count has expectation one under the null (summed over the geometric
// compound Poisson distribution), the tilt for r has mean r times the
// null's, and split's ψ makes the per-burst factor average to one.
func TestBurstTiltsAreMartingales(t *testing.T) {
	for _, d := range []float64{1, 1.5, 2, 5, 10, 30} {
		b := newBursts(d)
		if got := b.dispersion(); math.Abs(got-d) > 1e-9 {
			t.Errorf("D=%g: dispersion %g", d, got)
		}
		for _, r := range []float64{1.0 / 3, 0.5, 2, 3, 5, 10, 25} {
			th := b.tilt(r)
			if (r > 1) != (th > 0) {
				t.Errorf("D=%g r=%g: tilt %g has the wrong sign", d, r, th)
			}
			// φ'(θ) = r, numerically.
			h := 1e-6
			if got := (b.phi(th+h) - b.phi(th-h)) / (2 * h); math.Abs(got-r) > 1e-4*r {
				t.Errorf("D=%g r=%g: φ'(θ) = %g", d, r, got)
			}
			// E[exp(θS)] per burst equals M(θ): sum the geometric pmf.
			sum, q := 0.0, b.q
			for s := 1; s < 20000; s++ {
				sum += q * math.Pow(1-q, float64(s-1)) * math.Exp(th*float64(s))
			}
			if m := b.mgf(th); math.Abs(sum-m) > 1e-6*m {
				t.Errorf("D=%g r=%g: M(θ) %g, summed %g", d, r, m, sum)
			}
			for _, pi := range []float64{0.001, 0.1, 0.5, 0.9} {
				psi := b.split(th, pi)
				if f := pi*b.mgf(th-psi) + (1-pi)*b.mgf(-psi); math.Abs(f-1) > 1e-9 {
					t.Errorf("D=%g r=%g π=%g: per-burst factor averages %g, want 1", d, r, pi, f)
				}
			}
		}
	}
}
