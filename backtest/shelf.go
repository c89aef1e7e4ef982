package backtest

import (
	"context"
	"reflect"
	"sync"

	"github.com/sloguard/sloguard/providers"
)

// shelf keeps the reads that several windows share: for each query, the
// latest read under each key, made once however many windows wait for it.
// Keys tell queries apart cheaply; the query itself, whatever fields it
// grows, is compared in full.
type shelf[K comparable, T any] struct {
	mu sync.Mutex
	m  map[K][]*shared[T]
}

// shared is one read that serves the windows from, from+every, … (count of
// them).
type shared[T any] struct {
	q                  providers.Query
	from, every, count int
	done               chan struct{}
	val                T
	err                error
}

func (s *shared[T]) serves(j int) bool {
	return j >= s.from && (j-s.from)%s.every == 0 && (j-s.from)/s.every < s.count
}

// get returns the read of q under k that serves window j. When there is
// none, window j makes it with load, for itself and the count-1 windows
// after it, `every` apart.
func (s *shelf[K, T]) get(ctx context.Context, k K, q providers.Query, j, every, count int, load func() (T, error)) (*shared[T], error) {
	s.mu.Lock()
	if s.m == nil {
		s.m = map[K][]*shared[T]{}
	}
	at := -1
	var sh *shared[T]
	for i, x := range s.m[k] {
		if reflect.DeepEqual(x.q, q) {
			at, sh = i, x
			break
		}
	}
	if sh != nil && sh.serves(j) {
		s.mu.Unlock()
		select {
		case <-sh.done:
			return sh, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	sh = &shared[T]{q: q, from: j, every: every, count: count, done: make(chan struct{})}
	if at < 0 {
		s.m[k] = append(s.m[k], sh)
	} else {
		s.m[k][at] = sh // the windows the old one served are done: let it go
	}
	s.mu.Unlock()
	sh.val, sh.err = load()
	close(sh.done)
	return sh, nil
}
