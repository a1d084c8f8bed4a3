package main

// Pure helpers of `dashd-bench fleet`: percentiles, matching a hub's
// arrival time to the message that caused it, the per-message protocol
// overhead, and extrapolations. Each has a table test in fleet_stats_test.go.

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// nearestRank returns the p-th percentile (0-100) of xs by the nearest-rank
// method (the smallest value with at least p % of the values at or below
// it); 0 for no values. xs is not modified.
func nearestRank(xs []time.Duration, p float64) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}

// arrivalLatency is how long the message that made the hub see a host at
// arrived took: arrived minus the latest publish time at or before it.
// published is in increasing order. ok is false when nothing was
// published before arrived (the hello, or clocks out of step). The match
// is exact while the latency stays under the time between two messages;
// a hub that falls further behind shows as the final catch-up instead.
func arrivalLatency(published []time.Time, arrived time.Time) (time.Duration, bool) {
	i, _ := slices.BinarySearchFunc(published, arrived, func(p, a time.Time) int {
		if p.After(a) {
			return 1
		}
		return -1
	})
	if i == 0 {
		return 0, false
	}
	return arrived.Sub(published[i-1]), true
}

// perMessageOverhead is the protocol bytes one published message costs
// beyond its payload (HPUB line, reply subject, Nats-Msg-Id header,
// CRLFs): what a connection wrote minus the payloads, per message.
func perMessageOverhead(wireOut, payload, msgs uint64) float64 {
	if msgs == 0 || wireOut < payload {
		return 0
	}
	return float64(wireOut-payload) / float64(msgs)
}

// perHostPerDay extrapolates growth bytes over window for hosts hosts to
// bytes per host per day.
func perHostPerDay(growth int64, window time.Duration, hosts int) float64 {
	if window <= 0 || hosts <= 0 {
		return 0
	}
	return float64(growth) / window.Seconds() * 86400 / float64(hosts)
}

// fmtBytes prints a byte count with a decimal unit.
func fmtBytes(b float64) string {
	switch a := math.Abs(b); {
	case a >= 1e9:
		return fmt.Sprintf("%.2f GB", b/1e9)
	case a >= 1e6:
		return fmt.Sprintf("%.1f MB", b/1e6)
	case a >= 1e3:
		return fmt.Sprintf("%.1f KB", b/1e3)
	}
	return fmt.Sprintf("%.0f B", b)
}

// fmtDur prints a latency in ms with the precision it deserves.
func fmtDur(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	if ms < 10 {
		return fmt.Sprintf("%.2f ms", ms)
	}
	return fmt.Sprintf("%.0f ms", ms)
}
