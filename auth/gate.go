package auth

import (
	"context"
	"fmt"
	"sync/atomic"
)

// Gate bounds the password and token verifications running at once and
// waiting: each argon2id verification holds 19 MiB for tens of
// milliseconds, so a burst of sign-ins (or of wrong bearer tokens from
// many addresses) must queue, briefly, and beyond that be refused with
// ErrBusy rather than take the daemon's memory. One Gate is shared by
// Local and Tokens.
type Gate struct {
	slots    chan struct{}
	waiting  atomic.Int64
	maxQueue int64
}

// NewGate lets active verifications run at once (at least 1) and up to
// queue more wait for a slot.
func NewGate(active, queue int) *Gate {
	return &Gate{slots: make(chan struct{}, max(active, 1)), maxQueue: int64(max(queue, 0))}
}

// DefaultGate runs one verification at a time with 32 waiting: about 20
// MiB of hashing memory at most, and a sign-in behind a full queue waits
// a second or two.
func DefaultGate() *Gate { return NewGate(1, 32) }

// Do runs fn once a slot is free. It returns ErrBusy (wrapped) at once
// when the queue is full, and ctx's error when ctx ends while waiting.
func (g *Gate) Do(ctx context.Context, fn func()) error {
	select {
	case g.slots <- struct{}{}:
	default:
		if g.waiting.Add(1) > g.maxQueue {
			g.waiting.Add(-1)
			return fmt.Errorf("auth: %w", ErrBusy)
		}
		select {
		case g.slots <- struct{}{}:
			g.waiting.Add(-1)
		case <-ctx.Done():
			g.waiting.Add(-1)
			return fmt.Errorf("auth: waiting to verify: %w", ctx.Err())
		}
	}
	defer func() { <-g.slots }()
	fn()
	return nil
}
