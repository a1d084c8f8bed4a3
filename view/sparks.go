package view

import (
	"math"
	"sync"
	"time"

	"github.com/dashd/dashd/collectors/system"
	"github.com/dashd/dashd/selfstat"
	"github.com/dashd/dashd/ui"
)

// Defaults of NewSparks.
const (
	DefaultSparkStep   = 5 * time.Second
	DefaultSparkPoints = 60
)

// Sparks keeps the stat cards' recent values for their sparklines: the
// last points step-averages of each card's metric. The scheduler feeds it
// every host sample (Observe); page handlers read it. It is safe for
// concurrent use and holds only memory: a page needs no storage read.
//
// The cards of the newest sample are built once, in Observe, and reused
// by every reader until the next sample: a tick with a dashboard open and
// a page load in the same second do not build them twice.
type Sparks struct {
	step   time.Duration
	points int

	mu      sync.Mutex
	rings   map[string]*ring
	last    time.Time // time of the newest observed sample
	cards   []card    // cards of that sample (read-only once stored)
	hasSelf bool
}

// NewSparks returns empty sparklines of points buckets of step each (zero
// values take the defaults: 60 x 5s, the last five minutes).
func NewSparks(step time.Duration, points int) *Sparks {
	if step <= 0 {
		step = DefaultSparkStep
	}
	if points <= 1 {
		points = DefaultSparkPoints
	}
	return &Sparks{step: step, points: points, rings: map[string]*ring{}}
}

// Observe folds one host sample (and dashd's footprint, nil before the
// first reading) into the sparklines. A sample not newer than the last one
// is ignored, so calling it again for the same sample is harmless.
func (s *Sparks) Observe(snap system.Snapshot, self *selfstat.Footprint) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !snap.Time.After(s.last) {
		return
	}
	s.last = snap.Time
	s.cards = cards(snap, self)
	s.hasSelf = self != nil
	for _, c := range s.cards {
		r := s.rings[c.Key]
		if r == nil {
			r = newRing(s.points)
			s.rings[c.Key] = r
		}
		r.add(snap.Time, c.metric, s.step)
	}
}

// Cards returns the stat cards of snap with their sparklines. For the
// newest observed sample it reuses the cards Observe built.
func (s *Sparks) Cards(snap system.Snapshot, self *selfstat.Footprint) []ui.StatCard {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.cards
	if cs == nil || !snap.Time.Equal(s.last) || s.hasSelf != (self != nil) {
		cs = cards(snap, self)
	}
	out := make([]ui.StatCard, len(cs))
	window := time.Duration(s.points) * s.step
	for i, c := range cs {
		var vals []float64
		if r := s.rings[c.Key]; r != nil {
			vals = r.values()
		}
		hi := c.hi
		if c.Key == "load" {
			hi = math.Max(hi, dataMax(vals))
		}
		c.Spark = ui.SparkView{ID: ui.SparkID(c.Key), Values: vals, Min: c.lo, Max: hi,
			Label: c.Title + ", last " + ui.FormatDuration(window)}
		out[i] = c.StatCard
	}
	return out
}

// dataMax is the largest value of vs, 0 when there is none.
func dataMax(vs []float64) float64 {
	m := 0.0
	for _, v := range vs {
		if !math.IsNaN(v) && v > m {
			m = v
		}
	}
	return m
}
