package httpclient

import (
	"context"
	"runtime"
	"sync"
)

// SmallAnswer is what an answer may hold before it needs a slot of Large:
// far above a usual query result (a range query of one series over 10,000
// points is about 300 KiB), so that ordinary answers never wait.
const SmallAnswer = 1 << 20

// Large bounds the memory that large answers take together. Each answer
// is read up to max_response_bytes, and a reader such as io.ReadAll grows
// its buffer by copying, to more than what it read: ten queries in
// flight, each reading an oversized answer up to the 50 MiB limit, held
// over a GiB. Past SmallAnswer bytes, an answer waits (within its
// request's context) for the one slot, which it holds until its body has
// been read whole, or, for one over the limit, until it is closed or its
// request ends (the caller still holds what it read until then): answers
// above SmallAnswer are read one after another, so that memory is about
// one large answer plus SmallAnswer per query in flight, whatever the
// concurrency (bench/oversized prints it). A holder only ever waits for
// the network, so no reader waits for another beyond its own deadline.
type Large struct {
	slot chan struct{}
}

// NewLarge returns a Large to share between every client whose answers
// it should bound together: the app layer makes one per process.
func NewLarge() *Large {
	return &Large{slot: make(chan struct{}, 1)}
}

func (l *Large) acquire(ctx context.Context) error {
	select {
	case l.slot <- struct{}{}:
		return nil // nobody held it
	default:
	}
	select {
	case l.slot <- struct{}{}:
		// The answer read before this one is garbage now, or nearly:
		// collect it before this one grows as large, or the heap would
		// hold one of each until the collector's own pace came round.
		runtime.GC()
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *Large) release() { <-l.slot }

// hold is one answer's hold on the slot, given back once: at the end of
// its body, on its Close, or at the end of its request's context,
// whichever comes first, so that a body nobody closes cannot keep it.
type hold struct {
	large *Large
	stop  func() bool
	once  sync.Once
}

// take waits for the slot within ctx.
func (l *Large) take(ctx context.Context) (*hold, error) {
	if err := l.acquire(ctx); err != nil {
		return nil, err
	}
	h := &hold{large: l}
	h.stop = context.AfterFunc(ctx, h.give)
	return h, nil
}

func (h *hold) give() { h.once.Do(h.large.release) }

// end gives the slot back; nil (no hold) does nothing.
func (h *hold) end() {
	if h != nil {
		h.stop()
		h.give()
	}
}
