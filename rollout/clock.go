package rollout

import (
	"context"
	"sync"
	"time"
)

// JumpClock is a watch's clock that never waits: it starts at Start and
// jumps to whatever time the watch sleeps until. Replays (backtest), the
// demo's tests and the CLI's tests run watches on it.
type JumpClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewJumpClock starts a JumpClock at start.
func NewJumpClock(start time.Time) *JumpClock { return &JumpClock{now: start} }

// Now implements Clock.
func (c *JumpClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep implements Clock: it returns at once, the clock at t.
func (c *JumpClock) Sleep(ctx context.Context, t time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	if t.After(c.now) {
		c.now = t
	}
	c.mu.Unlock()
	return nil
}
