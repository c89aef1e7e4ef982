package httpclient

import "context"

// SmallAnswer is what an answer may hold before it needs a slot of Large:
// far above a usual query result (a range query of one series over 10,000
// points is about 300 KiB), so that ordinary answers never wait.
const SmallAnswer = 1 << 20

// Large bounds the memory that large answers take together. Each answer
// is read up to max_response_bytes, and a reader such as io.ReadAll grows
// its buffer to about twice what it read: ten queries in flight, each
// reading an oversized answer up to the 50 MiB limit, would hold a GiB.
// Past SmallAnswer bytes, an answer waits (within its request's context)
// for the one slot, which it holds until its body ends or is closed: the
// answers above SmallAnswer are read one after another, so that memory is
// one limit's worth plus SmallAnswer per query in flight, whatever the
// concurrency. A holder only ever waits for the network, so no reader can
// wait for another forever.
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
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *Large) release() { <-l.slot }
