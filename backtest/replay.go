package backtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/slo"
)

// replay serves one backend's readings to the windows' watches. The first
// window that asks for a query at some offset from its start fetches that
// query at the same offset for itself and the next windows (up to a block),
// with one range read; those windows read it from memory. Which queries and
// offsets there are is whatever the watch engine asks: the replay knows
// nothing of the engine, so it stays exact when the engine changes.
type replay struct {
	name  string
	p     providers.Provider
	rr    providers.RangeReader // nil: point reads only
	every time.Duration
	n     int // windows
	block int // windows per range read
	fail  func(error)
	reads *counters
	log   *slog.Logger

	counts shelf[readKey, []providers.Reading]
	slices shelf[sliceKey, *longRead]

	mu    sync.Mutex
	point bool // the server moved the range reads' times: point reads from now on
}

// block is how many windows one range read serves at most: memory stays
// bounded (about 40 reads × block readings for a default watch), and each
// read stays one request (Prometheus returns at most 11,000 points).
const block = 5000

type counters struct{ rangeReads, pointReads atomic.Int64 }

// readKey is a query's cheap parts, at an offset from a window's start.
type readKey struct {
	slo, scope     string
	sli            slo.SLI
	window, offset time.Duration
}

// sliceKey adds a slice read's step, number of slices, and which of the
// windows' grids it is on.
type sliceKey struct {
	readKey
	step     time.Duration
	n, phase int
}

func keyOf(q providers.Query, offset time.Duration) readKey {
	return readKey{slo: q.SLO, scope: q.Scope.Name, sli: q.SLI, window: q.Window, offset: offset}
}

func newReplay(name string, p providers.Provider, every time.Duration, n, block int, fail func(error), reads *counters, log *slog.Logger) *replay {
	r := &replay{name: name, p: p, every: every, n: n, block: block, fail: fail, reads: reads, log: log}
	r.rr, _ = p.(providers.RangeReader)
	if r.rr == nil {
		log.Info("this backend has no range reads: each interval of each window is read on its own (slower)", "provider", name)
	}
	return r
}

// window is the backend as the watch of window j, starting at since, sees it.
type window struct {
	r     *replay
	j     int
	since time.Time
}

// Counts implements providers.Provider from the shared range reads.
func (w window) Counts(ctx context.Context, q providers.Query, at time.Time) (providers.Counts, error) {
	return w.r.readCounts(ctx, q, w.j, at.Sub(w.since), at)
}

// Slices implements providers.Provider from shared slice reads.
func (w window) Slices(ctx context.Context, q providers.Query, rg providers.Range) ([]providers.Counts, error) {
	return w.r.readSlices(ctx, q, w.j, w.since, rg)
}

func (r *replay) readCounts(ctx context.Context, q providers.Query, j int, offset time.Duration, at time.Time) (providers.Counts, error) {
	if r.rr == nil || r.pointOnly() {
		return r.pointRead(ctx, q, at)
	}
	n := min(r.n-j, r.block)
	sh, err := r.counts.get(ctx, keyOf(q, offset), q, j, 1, n, func() ([]providers.Reading, error) {
		r.reads.rangeReads.Add(1)
		return r.rr.CountsRange(ctx, q, providers.Times{Start: at, Step: r.every, N: n})
	})
	switch {
	case err != nil:
		return providers.Counts{}, err
	case errors.Is(sh.err, providers.ErrNoRangeReads):
		r.toPointReads(sh.err)
		return r.pointRead(ctx, q, at)
	case sh.err != nil:
		return providers.Counts{Start: at.Add(-q.Window), End: at}, r.checked(sh.err)
	case j-sh.from >= len(sh.val):
		return providers.Counts{}, fmt.Errorf("provider %q: a range read returned %d readings, %d asked", r.name, len(sh.val), sh.count)
	}
	rd := sh.val[j-sh.from]
	return rd.Counts, rd.Err
}

// readSlices serves a window's slice read (the engine's look at the history
// before the window, say) from one long read of the same slices for the
// windows whose slices fall on the same grid. Until a window with traffic in
// its slices has compared them with its own read, windows read their own: a
// backend whose slices depend on the range asked (rollups, step alignment)
// is read window by window. A window whose slices all lack traffic reads its
// own too: only that read tells "no series" (ErrNoData) from "no requests".
func (r *replay) readSlices(ctx context.Context, q providers.Query, j int, since time.Time, rg providers.Range) ([]providers.Counts, error) {
	n := int(rg.End.Sub(rg.Start) / max(rg.Step, 1))
	if r.rr == nil || r.pointOnly() || rg.Step <= 0 || n <= 0 {
		return r.pointSlices(ctx, q, rg)
	}
	// Windows `every` apart have their slices on one grid; `per` slices
	// separate two of them.
	every := int(rg.Step / gcd(r.every, rg.Step))
	per := int(time.Duration(every) * r.every / rg.Step)
	count := (min(r.n, j+r.block)-1-j)/every + 1
	sh, err := r.slices.get(ctx, sliceKey{keyOf(q, rg.End.Sub(since)), rg.Step, n, j % every}, q, j, every, count, func() (*longRead, error) {
		r.reads.rangeReads.Add(1)
		long := providers.Range{Start: rg.End.Add(-time.Duration(n) * rg.Step), End: rg.End.Add(time.Duration((count-1)*per) * rg.Step), Step: rg.Step}
		all, err := r.p.Slices(ctx, q, long)
		if err == nil && len(all) != n+(count-1)*per {
			err = errNotShared
		}
		return &longRead{all: all}, err
	})
	if err != nil {
		return nil, err
	}
	if sh.err != nil {
		return r.pointSlices(ctx, q, rg) // the window's own read says what went wrong, if anything
	}
	lo := (j - sh.from) / sh.every * per
	sub := sh.val.all[lo : lo+n]
	if !slices.ContainsFunc(sub, func(c providers.Counts) bool { return c.Total > 0 }) {
		return r.pointSlices(ctx, q, rg)
	}
	if ok, known := sh.val.trusted(); known && ok {
		return slices.Clone(sub), nil
	} else if known {
		return r.pointSlices(ctx, q, rg)
	}
	own, err := r.pointSlices(ctx, q, rg)
	if err == nil {
		sh.val.trust(sameSlices(sub, own))
	}
	return own, err
}

// longRead is a long slice read and whether a window's own read agreed.
type longRead struct {
	all []providers.Counts

	mu           sync.Mutex
	known, agree bool
}

func (l *longRead) trusted() (agree, known bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.agree, l.known
}

func (l *longRead) trust(agree bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.known {
		l.known, l.agree = true, agree
	}
}

// errNotShared marks a long slice read that cannot serve the windows.
var errNotShared = errors.New("a long slice read returned other slices than asked")

func sameSlices(a, b []providers.Counts) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Good != b[i].Good || a[i].Total != b[i].Total || a[i].Value != b[i].Value || !a[i].Start.Equal(b[i].Start) || !a[i].End.Equal(b[i].End) {
			return false
		}
	}
	return true
}

func gcd(a, b time.Duration) time.Duration {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func (r *replay) pointSlices(ctx context.Context, q providers.Query, rg providers.Range) ([]providers.Counts, error) {
	r.reads.pointReads.Add(1)
	cs, err := r.p.Slices(ctx, q, rg)
	return cs, r.checked(err)
}

func (r *replay) pointRead(ctx context.Context, q providers.Query, at time.Time) (providers.Counts, error) {
	r.reads.pointReads.Add(1)
	c, err := r.p.Counts(ctx, q, at)
	return c, r.checked(err)
}

// checked passes an error on; one that is neither no data nor a bad query
// means the backend could not be read, which ends the whole backtest: a
// window decided without its readings is not what watch would have decided.
func (r *replay) checked(err error) error {
	if err != nil && !errors.Is(err, providers.ErrNoData) && !errors.Is(err, providers.ErrBadQuery) {
		var qe *providers.QueryError
		if errors.As(err, &qe) && qe.Provider == r.name {
			r.fail(err) // it names the provider already
		} else {
			r.fail(fmt.Errorf("provider %q: %w", r.name, err))
		}
	}
	return err
}

func (r *replay) pointOnly() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.point
}

func (r *replay) toPointReads(why error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.point {
		r.point = true
		r.log.Warn("range reads are unusable on this server: each interval of each window is read on its own (slower)", "provider", r.name, "reason", why)
	}
}
