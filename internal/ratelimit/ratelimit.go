// Package ratelimit is a keyed token bucket with a bounded number of keys,
// for limits per browser session, per client address or per user that a
// hostile client cannot grow without bound by inventing keys.
package ratelimit

import (
	"math"
	"sync"
	"time"
)

// Limiter allows Rate events per second per key, in bursts of up to Burst.
// It is safe for concurrent use.
type Limiter struct {
	mu      sync.Mutex
	rate    float64 // tokens per second
	burst   float64
	maxKeys int
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// New returns a limiter allowing perMinute events a minute per key, with
// bursts of burst (at least 1), tracking at most maxKeys keys at once.
func New(perMinute, burst, maxKeys int) *Limiter {
	l := &Limiter{maxKeys: max(maxKeys, 1), buckets: map[string]*bucket{}}
	l.SetRate(perMinute, burst)
	return l
}

// SetRate changes the rate and burst (a configuration reload); buckets keep
// their tokens, capped at the new burst.
func (l *Limiter) SetRate(perMinute, burst int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rate = float64(max(perMinute, 1)) / 60
	l.burst = float64(max(burst, 1))
}

// Allow takes one token of key at now. When none is left it returns false
// and how long until one is; a key that would exceed maxKeys is refused
// too (after forgetting every key whose bucket has refilled, which is the
// same as never having been seen).
func (l *Limiter) Allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= l.maxKeys {
			l.sweep(now)
		}
		if len(l.buckets) >= l.maxKeys {
			return false, time.Duration(math.Ceil(1/l.rate)) * time.Second
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.at).Seconds()*l.rate)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	return false, wait
}

// sweep forgets full buckets; l.mu is held.
func (l *Limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.at).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
}

// Keys is how many keys are tracked now.
func (l *Limiter) Keys() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
