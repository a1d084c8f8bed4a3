package main

// Which sample a browser sees: every simulated agent's sample carries its
// sequence number in the two figures its overview tile shows as whole
// percentages, CPU 40-49 % (seq's last digit) and memory 60-69 % (its tens).
// Both stay inside one 10 % band and below the warning levels, so the tiles
// keep their places (view.FleetCompare bands CPU and memory) and their
// colours: only the digits change. The code repeats every seqCycle samples,
// far longer than any latency worth measuring.

import (
	"maps"
	"slices"
	"time"

	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/series"
)

// seqCycle is how many samples pass before a tile shows the same figures.
const seqCycle = 100

// seqFigures are the CPU busy and memory used percentages encoding seq.
func seqFigures(seq int) (cpu, mem float64) {
	c := seq % seqCycle
	return float64(40 + c%10), float64(60 + c/10)
}

// seqOfTile is the code (seq modulo seqCycle) a tile's figures show, ok
// false for figures no sample of the bench has.
func seqOfTile(cpu, mem int) (int, bool) {
	if cpu < 40 || cpu > 49 || mem < 60 || mem > 69 {
		return 0, false
	}
	return (mem-60)*10 + cpu - 40, true
}

// seqPoints returns a copy of pts with CPU busy and memory used set to
// seq's figures (added when pts has none).
func seqPoints(pts []model.Point, seq int) []model.Point {
	cpu, mem := seqFigures(seq)
	out := make([]model.Point, len(pts), len(pts)+2)
	copy(out, pts)
	setCPU, setMem := false, false
	for i := range out {
		switch out[i].Series {
		case series.CPUTotal:
			out[i].Value, setCPU = cpu, true
		case series.MemUsedPct:
			out[i].Value, setMem = mem, true
		}
	}
	if !setCPU {
		out = append(out, model.Point{Series: series.CPUTotal, Value: cpu})
	}
	if !setMem {
		out = append(out, model.Point{Series: series.MemUsedPct, Value: mem})
	}
	return out
}

// sampleMark is one sample an agent published: its sequence number, its
// time (the agent's clock, the sample's own timestamp) and whether
// JetStream acknowledged it.
type sampleMark struct {
	seq   int
	at    time.Time
	acked bool
}

// tileSeen is one change of a host's tile figures in the stream: the code
// they show and when the event carrying them was read.
type tileSeen struct {
	code int
	at   time.Time
}

// browserMatch is how one host's samples reached the overview stream.
type browserMatch struct {
	latencies []time.Duration // per sample: first time its figures or a newer sample's showed, minus its time
	exact     int             // samples whose own figures showed
	overtaken int             // samples a newer one replaced before the stream showed them
	missed    int             // samples neither they nor a newer one ever showed
	shows     []tileShow      // the exact showings, in time order
}

// tileShow is one sample shown exactly: when the stream showed it and how
// old it was then.
type tileShow struct {
	at  time.Time
	age time.Duration
}

// freshest is, for every update of the stream (the changes read at one
// instant, one event), the age of the newest sample it showed: how far
// behind the samples the hub's view was when it reached the browser,
// whatever the wait for the next update added. In order of the updates.
func freshest(shows []tileShow) []time.Duration {
	best := map[time.Time]time.Duration{}
	for _, s := range shows {
		if d, ok := best[s.at]; !ok || s.age < d {
			best[s.at] = s.age
		}
	}
	ats := slices.SortedFunc(maps.Keys(best), time.Time.Compare)
	out := make([]time.Duration, len(ats))
	for i, at := range ats {
		out[i] = best[at]
	}
	return out
}

// matchBrowser matches what the stream showed of one host (seen, in time
// order) to the host's samples (sent, in sequence order) acknowledged with
// a time in [from, to). A change shows the newest sample at or before it
// with its code. A sample counts as delivered at the first change showing
// it or a newer sample: a live view shows the newest value, and a tick that
// skips a sample (two arrived within one tick) shows a fresher one.
func matchBrowser(sent []sampleMark, seen []tileSeen, from, to time.Time) browserMatch {
	shown := make([]time.Time, len(sent)) // by index in sent; zero: never
	for _, s := range seen {
		// The newest sample published at or before s.at with its code.
		i, _ := slices.BinarySearchFunc(sent, s.at, func(m sampleMark, t time.Time) int {
			if m.at.After(t) {
				return 1
			}
			return -1
		})
		for i--; i >= 0; i-- {
			if sent[i].seq%seqCycle == s.code {
				if shown[i].IsZero() {
					shown[i] = s.at
				}
				break
			}
		}
	}
	var m browserMatch
	var reached time.Time // the earliest showing of this sample or a newer one
	var lat []time.Duration
	for i := len(sent) - 1; i >= 0; i-- {
		if !shown[i].IsZero() && (reached.IsZero() || shown[i].Before(reached)) {
			reached = shown[i]
		}
		s := sent[i]
		if !s.acked || s.at.Before(from) || !s.at.Before(to) {
			continue
		}
		switch {
		case !shown[i].IsZero():
			m.exact++
			m.shows = append(m.shows, tileShow{at: shown[i], age: shown[i].Sub(s.at)})
		case !reached.IsZero():
			m.overtaken++
		default:
			m.missed++
			continue
		}
		lat = append(lat, reached.Sub(s.at))
	}
	slices.Reverse(lat)
	slices.Reverse(m.shows)
	m.latencies = lat
	return m
}
