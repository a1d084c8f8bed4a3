package view

import (
	"math"
	"slices"
	"time"
)

// ring keeps the last n step-averages of one metric for a sparkline. Buckets
// are aligned to the wall clock so every card moves on at the same tick, and
// only completed buckets are shown: the sparkline bytes then change once per
// step, not once per sample, which is what keeps an idle stream small.
type ring struct {
	vals  []float64 // oldest first, len n, NaN = no data
	cur   time.Time // start of the open bucket
	sum   float64
	count int
	// shown is what values last returned, kept until a bucket closes:
	// the sparkline is built every tick and changes once per step.
	shown []float64
}

func newRing(n int) *ring {
	r := &ring{vals: make([]float64, n)}
	for i := range r.vals {
		r.vals[i] = math.NaN()
	}
	return r
}

// add records v at t; it reports whether a bucket was closed (the
// sparkline changed).
func (r *ring) add(t time.Time, v float64, step time.Duration) bool {
	b := t.Truncate(step)
	closed := false
	if r.cur.IsZero() {
		r.cur = b
	}
	if b.After(r.cur) {
		gap := int(b.Sub(r.cur) / step)
		if r.count > 0 {
			r.push(r.sum / float64(r.count))
			gap--
		}
		for i := 0; i < gap && i < len(r.vals); i++ {
			r.push(math.NaN())
		}
		r.cur, r.sum, r.count = b, 0, 0
		closed = true
	}
	if !math.IsNaN(v) && !math.IsInf(v, 0) {
		r.sum += v
		r.count++
	}
	return closed
}

func (r *ring) push(v float64) {
	r.shown = nil // handed out: never written, replaced
	copy(r.vals, r.vals[1:])
	r.vals[len(r.vals)-1] = v
}

// values returns the completed buckets, oldest first: a copy shared
// until the next bucket closes, so callers only read it.
func (r *ring) values() []float64 {
	if r.shown == nil {
		r.shown = slices.Clone(r.vals) // exactly its length: nothing appends into it
	}
	return r.shown
}
