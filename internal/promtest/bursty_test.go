package promtest

import (
	"bytes"
	"math"
	"testing"
	"time"
)

func twoDays(dispersion float64, faults ...Fault) *Bursty {
	return &Bursty{
		Service: "shop", End: end, Span: 2 * Day, Step: 30 * time.Second, Seed: 7,
		Instances:  []Instance{{Name: "web-0", Zone: "a", Rate: 50}, {Name: "web-1", Zone: "b", Rate: 25}},
		ErrorRatio: 0.01, Dispersion: dispersion, Faults: faults,
	}
}

// perScrape is one instance's errors and requests in each scrape interval.
func perScrape(b *Bursty, instance int) (errs, reqs []float64) {
	_, good, bad := b.counters()
	g, e := good[instance], bad[instance]
	for i := 1; i < len(g); i++ {
		errs = append(errs, e[i]-e[i-1])
		reqs = append(reqs, e[i]-e[i-1]+g[i]-g[i-1])
	}
	return errs, reqs
}

func meanVar(xs []float64) (mean, variance float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		variance += (x - mean) * (x - mean)
	}
	return mean, variance / float64(len(xs)-1)
}

func TestBurstyErrorsHaveTheRatioAndDispersionAsked(t *testing.T) {
	for _, d := range []float64{1, 5, 10} {
		errs, reqs := perScrape(twoDays(d), 0)
		mean, variance := meanVar(errs)
		reqMean, _ := meanVar(reqs)
		if math.Abs(reqMean-1500)/1500 > 0.01 {
			t.Errorf("dispersion %v: %.1f requests per 30 s scrape, want 1500 (50 rps)", d, reqMean)
		}
		if ratio := mean / reqMean; math.Abs(ratio-0.01)/0.01 > 0.05 {
			t.Errorf("dispersion %v: error ratio %.4f, want 0.01", d, ratio)
		}
		// The requests' own Poisson noise adds little (their ratio is 1 %).
		if got := variance / mean; math.Abs(got-d)/d > 0.15 {
			t.Errorf("dispersion %v: errors per scrape have variance/mean %.2f", d, got)
		}
	}
}

func TestBurstyFaultMultipliesOneInstancesErrors(t *testing.T) {
	b := twoDays(5, Fault{Instance: "web-0", From: 3 * time.Hour, To: 2 * time.Hour, Factor: 10})
	times, _, _ := b.counters()
	for k, factor := range []float64{10, 1} { // web-0 faulty, web-1 not
		errs, reqs := perScrape(b, k)
		var in, out [2]float64 // errors, requests
		for i := range errs {
			ago := b.End.Sub(times[i+1])
			if ago <= 3*time.Hour && ago > 2*time.Hour {
				in[0], in[1] = in[0]+errs[i], in[1]+reqs[i]
			} else {
				out[0], out[1] = out[0]+errs[i], out[1]+reqs[i]
			}
		}
		if got := (in[0] / in[1]) / (out[0] / out[1]); math.Abs(got-factor)/factor > 0.2 {
			t.Errorf("instance %d: error ratio in the fault hour is %.1f× the rest, want %v×", k, got, factor)
		}
	}
}

func TestBurstyIsSeededAndOffTheWholeSeconds(t *testing.T) {
	var a, b, c bytes.Buffer
	if err := twoDays(5).WriteOpenMetrics(&a); err != nil {
		t.Fatal(err)
	}
	_ = twoDays(5).WriteOpenMetrics(&b)
	other := twoDays(5)
	other.Seed = 8
	_ = other.WriteOpenMetrics(&c)
	if !bytes.Equal(a.Bytes(), b.Bytes()) || bytes.Equal(a.Bytes(), c.Bytes()) {
		t.Error("the same seed must write the same history, another seed another one")
	}
	for _, ts := range twoDays(1).times() {
		if ts.Nanosecond() != 500*int(time.Millisecond) || ts.Before(end.Add(-2*Day)) || !ts.Before(end) {
			t.Fatalf("sample at %s: want half a second off the whole seconds, inside the span", ts)
		}
	}
	bad := twoDays(0.5)
	if err := bad.WriteOpenMetrics(&c); err == nil {
		t.Error("dispersion under 1 was accepted")
	}
}
