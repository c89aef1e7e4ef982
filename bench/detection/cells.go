package main

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"sync"

	"github.com/sloguard/sloguard/internal/sim"
	"github.com/sloguard/sloguard/rollout/sequential"
)

const (
	window       = 600   // seconds watched
	p0           = 0.001 // the SLO's budget (99.9 %) and the healthy error ratio
	defaultShare = 0.1
	alpha        = 0.01 // max_false_rollback
)

// cell is one benchmark scenario: a canary and a baseline with traffic
// profiles, how their errors clump, how sloguard is set up, and which
// rules judge it.
type cell struct {
	section, label string
	canary, base   profile
	baseFault      float64 // the baseline's error ratio over p0 (its history is healthy)
	bursts         sim.Bursts
	interval       int
	baseline       bool          // sloguard asks the relative question too
	history        bool          // sloguard reads the baseline's history
	histIncident   *sim.Incident // an incident in that history (over by the watch)
	fault          float64
	budget         float64 // the SLO's budget; 0: p0
	rules          []rule

	healthy bool // every rollback is a false one (the 1 % target, default config)
	env     bool // environment-wide trouble (the 5 % target)
	poisson bool // Poisson errors: the 1.5× oracle target applies

	outcomes [][]outcome // per rule, all seeds' runs
}

// budgetOf is the cell's SLO budget (1 - objective).
func (c *cell) budgetOf() float64 {
	if c.budget > 0 {
		return c.budget
	}
	return p0
}

// sloguardFor is sloguard's default configuration for a cell.
func sloguardFor(c *cell) rule {
	return sloguardRule{
		cfg: sequential.Config{Alpha: alpha, Power: 0.95, Budget: c.budgetOf(), HealthyBurnRate: 1, BreachBurnRate: 3,
			Baseline: c.baseline, RelativeTolerance: 1.5, BreachRelative: 3},
		interval: c.interval, label: fmt.Sprintf("sloguard (interval %ds)", c.interval),
	}
}

// newCell is a cell at rps total with the canary's share, its error ratio
// fault × p0, and the baseline's at p0, both steady.
func newCell(section string, rps, share, fault float64, interval int, b sim.Bursts) *cell {
	c := &cell{
		section: section, canary: steady(rps*share, fault*p0), base: steady(rps*(1-share), p0), baseFault: 1,
		bursts: b, interval: interval, baseline: true, history: true, fault: fault,
		healthy: fault == 1, poisson: b.Dispersion <= 1,
	}
	c.label = fmt.Sprintf("%g rps, %g %% canary, %g×, %ds", rps, 100*share, fault, interval)
	return c
}

// withRules sets the judges: sloguard, the oracle (for a faulty canary),
// then the peers given.
func (c *cell) withRules(peers ...rule) *cell {
	c.rules = []rule{sloguardFor(c)}
	if c.fault > 1 && c.budget == 0 {
		c.rules = append(c.rules, oracleRule{p0: p0, r: c.fault, dispersion: c.bursts.Dispersion, alpha: alpha, interval: c.interval})
	}
	c.rules = append(c.rules, peers...)
	return c
}

func eventCells(pr peerRules) []*cell {
	var cells []*cell
	add := func(c *cell) { cells = append(cells, c) }
	poisson := sim.Bursts{}

	for _, rps := range []float64{200, 20} {
		for _, f := range []float64{1, 2, 5, 10} {
			add(newCell("Poisson errors", rps, defaultShare, f, 5, poisson).withRules(append([]rule{beforeRule{5}}, pr.all()...)...))
		}
	}
	for _, rps := range []float64{200, 20} {
		for _, f := range []float64{1, 2, 5, 10} {
			add(newCell("Poisson errors", rps, defaultShare, f, 30, poisson).withRules())
		}
	}

	for _, span := range []int{1, 10} {
		for _, d := range []float64{2, 5, 10} {
			for _, iv := range []int{5, 30} {
				for _, f := range []float64{1, 5} {
					c := newCell("Bursty errors", 200, defaultShare, f, iv, sim.Bursts{Dispersion: d, Span: span})
					shape := "clumps within a second"
					if span > 1 {
						shape = "hiccups of 1-10 s"
					}
					c.label = fmt.Sprintf("variance %g×, %s, %g×, %ds", d, shape, f, iv)
					add(c.withRules(append([]rule{beforeRule{iv}}, pr.tuned()...)...))
				}
			}
		}
	}

	envWide := func(share float64, iv int, b sim.Bursts) {
		c := newCell("Incidents", 200, share, 8, iv, b)
		c.base, c.baseFault = steady(200*(1-share), 8*p0), 8
		c.label = fmt.Sprintf("both tracks 8× (environment-wide), %g %% canary, %ds", 100*share, iv)
		if b.Dispersion > 1 {
			c.label += fmt.Sprintf(", variance %g×", b.Dispersion)
		}
		c.healthy, c.env, c.fault = false, true, 0
		add(c.withRules(append([]rule{beforeRule{iv}}, pr.tuned()...)...))
	}
	envWide(0.1, 5, poisson)
	envWide(0.1, 30, poisson)
	envWide(0.5, 30, poisson)
	envWide(0.01, 30, poisson)
	envWide(0.1, 30, sim.Bursts{Dispersion: 5, Span: 10})
	for _, iv := range []int{5, 30} {
		c := newCell("Incidents", 200, defaultShare, 1, iv, poisson)
		c.canary, c.base = spike(c.canary, 120, 30, 20), spike(c.base, 120, 30, 20)
		c.label, c.healthy, c.env = fmt.Sprintf("30 s spike of 20× on both tracks, %ds", iv), false, true
		add(c.withRules(append([]rule{beforeRule{iv}}, pr.tuned()...)...))
	}
	for _, iv := range []int{5, 30} {
		c := newCell("Incidents", 200, defaultShare, 1, iv, poisson)
		c.canary = spike(c.canary, 120, 30, 20)
		c.label, c.healthy, c.fault = fmt.Sprintf("30 s spike of 20× on the canary only, %ds", iv), false, 0
		add(c.withRules(pr.tuned()...))
	}

	for _, share := range []float64{0.01, 0.5} {
		for _, iv := range []int{5, 30} {
			for _, f := range []float64{1, 5} {
				add(newCell("Traffic shapes", 200, share, f, iv, poisson).withRules(pr.tuned()...))
			}
		}
	}
	for _, f := range []float64{1, 5} {
		c := newCell("Traffic shapes", 200, 0.5, f, 30, poisson)
		c.canary = ramp(c.canary, window, 0.1, 0.2, 0.4, 0.7, 1)
		c.label = fmt.Sprintf("canary weight ramped 5→50 %% in 5 steps, %g×, 30s", f)
		add(c.withRules(pr.tuned()...))
		c = newCell("Traffic shapes", 200, defaultShare, f, 30, poisson)
		c.canary, c.base = ramp(c.canary, window, 1, 1.5, 2, 2.5, 3), ramp(c.base, window, 1, 1.5, 2, 2.5, 3)
		c.label = fmt.Sprintf("both tracks' traffic ramped 1→3× (200→600 rps), %g×, 30s", f)
		add(c.withRules(pr.tuned()...))
	}

	for _, x := range []struct {
		rps, f float64
		iv     int
		b      sim.Bursts
	}{{200, 1, 5, poisson}, {200, 5, 5, poisson}, {20, 1, 5, poisson}, {20, 5, 5, poisson}, {200, 1, 5, sim.Bursts{Dispersion: 10}}, {200, 1, 30, sim.Bursts{Dispersion: 10, Span: 10}}} {
		c := newCell("Without a baseline (absolute question only)", x.rps, defaultShare, x.f, x.iv, x.b)
		c.baseline = false
		if x.b.Dispersion > 1 {
			c.label = fmt.Sprintf("%g rps, variance %g×, %g×, %ds", x.rps, x.b.Dispersion, x.f, x.iv)
		}
		c.healthy = false // not the default config: reported apart
		add(c.withRules())
	}
	for _, x := range []struct {
		f      float64
		iv     int
		b      sim.Bursts
		noBase bool
	}{{1, 5, poisson, false}, {5, 5, poisson, false}, {1, 5, sim.Bursts{Dispersion: 10}, false}, {1, 30, sim.Bursts{Dispersion: 5, Span: 10}, false},
		{1, 30, sim.Bursts{Dispersion: 10, Span: 10}, false}, {1, 5, poisson, true}, {5, 5, poisson, true}, {1, 5, sim.Bursts{Dispersion: 10}, true}} {
		c := newCell("Without history (dispersion 10 assumed until the watch's own intervals show theirs)", 200, defaultShare, x.f, x.iv, x.b)
		c.history, c.healthy = false, false
		if x.b.Dispersion > 1 {
			c.label = fmt.Sprintf("200 rps, variance %g×, %g×, %ds", x.b.Dispersion, x.f, x.iv)
		}
		if x.noBase {
			c.baseline = false
			c.label += ", no baseline"
		}
		add(c.withRules())
	}
	cells = append(cells, incidentCells()...)
	return append(cells, offsetCells()...)
}

// simulate draws every cell's runs for every seed, on p.workers
// goroutines, and judges them by the cell's rules.
func simulate(p params, cells []*cell) {
	type job struct {
		c    *cell
		seed uint64
		out  [][]outcome
	}
	var jobs []*job
	for _, c := range cells {
		for _, s := range p.seeds {
			jobs = append(jobs, &job{c: c, seed: s})
		}
	}
	next := make(chan *job)
	var wg sync.WaitGroup
	for range max(p.workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				rng := rand.New(rand.NewPCG(j.seed, stream(j.c.section+j.c.label)))
				j.out = make([][]outcome, len(j.c.rules))
				for range p.runs {
					r := draw(rng, j.c, window)
					for i, ru := range j.c.rules {
						j.out[i] = append(j.out[i], ru.judge(r))
					}
				}
			}
		}()
	}
	for _, j := range jobs {
		next <- j
	}
	close(next)
	wg.Wait()
	for _, j := range jobs {
		if j.c.outcomes == nil {
			j.c.outcomes = make([][]outcome, len(j.c.rules))
		}
		for i := range j.out {
			j.c.outcomes[i] = append(j.c.outcomes[i], j.out[i]...)
		}
	}
}

// stream names a cell's random stream by its label, so that adding a cell
// does not change the others' runs.
func stream(label string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(label))
	return h.Sum64()
}
