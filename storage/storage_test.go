package storage

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
)

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, db *DB, clk *fakeClock)
	}{
		{"sample", func(t *testing.T, db *DB, clk *fakeClock) {
			for i := 0; i < 5; i++ {
				s := model.Sample{Time: base.Add(time.Duration(i) * time.Second), Points: []model.Point{
					pt("cpu.total", 10+float64(i)), pt(model.SeriesKey("disk.used", "mount", "/"), 0.25*float64(i)),
				}}
				if err := db.WriteSample(s); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.Flush(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			got, err := db.Range("cpu.total", base, base.Add(time.Minute), 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 5 {
				t.Fatalf("got %d points, want 5: %v", len(got), got)
			}
			for i, p := range got {
				want := 10 + float64(i)
				if !p.Time.Equal(base.Add(time.Duration(i)*time.Second)) || p.Value != want || p.Min != want || p.Max != want {
					t.Errorf("point %d = %+v, want %v at %v", i, p, want, base.Add(time.Duration(i)*time.Second))
				}
			}
			names, err := db.SeriesNames()
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"cpu.total", "disk.used{mount=/}"}; !reflect.DeepEqual(names, want) {
				t.Errorf("SeriesNames = %v, want %v", names, want)
			}
		}},
		{"result", func(t *testing.T, db *DB, clk *fakeClock) {
			in := []model.Result{
				{Check: "web", Time: base, State: model.StateUp, Latency: 12345678 * time.Nanosecond, Values: map[string]float64{"status": 200, "cert_days": 41.5}},
				{Check: "web", Time: base.Add(30 * time.Second), State: model.StateDown, Latency: 0, Reason: "HTTP 503", Values: map[string]float64{"status": 503}},
				{Check: "web", Time: base.Add(60 * time.Second), State: model.StateDown, Reason: "HTTP 503"},
				{Check: "web", Time: base.Add(90 * time.Second), State: model.StateDegraded, Reason: "slow"},
				{Check: "db", Time: base.Add(90 * time.Second), State: model.StateUnknown},
			}
			for _, r := range in {
				if err := db.WriteResult(r); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.Flush(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			got, err := db.Results("web", base, base.Add(time.Hour), 0)
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				got[i].Time = got[i].Time.UTC()
			}
			if !reflect.DeepEqual(got, in[:4]) {
				t.Errorf("Results =\n%+v\nwant\n%+v", got, in[:4])
			}
			last, err := db.LastResults("web", 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(last) != 2 || last[0].Reason != "slow" || last[1].Reason != "HTTP 503" {
				t.Errorf("LastResults = %+v", last)
			}
			clk.Set(base.Add(2 * time.Minute))
			u, err := db.Uptime("web", 24*time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if want := (UptimeStats{Up: 1, Degraded: 1, Down: 2}); u != want {
				t.Errorf("Uptime = %+v, want %+v", u, want)
			}
			if a := u.Availability(); a != 0.5 {
				t.Errorf("Availability = %v, want 0.5", a)
			}
		}},
		{"event", func(t *testing.T, db *DB, clk *fakeClock) {
			e, err := db.AddEvent(ctxT(t), model.Event{Time: base, Kind: model.EventCheck, Check: "web", From: model.StateUp, To: model.StateDown, Reason: "HTTP 503"})
			if err != nil {
				t.Fatal(err)
			}
			if e.ID == 0 {
				t.Fatal("AddEvent returned ID 0")
			}
			if err := db.AppendEvent(model.Event{Kind: model.EventStart}); err != nil {
				t.Fatal(err)
			}
			if err := db.Flush(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			got, err := db.Events(0, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || got[0].Kind != model.EventStart || !got[0].Time.Equal(clk.Now()) || got[0].ID <= e.ID {
				t.Fatalf("Events = %+v", got)
			}
			got[1].Time = got[1].Time.UTC()
			if !reflect.DeepEqual(got[1], e) {
				t.Errorf("event = %+v, want %+v", got[1], e)
			}
		}},
		{"notification", func(t *testing.T, db *DB, clk *fakeClock) {
			var ids []uint64
			for i, title := range []string{"web down", "web up", "disk full"} {
				n, err := db.AddNotification(ctxT(t), model.Notification{Time: base.Add(time.Duration(i) * time.Second), Title: title, Body: "b" + title, Level: model.StateDown, Check: "web"})
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, n.ID)
			}
			if err := db.MarkNotificationsRead(ctxT(t), "s1", ids[1]); err != nil {
				t.Fatal(err)
			}
			got, err := db.Notifications("s1", 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 3 || got[0].Title != "disk full" || got[0].Read || !got[1].Read || !got[2].Read || got[2].Body != "bweb down" {
				t.Errorf("Notifications(s1) = %+v", got)
			}
			for _, tc := range []struct {
				session string
				want    int
			}{{"s1", 1}, {"s2", 3}} {
				if n, err := db.UnreadCount(tc.session); err != nil || n != tc.want {
					t.Errorf("UnreadCount(%s) = %d, %v; want %d", tc.session, n, err, tc.want)
				}
			}
			// Marks only move forward; 0 marks everything.
			if err := db.MarkNotificationsRead(ctxT(t), "s1", ids[0]); err != nil {
				t.Fatal(err)
			}
			if n, _ := db.UnreadCount("s1"); n != 1 {
				t.Errorf("UnreadCount after marking an older ID = %d, want 1", n)
			}
			if err := db.MarkNotificationsRead(ctxT(t), "s2", 0); err != nil {
				t.Fatal(err)
			}
			if n, _ := db.UnreadCount("s2"); n != 0 {
				t.Errorf("UnreadCount after marking all = %d, want 0", n)
			}
		}},
		{"chat", func(t *testing.T, db *DB, clk *fakeClock) {
			var want []model.ChatMessage
			for i := 0; i < 5; i++ {
				room := "ops"
				if i == 2 {
					room = "dev"
				}
				m, err := db.AddChat(ctxT(t), model.ChatMessage{Time: base.Add(time.Duration(i) * time.Second), Room: room, Author: "ann", Text: "hello ünïcode " + string(rune('a'+i))})
				if err != nil {
					t.Fatal(err)
				}
				if room == "ops" {
					want = append(want, m)
				}
			}
			got, err := db.ChatLatest("ops", 3)
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				got[i].Time = got[i].Time.UTC()
			}
			if !reflect.DeepEqual(got, want[1:]) {
				t.Errorf("ChatLatest =\n%+v\nwant\n%+v", got, want[1:])
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock(base)
			db, _ := openTest(t, testOptions(clk))
			runWriter(t, db)
			tt.run(t, db, clk)
		})
	}
}

func TestEvents_Paging(t *testing.T) {
	db, _ := openTest(t, testOptions(newClock(base)))
	for i := 0; i < 25; i++ {
		apply(t, db, request{kind: reqEvent, event: model.Event{Time: base.Add(time.Duration(i) * time.Second), Kind: model.EventReload}})
	}
	var seen []uint64
	before := uint64(0)
	for {
		page, err := db.Events(before, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			seen = append(seen, e.ID)
		}
		before = page[len(page)-1].ID
	}
	if len(seen) != 25 {
		t.Fatalf("paged %d events, want 25", len(seen))
	}
	for i, id := range seen {
		if id != uint64(25-i) {
			t.Fatalf("page order %v", seen)
		}
	}
}

// rollupsOf reads the stored rollups of a tier (closed ones and the open one).
func rollupsOf(t *testing.T, db *DB, series string, tier Tier, from, to time.Time) []rollup {
	t.Helper()
	rs, err := db.readTier(series, tier, from.UnixMilli(), to.UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestRollup_Arithmetic(t *testing.T) {
	db, _ := openTest(t, testOptions(newClock(base)))
	// Minute 0: values 1..60 (one per second). Minute 1: 10 points of 100 then
	// one of -5. Minute 2: a single point, which closes minute 1.
	var reqs []request
	for i := 0; i < 60; i++ {
		reqs = append(reqs, sampleReq(base.Add(time.Duration(i)*time.Second), pt("x", float64(i+1))))
	}
	for i := 0; i < 10; i++ {
		reqs = append(reqs, sampleReq(base.Add(time.Minute+time.Duration(i)*time.Second), pt("x", 100)))
	}
	reqs = append(reqs, sampleReq(base.Add(time.Minute+30*time.Second), pt("x", -5)))
	apply(t, db, reqs...)
	apply(t, db, sampleReq(base.Add(2*time.Minute), pt("x", 7)))

	got := rollupsOf(t, db, "x", TierMinute, base, base.Add(time.Hour))
	want := []rollup{
		{start: base.UnixMilli(), count: 60, min: 1, max: 60, avg: 30.5, last: 60},
		{start: base.Add(time.Minute).UnixMilli(), count: 11, min: -5, max: 100, avg: roundRollup(995.0 / 11), last: -5},
		{start: base.Add(2 * time.Minute).UnixMilli(), count: 1, min: 7, max: 7, avg: 7, last: 7}, // open minute, from the head
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("minute rollups =\n%+v\nwant\n%+v", got, want)
	}
	// The hour is still open: it aggregates all 72 points at full precision.
	hr := rollupsOf(t, db, "x", TierHour, base, base.Add(time.Hour))
	wantAvg := (1830.0 + 995 + 7) / 72
	if len(hr) != 1 || hr[0].count != 72 || hr[0].min != -5 || hr[0].max != 100 || math.Abs(hr[0].avg-wantAvg) > 1e-9 || hr[0].last != 7 {
		t.Errorf("open hour = %+v, want count 72 min -5 max 100 avg %v last 7", hr, wantAvg)
	}
	// A point in the next hour closes the hour into the hour tier.
	apply(t, db, sampleReq(base.Add(time.Hour+time.Second), pt("x", 1)))
	hr = rollupsOf(t, db, "x", TierHour, base, base.Add(time.Hour-time.Millisecond))
	if len(hr) != 1 || hr[0].count != 72 || hr[0].avg != roundRollup(wantAvg) {
		t.Errorf("closed hour = %+v", hr)
	}
	// Range over the minute tier downsamples count-weighted.
	pts, err := db.Range("x", base, base.Add(2*time.Minute+59*time.Second), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 1 || pts[0].Min != -5 || pts[0].Max != 100 {
		t.Errorf("downsampled = %+v", pts)
	}
}

func TestRollup_SilentSeriesClosedBySweep(t *testing.T) {
	db, _ := openTest(t, testOptions(newClock(base)))
	apply(t, db, sampleReq(base, pt("a", 1), pt("b", 2)))
	apply(t, db, sampleReq(base.Add(90*time.Second), pt("a", 3))) // b silent
	if got := rollupsOf(t, db, "b", TierMinute, base, base.Add(time.Minute-time.Millisecond)); len(got) != 1 || got[0].count != 1 || got[0].avg != 2 {
		t.Errorf("b minute 0 = %+v, want one closed rollup of 2", got)
	}
}

func TestChooseTier(t *testing.T) {
	now := base.Add(100 * 24 * time.Hour)
	ret := DefaultOptions().Retention
	tests := []struct {
		name      string
		span      time.Duration
		ago       time.Duration // from = now - ago
		maxPoints int
		want      Tier
	}{
		{"1h at 300 points reads raw", time.Hour, time.Hour, 300, TierRaw},
		{"24h at 300 points reads minutes", 24 * time.Hour, 24 * time.Hour, 300, TierMinute},
		{"24h at 2000 points reads raw", 24 * time.Hour, 23 * time.Hour, 2000, TierRaw},
		{"7d at 300 points reads minutes", 7 * 24 * time.Hour, 7 * 24 * time.Hour, 300, TierMinute},
		{"30d at 300 points reads hours", 30 * 24 * time.Hour, 30 * 24 * time.Hour, 300, TierHour},
		{"1h two days ago: raw expired, minutes", time.Hour, 48 * time.Hour, 300, TierMinute},
		{"1h 40 days ago: minutes expired, hours", time.Hour, 40 * 24 * time.Hour, 300, TierHour},
		{"no limit reads raw", time.Hour, time.Hour, 0, TierRaw},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from := now.Add(-tt.ago)
			if got := chooseTier(from, from.Add(tt.span), tt.maxPoints, now, ret); got != tt.want {
				t.Errorf("chooseTier = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRange_UsesChosenTier(t *testing.T) {
	clk := newClock(base.Add(3 * time.Hour))
	db, _ := openTest(t, testOptions(clk))
	var reqs []request
	for i := 0; i < 3*3600; i++ {
		reqs = append(reqs, sampleReq(base.Add(time.Duration(i)*time.Second), pt("s", float64(i%60))))
	}
	apply(t, db, reqs...)

	// 10 minutes at 600 points: raw, one point per second, min == max.
	raw, err := db.Range("s", base, base.Add(10*time.Minute-time.Second), 600)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != 600 || raw[5].Min != 5 || raw[5].Max != 5 {
		t.Errorf("raw range: %d points, p5 %+v", len(raw), raw[5])
	}
	// 3 hours at 100 points: minute tier; every minute holds 0..59.
	mins, err := db.Range("s", base, base.Add(3*time.Hour), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(mins) == 0 || len(mins) > 100 {
		t.Fatalf("minute range: %d points", len(mins))
	}
	for _, p := range mins[:len(mins)-1] {
		if p.Min != 0 || p.Max != 59 || p.Value != 29.5 {
			t.Fatalf("minute-tier point %+v, want min 0 max 59 avg 29.5", p)
		}
	}
	// Minute tier, no downsampling: one point per minute, aligned.
	all, err := db.Range("s", base, base.Add(2*time.Hour), 60)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) > 60 {
		t.Errorf("got %d points, want <= 60", len(all))
	}
	if unknown, err := db.Range("nope", base, base.Add(time.Hour), 10); err != nil || len(unknown) != 0 {
		t.Errorf("unknown series: %v, %v", unknown, err)
	}
}

func TestRestart_Continuity(t *testing.T) {
	clk := newClock(base)
	opts := testOptions(clk)
	db, path := openTest(t, opts)
	var reqs []request
	for i := 0; i < 90; i++ { // minute 0 and half of minute 1
		reqs = append(reqs, sampleReq(base.Add(time.Duration(i)*time.Second), pt("x", float64(i))))
	}
	apply(t, db, reqs...)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db2, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	reqs = nil
	for i := 90; i < 150; i++ { // rest of minute 1, half of minute 2
		reqs = append(reqs, sampleReq(base.Add(time.Duration(i)*time.Second), pt("x", float64(i))))
	}
	apply(t, db2, reqs...)
	got := rollupsOf(t, db2, "x", TierMinute, base, base.Add(time.Hour))
	if len(got) != 3 {
		t.Fatalf("rollups = %+v", got)
	}
	if m1 := got[1]; m1.count != 60 || m1.min != 60 || m1.max != 119 || m1.avg != 89.5 || m1.last != 119 {
		t.Errorf("minute 1 across the restart = %+v, want count 60 min 60 max 119 avg 89.5", m1)
	}
	// The raw chunk spanning the restart decodes to every point, in order.
	pts, err := db2.Range("x", base, base.Add(150*time.Second), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 150 {
		t.Fatalf("raw points = %d, want 150", len(pts))
	}
	for i, p := range pts {
		if p.Value != float64(i) || !p.Time.Equal(base.Add(time.Duration(i)*time.Second)) {
			t.Fatalf("raw point %d = %+v", i, p)
		}
	}
	// A duplicate tick (clock stepped back) is dropped, not stored twice.
	apply(t, db2, sampleReq(base.Add(100*time.Second), pt("x", 1e6)))
	if pts2, _ := db2.Range("x", base, base.Add(150*time.Second), 0); len(pts2) != 150 {
		t.Errorf("after an out-of-order sample: %d points, want 150", len(pts2))
	}
}

func TestUptime_Windows(t *testing.T) {
	now := base.Add(100*24*time.Hour + 12*time.Hour)
	clk := newClock(now)
	db, _ := openTest(t, testOptions(clk))
	// One result per hour for 100 days: down on every 4th hour.
	var reqs []request
	for h := 0; h < 100*24+12; h++ {
		st := model.StateUp
		if h%4 == 0 {
			st = model.StateDown
		}
		reqs = append(reqs, request{kind: reqResult, result: model.Result{Check: "web", Time: base.Add(time.Duration(h)*time.Hour + time.Minute), State: st}})
	}
	apply(t, db, reqs...)
	tests := []struct {
		window time.Duration
		want   uint64 // known results
	}{
		{time.Hour, 1}, {24 * time.Hour, 24}, {7 * 24 * time.Hour, 168},
		{30 * 24 * time.Hour, 30*24 + 12}, {90 * 24 * time.Hour, 90*24 + 12},
	}
	for _, tt := range tests {
		u, err := db.Uptime("web", tt.window)
		if err != nil {
			t.Fatal(err)
		}
		if u.Known() != tt.want {
			t.Errorf("Uptime(%v): %d results, want %d", tt.window, u.Known(), tt.want)
		}
		if tt.window >= 24*time.Hour && math.Abs(u.Availability()-0.75) > 0.01 {
			t.Errorf("Uptime(%v) availability %v, want ~0.75", tt.window, u.Availability())
		}
	}
	days, err := db.UptimeDaily("web", 90)
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != 90 || days[0].Known() != 24 || days[89].Known() != 12 || !days[89].Day.Equal(base.Add(100*24*time.Hour)) {
		t.Errorf("UptimeDaily: %d days, first %+v, last %+v", len(days), days[0], days[89])
	}
}

func TestClose_FlushesQueued(t *testing.T) {
	tests := []struct {
		name string
		run  bool
	}{{"without Run", false}, {"with Run", true}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock(base)
			opts := testOptions(clk)
			opts.FlushInterval = time.Hour // only Close can commit the lone results
			db, path := openTest(t, opts)
			if tt.run {
				runWriter(t, db)
				if err := db.Flush(ctxT(t)); err != nil { // Run is up once Flush answers
					t.Fatal(err)
				}
			}
			for i := 0; i < 500; i++ {
				at := base.Add(time.Duration(i) * time.Second)
				if err := db.WriteResult(model.Result{Check: "c", Time: at, State: model.StateUp}); err != nil {
					t.Fatal(err)
				}
				if err := db.WriteSample(model.Sample{Time: at, Points: []model.Point{pt("x", float64(i))}}); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.AppendEvent(model.Event{Kind: model.EventStop}); err != nil {
				t.Fatal(err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			if err := db.WriteSample(model.Sample{Time: base.Add(time.Hour), Points: []model.Point{pt("x", 1)}}); err != ErrClosed {
				t.Errorf("write after Close = %v, want ErrClosed", err)
			}
			db2, err := Open(path, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer db2.Close()
			rs, _ := db2.Results("c", base, base.Add(time.Hour), 0)
			pts, _ := db2.Range("x", base, base.Add(time.Hour), 0)
			evs, _ := db2.Events(0, 10)
			if len(rs) != 500 || len(pts) != 500 || len(evs) != 1 {
				t.Errorf("after Close: %d results, %d points, %d events; want 500, 500, 1", len(rs), len(pts), len(evs))
			}
		})
	}
}

func TestRun_TwiceAndAfterClose(t *testing.T) {
	db, _ := openTest(t, testOptions(newClock(base)))
	runWriter(t, db)
	if err := db.Flush(ctxT(t)); err != nil { // Run is up once Flush answers
		t.Fatal(err)
	}
	if err := db.Run(ctxT(t)); err != ErrRunning {
		t.Errorf("second Run = %v, want ErrRunning", err)
	}
}

// TestResults_MaintenanceLeftOutOfUptime: a result taken in maintenance is
// kept with its mark, before and after the fold, and does not count for
// uptime.
func TestResults_MaintenanceLeftOutOfUptime(t *testing.T) {
	now := time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)
	db, _ := openTest(t, testOptions(newClock(now)))
	runWriter(t, db)
	ctx := ctxT(t)
	for i, r := range []model.Result{
		{State: model.StateUp},
		{State: model.StateDown, Maintenance: true},
		{State: model.StateDown, Maintenance: true},
		{State: model.StateUp},
	} {
		r.Check, r.Time = "web", now.Add(time.Duration(i-4)*time.Minute)
		if err := db.WriteResult(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		u, err := db.Uptime("web", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if u.Known() != 2 || u.Availability() != 1 {
			t.Fatalf("%s: uptime %+v: want the 2 results outside maintenance, both up", when, u)
		}
		rs, err := db.Results("web", now.Add(-time.Hour), now, 10)
		if err != nil || len(rs) != 4 || !rs[1].Maintenance || rs[0].Maintenance || rs[1].State != model.StateDown {
			t.Fatalf("%s: results %+v, %v", when, rs, err)
		}
	}
	check("in the log")
	// A sample 3 minutes later opens a new raw window: the log folds.
	if err := db.WriteSample(model.Sample{Time: now.Add(3 * time.Minute), Points: []model.Point{{Series: "cpu.total", Value: 1}}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	check("folded")
}

// TestEvents_WhoAndWhere: the audit fields round-trip, and events written
// without them (as before they existed) read back as before.
func TestEvents_WhoAndWhere(t *testing.T) {
	now := time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)
	db, _ := openTest(t, testOptions(newClock(now)))
	runWriter(t, db)
	ctx := ctxT(t)
	if _, err := db.AddEvent(ctx, model.Event{Time: now, Kind: model.EventAudit, Reason: "signed in", User: "ann", Address: "192.0.2.7"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddEvent(ctx, model.Event{Time: now, Kind: model.EventStart, Reason: "started"}); err != nil {
		t.Fatal(err)
	}
	evs, err := db.Events(0, 10)
	if err != nil || len(evs) != 2 {
		t.Fatalf("events %v, %v", evs, err)
	}
	if evs[1].User != "ann" || evs[1].Address != "192.0.2.7" || evs[0].User != "" || evs[0].Reason != "started" {
		t.Fatalf("events %+v", evs)
	}
	if got := encodeEvent(model.Event{Time: now, Kind: "start", Reason: "x"}); len(got) != 8+2+1+5+1+0+1+1 {
		t.Fatalf("an event without who/where is %d bytes: the old layout must not grow", len(got))
	}
}
