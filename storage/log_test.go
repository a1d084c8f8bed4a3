package storage

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
	bolt "go.etcd.io/bbolt"
)

// tickSeries are the series the log tests write every tick; their values
// cover exact float32s (4-byte log entries) and values that are not (8 bytes).
var tickSeries = []string{"int", "tenth", "big"}

func tickVal(series string, i int) float64 {
	switch series {
	case "int":
		return float64(i)
	case "tenth":
		return float64(i) * 0.1
	default:
		return 1e6 + float64(i)*3.25
	}
}

func tickTime(i int) time.Time { return base.Add(time.Duration(i) * time.Second) }

// tickResult is the result written at tick i, if any.
func tickResult(i int) (model.Result, bool) {
	switch {
	case i%10 == 0:
		return model.Result{Check: "web", Time: tickTime(i), State: model.State(i / 10 % 4), Latency: time.Duration(i) * time.Millisecond, Reason: "r" + strconv.Itoa(i%3), Values: map[string]float64{"status": float64(200 + i%2)}}, true
	case i%7 == 0:
		return model.Result{Check: "web", Time: tickTime(i - 7), State: model.StateUp, Reason: "late"}, true // same time as an older one
	}
	return model.Result{}, false
}

// writeTicks commits ticks [from, to) one transaction each, like Run does.
func writeTicks(t testing.TB, db *DB, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		pts := make([]model.Point, 0, len(tickSeries)+1)
		for _, s := range tickSeries {
			pts = append(pts, pt(s, tickVal(s, i)))
		}
		if i < 30 {
			pts = append(pts, pt("silent", 5)) // stops in minute 0: closed by the sweep
		}
		reqs := []request{sampleReq(tickTime(i), pts...)}
		if r, ok := tickResult(i); ok {
			reqs = append(reqs, request{kind: reqResult, result: r})
		}
		apply(t, db, reqs...)
	}
}

// checkTicks verifies everything ticks [0, n) stored, read back through the
// public readers: every raw point once and in order, every minute rollup
// (the open one at full precision), the open hour, every result in order,
// the uptime counters.
func checkTicks(t *testing.T, db *DB, n int) {
	t.Helper()
	end := tickTime(n)
	for _, s := range tickSeries {
		pts, err := db.Range(s, base, end, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(pts) != n {
			t.Errorf("%s: %d raw points, want %d", s, len(pts), n)
		}
		for i, p := range pts {
			if want := float64(float32(tickVal(s, i))); !p.Time.Equal(tickTime(i)) || p.Value != want {
				t.Errorf("%s: raw point %d = %v at %v, want %v at %v", s, i, p.Value, p.Time, want, tickTime(i))
				break
			}
		}
		var want []rollup
		for m := 0; m*60 < n; m++ {
			r := rollup{start: tickTime(m * 60).UnixMilli(), min: math.Inf(1), max: math.Inf(-1)}
			var sum float64
			for i := m * 60; i < min(n, m*60+60); i++ {
				v := tickVal(s, i)
				r.count++
				r.min, r.max, r.last = math.Min(r.min, v), math.Max(r.max, v), v
				sum += v
			}
			r.avg = sum / float64(r.count)
			if (m+1)*60 < n { // closed: went through a rollup chunk
				r.min, r.max, r.avg, r.last = roundRollup(r.min), roundRollup(r.max), roundRollup(r.avg), roundRollup(r.last)
			}
			want = append(want, r)
		}
		got := rollupsOf(t, db, s, TierMinute, base, end)
		if len(got) != len(want) {
			t.Errorf("%s: %d minute rollups, want %d:\n%+v", s, len(got), len(want), got)
		} else {
			for i := range got {
				g, w := got[i], want[i]
				if g.start != w.start || g.count != w.count || g.min != w.min || g.max != w.max || g.last != w.last || math.Abs(g.avg-w.avg) > 1e-9*math.Abs(w.avg) {
					t.Errorf("%s: minute %d = %+v, want %+v", s, i, g, w)
				}
			}
		}
		hr := rollupsOf(t, db, s, TierHour, base, end)
		if len(hr) != (n+3599)/3600 {
			t.Errorf("%s: hour rollups %+v, want %d", s, hr, (n+3599)/3600)
		}
		for h, r := range hr {
			last := tickVal(s, min(n, 3600*(h+1))-1)
			if (h+1)*3600 < n {
				last = roundRollup(last)
			}
			if r.count != uint32(min(n, 3600*(h+1))-3600*h) || r.last != last {
				t.Errorf("%s: hour %d = %+v", s, h, r)
			}
		}
	}
	if got := rollupsOf(t, db, "silent", TierMinute, base, end); len(got) != 1 || got[0].count != uint32(min(n, 30)) {
		t.Errorf("silent: minute rollups %+v, want one of %d points", got, min(n, 30))
	}

	var want []model.Result
	for i := 0; i < n; i++ {
		if r, ok := tickResult(i); ok {
			want = append(want, r)
		}
	}
	// Stable by time: a result applied later sorts after an equal time.
	for i := 1; i < len(want); i++ {
		for j := i; j > 0 && want[j].Time.Before(want[j-1].Time); j-- {
			want[j], want[j-1] = want[j-1], want[j]
		}
	}
	got, err := db.Results("web", base, end, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		got[i].Time = got[i].Time.UTC()
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Results: %d results, want %d\n got %+v\nwant %+v", len(got), len(want), got, want)
	}
	if len(want) > 5 {
		page, err := db.Results("web", base, end, 5)
		if err != nil || len(page) != 5 || !page[4].Time.Equal(want[4].Time) || page[4].Reason != want[4].Reason {
			t.Errorf("Results limit 5 = %+v, %v", page, err)
		}
		last, err := db.LastResults("web", 4)
		if err != nil || len(last) != 4 {
			t.Fatalf("LastResults = %+v, %v", last, err)
		}
		for k := range last {
			w := want[len(want)-1-k]
			if !last[k].Time.Equal(w.Time) || last[k].Reason != w.Reason {
				t.Errorf("LastResults[%d] = %v %q, want %v %q", k, last[k].Time, last[k].Reason, w.Time, w.Reason)
			}
		}
	}
	var wantUp UptimeStats
	for _, r := range want {
		wantUp.add(r.State)
	}
	for _, window := range []time.Duration{24 * time.Hour, 30 * 24 * time.Hour} {
		if u, err := db.Uptime("web", window); err != nil || u != wantUp {
			t.Errorf("Uptime(%v) = %+v, %v; want %+v", window, u, err, wantUp)
		}
	}
	if days, err := db.UptimeDaily("web", 2); err != nil || days[1].UptimeStats != wantUp {
		t.Errorf("UptimeDaily = %+v, %v; want today %+v", days, err, wantUp)
	}
}

// copyFile copies a database file while it is open: what a SIGKILL right
// after the last commit leaves on disk.
func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestReopen_MidWindow(t *testing.T) {
	tests := []struct {
		name  string
		first int  // ticks before the reopen
		crash bool // reopen a copy taken while open instead of after Close
	}{
		{"close before the first fold", 30, false},
		{"crash before the first fold", 30, true},
		{"close mid-window", 150, false},
		{"crash mid-window", 150, true},
		{"close right after a fold", 121, false},
		{"crash right after a fold", 121, true},
		{"crash on the last tick of a window", 240, true},
		{"crash mid-minute after an hour of ticks", 3630, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock(tickTime(tt.first))
			opts := testOptions(clk)
			db, path := openTest(t, opts)
			writeTicks(t, db, 0, tt.first)
			reopenPath := path
			if tt.crash {
				reopenPath = filepath.Join(t.TempDir(), "crashed.db")
				copyFile(t, path, reopenPath)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			db2, err := Open(reopenPath, opts)
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			checkTicks(t, db2, tt.first)
			// Continue across folds and minutes: nothing lost or doubled.
			last := tt.first + 250
			clk.Set(tickTime(last))
			writeTicks(t, db2, tt.first, last)
			checkTicks(t, db2, last)
			if err := db2.Close(); err != nil {
				t.Fatal(err)
			}
			checkFile(t, reopenPath)
		})
	}
}

func TestRange_AcrossFold(t *testing.T) {
	clk := newClock(tickTime(250))
	db, _ := openTest(t, testOptions(clk))
	// "late" reports at ticks 0..100, then once more with a late point at
	// 110 s after the writer moved to window 2: it goes to the log while
	// its window-0 chunk is already folded.
	for i := 0; i < 250; i++ {
		pts := []model.Point{pt("x", float64(i))}
		if i <= 100 {
			pts = append(pts, pt("late", float64(i)))
		}
		apply(t, db, sampleReq(tickTime(i), pts...))
	}
	apply(t, db, sampleReq(tickTime(110), pt("late", 110), pt("x", 1e9))) // x: out of order, dropped

	tests := []struct {
		name        string
		series      string
		from, to    int // seconds
		first, last int // expected first and last point (seconds = value)
		n           int
	}{
		{"chunk only", "x", 10, 100, 10, 100, 91},
		{"chunk into the folded window", "x", 100, 130, 100, 130, 31},
		{"folded window into the log", "x", 230, 249, 230, 249, 20},
		{"across two folds", "x", 0, 300, 0, 249, 250},
		{"log only", "x", 241, 245, 241, 245, 5},
		{"late point between chunk points", "late", 90, 120, 90, 110, 12},
	}
	check := func(t *testing.T, db *DB) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				pts, err := db.Range(tt.series, tickTime(tt.from), tickTime(tt.to), 0)
				if err != nil {
					t.Fatal(err)
				}
				if len(pts) != tt.n || pts[0].Value != float64(tt.first) || pts[len(pts)-1].Value != float64(tt.last) {
					t.Fatalf("%d points %v..%v, want %d points %d..%d", len(pts), pts[0], pts[len(pts)-1], tt.n, tt.first, tt.last)
				}
				for i := 1; i < len(pts); i++ {
					if !pts[i].Time.After(pts[i-1].Time) {
						t.Fatalf("point %d at %v not after %v (duplicate or out of order)", i, pts[i].Time, pts[i-1].Time)
					}
					if pts[i].Value != float64(pts[i].Time.Sub(base)/time.Second) {
						t.Fatalf("point %d = %+v", i, pts[i])
					}
				}
			})
		}
	}
	t.Run("before the fold", func(t *testing.T) { check(t, db) })
	// The next window's first tick folds the late point into its chunk.
	apply(t, db, sampleReq(tickTime(360), pt("x", 360)))
	if got := keysOf(t, db, bLog); len(got) != 1 {
		t.Errorf("log after the fold holds %d records, want 1 (the tick that folded)", len(got))
	}
	var lateChunk []int64
	if err := db.view(func(tx *bolt.Tx) error {
		return decodeRaw(0, tx.Bucket(bRaw).Get(chunkKey(base.UnixMilli(), db.w.series["late"].id)), func(t int64, _ float64) {
			lateChunk = append(lateChunk, t)
		})
	}); err != nil {
		t.Fatal(err)
	}
	if len(lateChunk) != 102 {
		t.Errorf("late's window-0 chunk holds %d points after the fold, want 102", len(lateChunk))
	}
	t.Run("after the fold", func(t *testing.T) { check(t, db) })
}

func TestRetention_KeepsUnfoldedLog(t *testing.T) {
	clk := newClock(tickTime(90))
	opts := testOptions(clk)
	opts.Retention = Retention{Raw: time.Minute, Minute: time.Minute, Hour: time.Minute,
		Results: time.Minute, Events: time.Minute, Chat: time.Minute, Notifications: time.Minute}
	db, path := openTest(t, opts)
	writeTicks(t, db, 0, 90) // window 0, all in the log
	before := keysOf(t, db, bLog)
	// Far beyond every retention: the folded data goes, the log stays.
	clk.Set(base.Add(30 * 24 * time.Hour))
	if err := db.RunRetention(); err != nil {
		t.Fatal(err)
	}
	if after := keysOf(t, db, bLog); !reflect.DeepEqual(after, before) {
		t.Fatalf("retention changed the log: %d records before, %d after", len(before), len(after))
	}
	if names, _ := db.SeriesNames(); len(names) != 4 {
		t.Errorf("series %v: retention forgot series the log still refers to", names)
	}
	// Retention did delete the closed minute 0 from m1; what only the log
	// holds must all be there, before and after a reopen.
	check := func(db *DB) {
		t.Helper()
		for _, s := range tickSeries {
			pts, err := db.readTier(s, TierRaw, base.UnixMilli(), tickTime(90).UnixMilli())
			if err != nil || len(pts) != 90 {
				t.Errorf("%s: %d raw points, %v; want 90", s, len(pts), err)
			}
			if open := rollupsOf(t, db, s, TierMinute, base, tickTime(90)); len(open) != 1 || open[0].count != 30 {
				t.Errorf("%s: open minute %+v, want 30 points", s, open)
			}
		}
		if rs, err := db.Results("web", base, tickTime(90), 0); err != nil || len(rs) != 9+11 {
			t.Errorf("%d results, %v; want 20", len(rs), err)
		}
		if u, err := db.Uptime("web", 24*time.Hour); err != nil || u.Up+u.Unknown+u.Degraded+u.Down != 20 {
			t.Errorf("uptime %+v, %v; want 20 results", u, err)
		}
	}
	clk.Set(tickTime(90))
	check(db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db2, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	check(db2)
}

// TestOpen_V1File opens testdata/v1.db, written by the schema version 1
// writer (heads rewritten every tick, the open window's raw chunks in place,
// no log; dashd at commit 7b06768, one commit per tick through
// db.commit, then shrunk with bbolt.Compact): 150 ticks at 1 s from base of
// a = i, b = i/2, c = 1e6+3.25i, "silent" = 7 at ticks 0..30, a "web" result
// every 10 ticks, one event.
func TestOpen_V1File(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.db")
	copyFile(t, filepath.Join("testdata", "v1.db"), path)
	clk := newClock(tickTime(150))
	opts := testOptions(clk)
	db, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	val := map[string]func(i int) float64{
		"a": func(i int) float64 { return float64(i) },
		"b": func(i int) float64 { return float64(i) * 0.5 },
		"c": func(i int) float64 { return 1e6 + float64(i)*3.25 },
	}
	check := func(db *DB, n int) {
		t.Helper()
		for s, f := range val {
			pts, err := db.Range(s, base, tickTime(n), 0)
			if err != nil || len(pts) != n {
				t.Fatalf("%s: %d points, %v; want %d", s, len(pts), err, n)
			}
			for i, p := range pts {
				if p.Value != float64(float32(f(i))) || !p.Time.Equal(tickTime(i)) {
					t.Fatalf("%s: point %d = %+v", s, i, p)
				}
			}
			mins := rollupsOf(t, db, s, TierMinute, base, tickTime(n))
			if len(mins) != (n+59)/60 {
				t.Fatalf("%s: %d minute rollups, want %d", s, len(mins), (n+59)/60)
			}
			for m, r := range mins {
				want := uint32(min(60, n-60*m))
				if r.count != want || (m < len(mins)-1 && r.min != roundRollup(f(60*m))) {
					t.Errorf("%s: minute %d = %+v, want %d points from %v", s, m, r, want, f(60*m))
				}
			}
		}
		if got := rollupsOf(t, db, "silent", TierMinute, base, tickTime(n)); len(got) != 1 || got[0].count != 31 {
			t.Errorf("silent = %+v", got)
		}
		rs, err := db.Results("web", base, tickTime(n), 0)
		if err != nil || len(rs) != (n+9)/10 {
			t.Errorf("%d results, %v; want %d", len(rs), err, (n+9)/10)
		}
		if evs, err := db.Events(0, 10); err != nil || len(evs) != 1 {
			t.Errorf("events %v, %v", evs, err)
		}
	}
	check(db, 150)
	// Continue in the window the v1 writer left open, then across folds.
	clk.Set(tickTime(400))
	for i := 150; i < 400; i++ {
		reqs := []request{sampleReq(tickTime(i), pt("a", val["a"](i)), pt("b", val["b"](i)), pt("c", val["c"](i)))}
		if i%10 == 0 {
			reqs = append(reqs, request{kind: reqResult, result: model.Result{Check: "web", Time: tickTime(i), State: model.StateUp}})
		}
		apply(t, db, reqs...)
		if i == 200 {
			check(db, 201)
		}
	}
	check(db, 400)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	checkFile(t, path)
	rawBolt(t, path, func(tx *bolt.Tx) error {
		if v := tx.Bucket(bMeta).Get(kSchema); binary.BigEndian.Uint32(v) != SchemaVersion {
			t.Errorf("schema after migration = %x, want %d", v, SchemaVersion)
		}
		return nil
	})
	db, err = Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	check(db, 400)
}

// TestTick_Pages pins the point of the log: a plain tick dirties a handful
// of pages whatever the number of series. (The tick that closes a minute
// also rewrites the minute rollup chunks, once a minute, as before.)
func TestTick_Pages(t *testing.T) {
	for _, n := range []int{30, 300} {
		clk := newClock(base)
		db, _ := openTest(t, testOptions(clk))
		wl := newWorkload(n)
		apply(t, db, sampleReq(base, wl.sample(base).Points...)) // register
		var writes []int64
		for i := 1; i < 100; i++ { // inside one raw window: no fold
			at := base.Add(time.Duration(i) * time.Second)
			st := db.bolt.Stats().TxStats
			before := st.GetWrite()
			apply(t, db, request{kind: reqSample, sample: wl.sample(at)},
				request{kind: reqResult, result: model.Result{Check: "c" + strconv.Itoa(i%20), Time: at, State: model.StateUp}})
			st = db.bolt.Stats().TxStats
			writes = append(writes, st.GetWrite()-before)
		}
		slices.Sort(writes)
		if p50 := writes[len(writes)/2]; p50 > 6 {
			t.Errorf("%d series: a tick wrote %d pages (median); want a handful", n, p50)
		}
		t.Logf("%d series, 1 result per tick: page writes per tick (meta included) median %d, max %d", n, writes[len(writes)/2], writes[len(writes)-1])
	}
}
