package main

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/series"
)

func TestSeqFigures_RoundTrip(t *testing.T) {
	for seq := range 3 * seqCycle {
		cpu, mem := seqFigures(seq)
		// The tile shows whole percentages (view's roundPct).
		c, m := int(cpu+0.5), int(mem+0.5)
		if c/10 != 4 || m/10 != 6 {
			t.Fatalf("seq %d: CPU %d%% / memory %d%% leave their 10 %% bands (tiles would move)", seq, c, m)
		}
		code, ok := seqOfTile(c, m)
		if !ok || code != seq%seqCycle {
			t.Fatalf("seq %d: figures %d/%d decode to %d, %v; want %d", seq, c, m, code, ok, seq%seqCycle)
		}
	}
}

func TestSeqOfTile(t *testing.T) {
	tests := []struct {
		cpu, mem, want int
		ok             bool
	}{
		{40, 60, 0, true},
		{49, 69, 99, true},
		{43, 61, 13, true},
		{96, 4, 0, false}, // the hub's own tile
		{-1, -1, 0, false},
		{50, 60, 0, false},
		{40, 70, 0, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d/%d", tt.cpu, tt.mem), func(t *testing.T) {
			got, ok := seqOfTile(tt.cpu, tt.mem)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("got %d, %v; want %d, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestSeqPoints(t *testing.T) {
	other := model.Point{Series: series.Load1, Value: 0.5}
	tests := []struct {
		name string
		pts  []model.Point
		want []model.Point
	}{
		{"both set in place", []model.Point{{Series: series.CPUTotal, Value: 3}, other, {Series: series.MemUsedPct, Value: 20}},
			[]model.Point{{Series: series.CPUTotal, Value: 47}, other, {Series: series.MemUsedPct, Value: 61}}},
		{"missing ones added", []model.Point{other},
			[]model.Point{other, {Series: series.CPUTotal, Value: 47}, {Series: series.MemUsedPct, Value: 61}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append([]model.Point(nil), tt.pts...)
			got := seqPoints(tt.pts, 117)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			if !reflect.DeepEqual(tt.pts, in) {
				t.Fatalf("input modified: %v", tt.pts)
			}
		})
	}
}

func TestMatchBrowser(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	show := func(atMs, ageMs int) tileShow {
		return tileShow{at: at(atMs), age: time.Duration(ageMs) * time.Millisecond}
	}
	// Samples 0..4 at 0, 1000, ... 4000 ms, all acknowledged.
	sent := make([]sampleMark, 5)
	for i := range sent {
		sent[i] = sampleMark{seq: i, at: at(i * 1000), acked: true}
	}
	unacked := append([]sampleMark(nil), sent...)
	unacked[2].acked = false
	// 250 samples: codes repeat after seqCycle.
	long := make([]sampleMark, 250)
	for i := range long {
		long[i] = sampleMark{seq: i, at: at(i * 1000), acked: true}
	}
	tests := []struct {
		name     string
		sent     []sampleMark
		seen     []tileSeen
		from, to time.Time
		want     browserMatch
	}{
		{"every sample shown", sent, []tileSeen{{0, at(300)}, {1, at(1400)}, {2, at(2500)}, {3, at(3600)}, {4, at(4700)}},
			at(0), at(5000), browserMatch{latencies: ms(300, 400, 500, 600, 700), exact: 5,
				shows: []tileShow{show(300, 300), show(1400, 400), show(2500, 500), show(3600, 600), show(4700, 700)}}},
		{"one overtaken by the next", sent, []tileSeen{{0, at(300)}, {2, at(2500)}, {3, at(3600)}, {4, at(4700)}},
			at(0), at(5000), browserMatch{latencies: ms(300, 1500, 500, 600, 700), exact: 4, overtaken: 1,
				shows: []tileShow{show(300, 300), show(2500, 500), show(3600, 600), show(4700, 700)}}},
		{"the last never shown", sent, []tileSeen{{0, at(300)}, {1, at(1400)}, {2, at(2500)}, {3, at(3600)}},
			at(0), at(5000), browserMatch{latencies: ms(300, 400, 500, 600), exact: 4, missed: 1,
				shows: []tileShow{show(300, 300), show(1400, 400), show(2500, 500), show(3600, 600)}}},
		{"only the window counts", sent, []tileSeen{{0, at(300)}, {1, at(1400)}, {2, at(2500)}, {3, at(3600)}, {4, at(4700)}},
			at(1000), at(3000), browserMatch{latencies: ms(400, 500), exact: 2, shows: []tileShow{show(1400, 400), show(2500, 500)}}},
		{"an unacknowledged sample is left out", unacked, []tileSeen{{0, at(300)}, {1, at(1400)}, {2, at(2500)}, {3, at(3600)}, {4, at(4700)}},
			at(0), at(5000), browserMatch{latencies: ms(300, 400, 600, 700), exact: 4,
				shows: []tileShow{show(300, 300), show(1400, 400), show(3600, 600), show(4700, 700)}}},
		{"a code seen again later is the newer sample", long, []tileSeen{{5, at(5200)}, {5, at(105_900)}},
			at(105_000), at(106_000), browserMatch{latencies: ms(900), exact: 1, shows: []tileShow{show(105_900, 900)}}},
		{"the first showing counts (a tile changes again, same figures)", sent[:1], []tileSeen{{0, at(300)}, {0, at(900)}},
			at(0), at(1000), browserMatch{latencies: ms(300), exact: 1, shows: []tileShow{show(300, 300)}}},
		{"nothing shown", sent, nil, at(0), at(5000), browserMatch{missed: 5}},
		{"a figure before any sample matches none", sent, []tileSeen{{4, at(-10)}}, at(0), at(1000), browserMatch{missed: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := matchBrowser(tt.sent, tt.seen, tt.from, tt.to)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestFreshest(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	d := func(ms int) time.Duration { return time.Duration(ms) * time.Millisecond }
	tests := []struct {
		name  string
		shows []tileShow
		want  []time.Duration
	}{
		{"none", nil, []time.Duration{}},
		{"the youngest of each update, in update order", []tileShow{
			{at(2000), d(900)}, {at(1000), d(700)}, {at(1000), d(300)}, {at(2000), d(1500)}, {at(1000), d(500)},
		}, []time.Duration{d(300), d(900)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := freshest(tt.shows); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}
