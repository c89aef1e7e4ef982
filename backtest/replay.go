package backtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
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

	mu    sync.Mutex
	cache map[readKey][]*fetch
	point bool // the server moved the range reads' times: point reads from now on
}

// block is how many windows one range read serves at most: memory stays
// bounded (about 40 reads × block readings for a default watch), and each
// read stays one request (Prometheus returns at most 11,000 points).
const block = 5000

type counters struct{ rangeReads, pointReads atomic.Int64 }

// readKey files the range reads by what tells queries apart cheaply; the
// query itself, whatever fields it grows, is compared in full (see find).
type readKey struct {
	slo, scope     string
	sli            slo.SLI
	window, offset time.Duration
}

// fetch is one range read of q, shared by every window from window `from`
// on.
type fetch struct {
	q        providers.Query
	done     chan struct{}
	from     int
	readings []providers.Reading
	err      error
}

func newReplay(name string, p providers.Provider, every time.Duration, n, block int, fail func(error), reads *counters, log *slog.Logger) *replay {
	r := &replay{name: name, p: p, every: every, n: n, block: block, fail: fail, reads: reads, log: log, cache: map[readKey][]*fetch{}}
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
	return w.r.counts(ctx, q, w.j, at.Sub(w.since), at)
}

// Slices implements providers.Provider by asking the backend.
func (w window) Slices(ctx context.Context, q providers.Query, rg providers.Range) ([]providers.Counts, error) {
	w.r.reads.pointReads.Add(1)
	cs, err := w.r.p.Slices(ctx, q, rg)
	return cs, w.r.checked(err)
}

func (r *replay) counts(ctx context.Context, q providers.Query, j int, offset time.Duration, at time.Time) (providers.Counts, error) {
	if r.rr == nil || r.pointOnly() {
		return r.pointRead(ctx, q, at)
	}
	k := readKey{slo: q.SLO, scope: q.Scope.Name, sli: q.SLI, window: q.Window, offset: offset}
	r.mu.Lock()
	i, f := r.find(k, q)
	if f == nil || j < f.from || (isDone(f) && f.err == nil && j-f.from >= len(f.readings)) {
		f = &fetch{q: q, done: make(chan struct{}), from: j}
		if i < 0 {
			r.cache[k] = append(r.cache[k], f)
		} else {
			r.cache[k][i] = f // the old block is spent: let it go
		}
		r.mu.Unlock()
		r.reads.rangeReads.Add(1)
		f.readings, f.err = r.rr.CountsRange(ctx, q, providers.Times{Start: at, Step: r.every, N: min(r.n-j, r.block)})
		close(f.done)
	} else {
		r.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			return providers.Counts{}, ctx.Err()
		}
	}
	switch {
	case errors.Is(f.err, providers.ErrNoRangeReads):
		r.toPointReads(f.err)
		return r.pointRead(ctx, q, at)
	case f.err != nil:
		return providers.Counts{Start: at.Add(-q.Window), End: at}, r.checked(f.err)
	case j-f.from >= len(f.readings):
		return providers.Counts{}, fmt.Errorf("provider %q: a range read returned %d readings, %d asked", r.name, len(f.readings), r.n-f.from)
	}
	rd := f.readings[j-f.from]
	return rd.Counts, rd.Err
}

// find returns the range read of q at k's offset and its place, or -1 and
// nil; r.mu is held.
func (r *replay) find(k readKey, q providers.Query) (int, *fetch) {
	for i, f := range r.cache[k] {
		if reflect.DeepEqual(f.q, q) {
			return i, f
		}
	}
	return -1, nil
}

func isDone(f *fetch) bool {
	select {
	case <-f.done:
		return true
	default:
		return false
	}
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
		r.fail(fmt.Errorf("provider %q: %w", r.name, err))
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
