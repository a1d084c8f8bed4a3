package server

import (
	"fmt"
	"math"
	"time"

	"github.com/dashd/dashd/storage"
)

// seriesBuckets answers a series request on a regular grid: buckets of
// one step from r.From up to r.To, at most r.Points of them, each with
// the mean of the averages, the least minimum and the greatest maximum of
// what storage holds in it, and nulls where it holds nothing, so a gap
// (dashd not running, a sample dropped) is a gap to the client too.
//
// The step is never finer than what the storage tier read holds (the
// sampling interval for raw points, a minute or an hour for rollups): a
// finer grid would be mostly nulls that only mean "between two samples".
// Storage is asked for twice as many points as buckets, so every bucket
// over a stretch with data gets at least one however the two grids align.
func (s *Server) seriesBuckets(name string, r timeRange) (seriesJSON, error) {
	span := r.To.Sub(r.From)
	step := (span + time.Duration(r.Points) - 1) / time.Duration(r.Points)
	if res := s.tierResolution(s.deps.Store.ChooseTier(r.From, r.To, 2*r.Points)); step < res {
		step = res
	}
	step = max(step, time.Millisecond)
	n := int((span + step - 1) / step)
	pts, err := s.deps.Store.Range(name, r.From, r.To, 2*n)
	if err != nil {
		return seriesJSON{}, fmt.Errorf("series %q: %w", name, err)
	}
	return seriesJSON{Series: name, From: r.From, To: r.To, StepSeconds: seconds(step), Count: n,
		Points: bucketPoints(pts, r.From, step, n)}, nil
}

// tierResolution is the spacing of a storage tier's points.
func (s *Server) tierResolution(t storage.Tier) time.Duration {
	switch t {
	case storage.TierRaw:
		return s.deps.Latest.Config().Collect.Interval.D()
	case storage.TierMinute:
		return time.Minute
	default:
		return time.Hour
	}
}

// bucketPoints puts pts on the grid of n buckets of step from from.
// Points before from (a rollup slot that starts earlier) count in the
// first bucket; NaN and infinite values (never stored, but not trusted)
// are left out.
func bucketPoints(pts []storage.SeriesPoint, from time.Time, step time.Duration, n int) []pointJSON {
	type acc struct {
		sum, lo, hi float64
		count       int
	}
	accs := make([]acc, n)
	for _, p := range pts {
		if math.IsNaN(p.Value) || math.IsInf(p.Value, 0) {
			continue
		}
		i := 0
		if d := p.Time.Sub(from); d > 0 {
			i = int(d / step)
		}
		if i >= n {
			continue
		}
		lo, hi := p.Min, p.Max
		if math.IsNaN(lo) || math.IsNaN(hi) || lo > hi {
			lo, hi = p.Value, p.Value
		}
		a := &accs[i]
		if a.count == 0 {
			a.lo, a.hi = lo, hi
		}
		a.sum += p.Value
		a.count++
		a.lo, a.hi = math.Min(a.lo, lo), math.Max(a.hi, hi)
	}
	out := make([]pointJSON, n)
	for i, a := range accs {
		out[i].Time = from.Add(time.Duration(i) * step)
		if a.count > 0 {
			avg, lo, hi := a.sum/float64(a.count), a.lo, a.hi
			out[i].Value, out[i].Min, out[i].Max = &avg, &lo, &hi
		}
	}
	return out
}
