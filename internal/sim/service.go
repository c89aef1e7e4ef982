package sim

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/sloguard/sloguard/providers"
)

// Phase is a stretch of a track's life with one traffic profile.
type Phase struct {
	From  time.Duration // offset from the service's start; negative is history
	Track Track
}

// Service simulates a service behind the provider interface: a stable
// track with history, and canary and baseline tracks that run live,
// second by second, from Start. Every SLO reads the same traffic, with its
// own share of bad requests (so availability and latency can differ).
type Service struct {
	Start time.Time
	// Service-wide history before Start: phases sorted by From, the first
	// reaching back far enough for the longest window asked.
	History []Phase
	// Canary and Baseline phases from Start on.
	Canary, Baseline []Phase
	// BadShare scales each SLO's bad requests (1 when absent).
	BadShare map[string]float64

	mu   sync.Mutex
	rng  *rand.Rand
	live map[string]*series // per scope: per-second bad and total since Start
}

type series struct{ bad, total []float64 }

// NewService seeds the live traffic.
func NewService(start time.Time, seed uint64) *Service {
	return &Service{Start: start, rng: rand.New(rand.NewPCG(seed, seed^0x5eed)), live: map[string]*series{}}
}

// Counts implements providers.Provider.
func (s *Service) Counts(_ context.Context, q providers.Query, at time.Time) (providers.Counts, error) {
	from := at.Add(-q.Window)
	share := 1.0
	if v, ok := s.BadShare[q.SLO]; ok {
		share = v
	}
	var bad, total float64
	switch q.Scope.Name {
	case providers.ScopeCanary, providers.ScopeBaseline:
		bad, total = s.liveCounts(q.Scope.Name, from, at)
	default:
		bad, total = expected(s.History, from.Sub(s.Start), at.Sub(s.Start))
		lb, lt := s.liveCounts(providers.ScopeBaseline, from, at)
		cb, ct := s.liveCounts(providers.ScopeCanary, from, at)
		bad, total = bad+lb+cb, total+lt+ct
	}
	bad *= share
	c := providers.Counts{Start: from, End: at, Total: total, Good: total - bad, Resolved: []string{"simulated " + q.Scope.Name + " traffic"}}
	if total == 0 {
		return c, &providers.QueryError{Provider: "simulated", Query: c.Resolved[0], Err: providers.ErrNoData}
	}
	return c, nil
}

// Slices implements providers.Provider for history only.
func (s *Service) Slices(_ context.Context, q providers.Query, r providers.Range) ([]providers.Counts, error) {
	var out []providers.Counts
	for end := r.Start.Add(r.Step); !end.After(r.End); end = end.Add(r.Step) {
		bad, total := expected(s.History, end.Add(-r.Step).Sub(s.Start), end.Sub(s.Start))
		out = append(out, providers.Counts{Start: end.Add(-r.Step), End: end, Total: total, Good: total - bad})
	}
	return out, nil
}

// expected integrates the history's rates over [from, to) (offsets from
// Start), clipped at Start: the mean counts, smooth enough for 30 days.
func expected(phases []Phase, from, to time.Duration) (bad, total float64) {
	to = min(to, 0)
	for i, p := range phases {
		end := time.Duration(0)
		if i+1 < len(phases) {
			end = phases[i+1].From
		}
		lo, hi := max(from, p.From), min(to, end)
		if hi <= lo {
			continue
		}
		n := p.Track.RPS * (hi - lo).Seconds()
		total += n
		bad += n * p.Track.ErrorRatio
	}
	return bad, total
}

// liveCounts draws the scope's traffic second by second up to `to` and
// sums (from, to]. The tracks share one seeded generator, so they are
// drawn in one order whichever the watch reads first (it reads them
// concurrently): the baseline, then the canary, each up to `to`. A seed
// tells one story.
func (s *Service) liveCounts(scope string, from, to time.Time) (bad, total float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	upTo := int(to.Sub(s.Start) / time.Second)
	for _, sc := range []string{providers.ScopeBaseline, providers.ScopeCanary} {
		if sc == scope || len(s.phases(sc)) > 0 {
			s.draw(sc, upTo)
		}
	}
	sr := s.live[scope]
	lo := max(int(from.Sub(s.Start)/time.Second), 0)
	for i := lo; i < upTo && i < len(sr.total); i++ {
		bad += sr.bad[i]
		total += sr.total[i]
	}
	return bad, total
}

func (s *Service) phases(scope string) []Phase {
	if scope == providers.ScopeBaseline {
		return s.Baseline
	}
	return s.Canary
}

// draw extends the scope's series to upTo seconds since Start.
func (s *Service) draw(scope string, upTo int) {
	phases := s.phases(scope)
	sr := s.live[scope]
	if sr == nil {
		sr = &series{}
		s.live[scope] = sr
	}
	for len(sr.total) < upTo {
		off := time.Duration(len(sr.total)) * time.Second
		tr := Track{}
		for _, p := range phases {
			if p.From <= off {
				tr = p.Track
			}
		}
		b, t := tr.Second(s.rng)
		sr.bad = append(sr.bad, float64(b))
		sr.total = append(sr.total, float64(t))
	}
}
