package storage

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
	bolt "go.etcd.io/bbolt"
)

var (
	simDays   = flag.Int("simdays", 90, "simulated days for BenchmarkSimulate")
	simSeries = flag.Int("simseries", 200, "series for BenchmarkSimulate")
	simKeep   = flag.String("simkeep", "", "BenchmarkSimulate copies its database to this file")
	bigFile   = flag.String("bigfile", "", "database file (e.g. from -simkeep) for BenchmarkBigFile")
)

// workload produces plausible dashboard values: a quarter of the series are
// near-constant (totals, counts), a quarter drift slowly (memory, disk),
// a quarter are percentages with one decimal (CPU), a quarter are noisy
// full-precision rates (network, I/O): the incompressible case.
type workload struct {
	names []string
	rng   *rand.Rand
	state []float64
}

func newWorkload(n int) *workload {
	w := &workload{rng: rand.New(rand.NewPCG(7, 9)), state: make([]float64, n)}
	for i := 0; i < n; i++ {
		w.names = append(w.names, model.SeriesKey("metric"+strconv.Itoa(i%25), "kind", strconv.Itoa(i%4), "n", strconv.Itoa(i)))
		w.state[i] = float64(1+i) * 1e6
	}
	return w
}

func (w *workload) sample(at time.Time) model.Sample {
	pts := make([]model.Point, len(w.names))
	sec := float64(at.Unix())
	for i := range pts {
		var v float64
		switch i % 4 {
		case 0: // near-constant: steps now and then
			if w.rng.IntN(3600) == 0 {
				w.state[i] += 1
			}
			v = w.state[i]
		case 1: // slow drift, whole kilobytes
			w.state[i] += (w.rng.Float64() - 0.5) * 4096
			v = math.Round(w.state[i]/1024) * 1024
		case 2: // percentage with one decimal
			v = math.Round((30+20*math.Sin(sec/3600+float64(i))+w.rng.NormFloat64()*3)*10) / 10
		default: // noisy rate
			v = math.Abs(5e5 + 2e5*math.Sin(sec/600) + w.rng.NormFloat64()*5e4)
		}
		pts[i] = model.Point{Series: w.names[i], Value: v}
	}
	return model.Sample{Time: at, Points: pts}
}

// BenchmarkIngest measures one transaction per 1 s tick of 200 series,
// with the default fsync per commit, through the writer's commit path.
func BenchmarkIngest(b *testing.B) {
	clk := newClock(base)
	db, _ := openTest(b, testOptions(clk))
	wl := newWorkload(200)
	at := base
	// Warm up: register the series, fill the open chunks.
	apply(b, db, sampleReq(at, wl.sample(at).Points...))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		at = at.Add(time.Second)
		if err := db.commit([]*request{{kind: reqSample, sample: wl.sample(at)}}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*200)/b.Elapsed().Seconds(), "points/s")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/tick")
}

// fill writes hours of 1 s samples of wl in large transactions.
func fill(b *testing.B, db *DB, wl *workload, from time.Time, hours int) time.Time {
	at := from
	for h := 0; h < hours; h++ {
		reqs := make([]request, 0, 3600)
		for i := 0; i < 3600; i++ {
			reqs = append(reqs, request{kind: reqSample, sample: wl.sample(at)})
			at = at.Add(time.Second)
		}
		apply(b, db, reqs...)
	}
	return at
}

// BenchmarkRange measures chart queries at 300 points on 25 h of 1 s data.
func BenchmarkRange(b *testing.B) {
	clk := newClock(base)
	db, _ := openTest(b, testOptions(clk))
	wl := newWorkload(20)
	end := fill(b, db, wl, base, 25)
	clk.Set(end)
	for _, tc := range []struct {
		name string
		span time.Duration
		tier Tier
	}{{"24h", 24 * time.Hour, TierMinute}, {"1h", time.Hour, TierRaw}, {"5m", 5 * time.Minute, TierRaw}} {
		b.Run(tc.name, func(b *testing.B) {
			from := end.Add(-tc.span)
			if got := db.ChooseTier(from, end, 300); got != tc.tier {
				b.Fatalf("tier %v, want %v", got, tc.tier)
			}
			for i := 0; i < b.N; i++ {
				pts, err := db.Range(wl.names[i%20], from, end, 300)
				if err != nil || len(pts) == 0 {
					b.Fatal(len(pts), err)
				}
			}
		})
	}
}

// spread is a plausible spread (min..max inside a minute or hour) of
// series i around v, so rollups compress like real ones.
func (w *workload) rollup(i int, start int64, v float64, count uint32) rollup {
	var d float64
	switch i % 4 {
	case 0:
	case 1:
		d = 2048 + w.rng.Float64()*4096
	case 2:
		d = math.Round((5+w.rng.Float64()*5)*10) / 10
	default:
		d = 1e5 + w.rng.Float64()*5e4
	}
	lo, hi := v-d*w.rng.Float64(), v+d*w.rng.Float64()
	return rollup{start: start, count: count, min: lo, max: hi, avg: v, last: lo + (hi-lo)*w.rng.Float64()}
}

// BenchmarkSimulate builds the database of -simdays (default 90) days of
// dashd at the default retention: -simseries (200) series and 20 checks
// every 30 s, with a retention pass every simulated 6 hours. The last 25
// hours go through the writer at one sample per second (so the raw tier and
// the open chunks are exactly what 1 s ticks leave); before that, to finish
// in about a minute, the minute and hour tiers are written as whole chunks of
// synthetic rollups with realistic spreads (the rollup path itself is
// covered by the tests). Results go through the writer for all days.
// It reports the file size and logs the bytes in use every 10 days.
func BenchmarkSimulate(b *testing.B) {
	if b.N > 1 {
		b.Skip("one simulation is enough")
	}
	clk := newClock(base)
	db, _ := openTest(b, testOptions(clk))
	db.bolt.NoSync = true // the size does not depend on fsync; the run time does
	wl := newWorkload(*simSeries)
	end := base.Add(time.Duration(*simDays) * 24 * time.Hour)
	rawFrom := end.Add(-25 * time.Hour).Truncate(time.Hour)
	apply(b, db, request{kind: reqSample, sample: wl.sample(base.Add(-time.Second))}) // register the series
	ids := make([]uint32, len(wl.names))
	for i, n := range wl.names {
		ids[i] = db.w.series[n].id
	}
	checks := make([]string, 20)
	for i := range checks {
		checks[i] = "check-" + strconv.Itoa(i)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	nextResult := base
	resultsUpTo := func(at time.Time, reqs []request) []request {
		for ; nextResult.Before(at); nextResult = nextResult.Add(30 * time.Second) {
			for _, c := range checks {
				st, reason := model.StateUp, ""
				if rng.IntN(500) == 0 {
					st, reason = model.StateDown, "connect: connection refused"
				}
				reqs = append(reqs, request{kind: reqResult, result: model.Result{
					Check: c, Time: nextResult.Add(time.Duration(rng.IntN(200)) * time.Millisecond), State: st, Reason: reason,
					Latency: time.Duration(20+rng.IntN(30)) * time.Millisecond, Values: map[string]float64{"status": 200},
				}})
			}
		}
		return reqs
	}
	// synthHour writes the minute chunk of every series for the hour at
	// hs, and at the end of a day the day's hour chunk.
	synthHour := func(hs time.Time) {
		err := db.update(func(tx *bolt.Tx) error {
			m1, h1 := tx.Bucket(bMinute), tx.Bucket(bHour)
			m1.FillPercent, h1.FillPercent = 1, 1
			mins := make([]model.Sample, 60)
			for m := range mins {
				mins[m] = wl.sample(hs.Add(time.Duration(m) * time.Minute))
			}
			for i := range wl.names {
				rs := make([]rollup, 60)
				for m := range rs {
					rs[m] = wl.rollup(i, mins[m].Time.UnixMilli(), mins[m].Points[i].Value, 60)
				}
				cs := hs.UnixMilli()
				if err := m1.Put(chunkKey(cs, ids[i]), encodeRollups(minuteMs, cs, rs)); err != nil {
					return err
				}
			}
			if hs.Hour() != 23 {
				return nil
			}
			day := hs.Truncate(24 * time.Hour)
			hours := make([]model.Sample, 24)
			for h := range hours {
				hours[h] = wl.sample(day.Add(time.Duration(h) * time.Hour))
			}
			for i := range wl.names {
				rs := make([]rollup, 24)
				for h := range rs {
					rs[h] = wl.rollup(i, hours[h].Time.UnixMilli(), hours[h].Points[i].Value, 3600)
				}
				if err := h1.Put(chunkKey(day.UnixMilli(), ids[i]), encodeRollups(hourMs, day.UnixMilli(), rs)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now()
	for at := base; at.Before(end); {
		next := at.Add(time.Hour)
		var reqs []request
		if at.Before(rawFrom) {
			synthHour(at)
		} else {
			for t := at; t.Before(next); t = t.Add(time.Second) {
				reqs = append(reqs, request{kind: reqSample, sample: wl.sample(t)})
			}
		}
		at = next
		apply(b, db, resultsUpTo(at, reqs)...)
		clk.Set(at)
		if at.Sub(base)%(6*time.Hour) == 0 {
			if err := db.RunRetention(); err != nil {
				b.Fatal(err)
			}
		}
		if d := at.Sub(base); d%(10*24*time.Hour) == 0 {
			fs, _ := db.Size()
			b.Logf("day %3d: %6.1f MB in use, file %6.1f MB (%s elapsed)", int(d.Hours()/24), mb(usedSize(b, db)), mb(fs), time.Since(start).Round(time.Second))
		}
	}
	if err := db.RunRetention(); err != nil {
		b.Fatal(err)
	}
	fs, _ := db.Size()
	used := usedSize(b, db)
	b.Logf("end (day %d): %.1f MB in use, file %.1f MB;%s", *simDays, mb(used), mb(fs), breakdown(b, db))
	b.ReportMetric(mb(fs), "file_MB")
	b.ReportMetric(mb(used), "used_MB")
	if *simKeep != "" {
		if err := db.bolt.View(func(tx *bolt.Tx) error { return tx.CopyFile(*simKeep, 0o600) }); err != nil {
			b.Fatal(err)
		}
	}
}

func mb(n int64) float64 { return float64(n) / (1 << 20) }

// breakdown sums key+value bytes per root bucket.
func breakdown(b *testing.B, db *DB) string {
	out := ""
	for _, name := range [][]byte{bRaw, bMinute, bHour, bResults, bUptime, bHeads, bLog} {
		var sum int64
		var n int
		err := db.view(func(tx *bolt.Tx) error {
			return walk(tx.Bucket(name), func(k, v []byte) { sum += int64(len(k) + len(v)); n++ })
		})
		if err != nil {
			b.Fatal(err)
		}
		out += fmt.Sprintf(" %s=%.1fMB/%d keys", name, mb(sum), n)
	}
	return out
}

// walk visits every key/value below b, nested buckets included.
func walk(b *bolt.Bucket, fn func(k, v []byte)) error {
	return b.ForEach(func(k, v []byte) error {
		if v == nil {
			return walk(b.Bucket(k), fn)
		}
		fn(k, v)
		return nil
	})
}

// BenchmarkTick measures what one realistic 1 s tick costs the disk: 90
// series with one point each and 2 check results (20 checks every 10 s)
// committed in one transaction, as Run does. It reports bbolt's counters per
// commit: writes/tick is the number of pwrite calls (one per dirty page, the
// freelist and the meta page included), pages/tick the pages allocated.
// The mean includes the ticks that close a minute or a 2-minute raw window;
// writes/tick_p50 is a plain tick. Every commit is fsynced.
func BenchmarkTick(b *testing.B) {
	clk := newClock(base)
	db, _ := openTest(b, testOptions(clk))
	wl := newWorkload(90)
	checks := make([]string, 20)
	for i := range checks {
		checks[i] = "check-" + strconv.Itoa(i)
	}
	tick := 0
	at := base
	next := func() []request {
		reqs := []request{{kind: reqSample, sample: wl.sample(at)}}
		for j := 0; j < 2; j++ {
			c := checks[(2*tick+j)%len(checks)]
			reqs = append(reqs, request{kind: reqResult, result: model.Result{
				Check: c, Time: at.Add(time.Duration(j) * time.Millisecond), State: model.StateUp,
				Latency: 30 * time.Millisecond, Values: map[string]float64{"status": 200},
			}})
		}
		tick++
		at = at.Add(time.Second)
		clk.Set(at)
		return reqs
	}
	// Warm up with 10 minutes of ticks, one commit each (without fsync, to
	// be quick): the buckets reach their steady shape.
	db.bolt.NoSync = true
	for i := 0; i < 600; i++ {
		apply(b, db, next()...)
	}
	db.bolt.NoSync = false
	writes := make([]int64, 0, b.N)
	var sumW, sumP int64
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		before := db.bolt.Stats().TxStats
		if err := db.commit(ptrs(next())); err != nil {
			b.Fatal(err)
		}
		after := db.bolt.Stats().TxStats
		w := after.GetWrite() - before.GetWrite()
		writes = append(writes, w)
		sumW += w
		sumP += after.GetPageCount() - before.GetPageCount()
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu_us/tick")
	slices.Sort(writes)
	b.ReportMetric(float64(sumW)/float64(b.N), "writes/tick")
	b.ReportMetric(float64(sumP)/float64(b.N), "pages/tick")
	b.ReportMetric(float64(writes[len(writes)/2]), "writes/tick_p50")
	b.ReportMetric(float64(writes[len(writes)-1]), "writes/tick_max")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/tick")
}

// BenchmarkBigFile measures, on a copy of -bigfile (a large database, e.g.
// written by BenchmarkSimulate -simkeep), what bbolt's NoFreelistSync
// trades: Open must rebuild the freelist by scanning every page of the file
// (time, and file pages mapped in: VmRSS), while without it every commit
// rewrites the freelist. Skipped without -bigfile.
func BenchmarkBigFile(b *testing.B) {
	if *bigFile == "" {
		b.Skip("needs -bigfile")
	}
	for _, tc := range []struct {
		name   string
		noSync bool
	}{{"freelist-synced", false}, {"NoFreelistSync", true}} {
		b.Run(tc.name, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "big.db")
			src, err := os.ReadFile(*bigFile)
			if err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(path, src, 0o600); err != nil {
				b.Fatal(err)
			}
			src = nil
			runtime.GC()
			debug.FreeOSMemory()
			// Put the file in the state the setting leaves it in: with or
			// without a freelist page.
			bdb, err := bolt.Open(path, 0o600, &bolt.Options{NoFreelistSync: tc.noSync, FreelistType: bolt.FreelistMapType})
			if err != nil {
				b.Fatal(err)
			}
			if err := bdb.Update(func(tx *bolt.Tx) error { return nil }); err != nil {
				b.Fatal(err)
			}
			if err := bdb.Close(); err != nil {
				b.Fatal(err)
			}
			end := time.Now() // the file's clock does not matter here
			clk := newClock(end)
			opts := testOptions(clk)
			opts.InitialMmapSize = 256 << 20
			// bbolt's Open alone: the part the setting changes (storage's
			// own Open work, the log replay, is the same for both).
			var openTotal time.Duration
			var rss int64
			for i := 0; i < 5; i++ {
				before := vmRSS()
				t0 := time.Now()
				bdb, err := bolt.Open(path, 0o600, &bolt.Options{NoFreelistSync: tc.noSync, FreelistType: bolt.FreelistMapType, InitialMmapSize: 256 << 20})
				if err != nil {
					b.Fatal(err)
				}
				openTotal += time.Since(t0)
				rss = max(rss, vmRSS()-before)
				if err := bdb.Close(); err != nil {
					b.Fatal(err)
				}
			}
			db, err := Open(path, opts)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			db.bolt.NoFreelistSync = tc.noSync
			wl := newWorkload(90)
			var names []string
			_ = db.view(func(tx *bolt.Tx) error {
				return tx.Bucket(bSeries).ForEach(func(k, _ []byte) error { names = append(names, string(k)); return nil })
			})
			copy(wl.names, names) // existing series: no registrations
			var lastT int64
			for _, st := range db.w.series {
				lastT = max(lastT, st.head.lastT)
			}
			at := msTime(lastT).Add(time.Second)
			b.ResetTimer()
			var sumW int64
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				st := db.bolt.Stats().TxStats
				w0 := st.GetWrite()
				if err := db.commit([]*request{{kind: reqSample, sample: wl.sample(at)}}); err != nil {
					b.Fatal(err)
				}
				st = db.bolt.Stats().TxStats
				sumW += st.GetWrite() - w0
				at = at.Add(time.Second)
			}
			b.StopTimer()
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu_us/tick")
			fs, _ := db.Size()
			b.ReportMetric(float64(openTotal.Microseconds())/5000, "open_ms")
			b.ReportMetric(float64(rss)/(1<<20), "open_rss_MB")
			b.ReportMetric(float64(sumW)/float64(b.N), "writes/tick")
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/tick")
			b.Logf("%s: file %.1f MB, %d free pages", tc.name, mb(fs), db.bolt.Stats().FreePageN)
		})
	}
}

// vmRSS returns the resident set size of this process in bytes (0 where
// /proc is missing).
func vmRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// cpuTime returns the user plus system CPU time of this process.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
