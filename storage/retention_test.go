package storage

import (
	"testing"
	"time"

	"github.com/dashd/dashd/model"
	bolt "go.etcd.io/bbolt"
)

// keysOf lists the times (ms) of the chunk keys of a series bucket.
func keysOf(t *testing.T, db *DB, bucket []byte) []int64 {
	t.Helper()
	var out []int64
	err := db.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucket).ForEach(func(k, _ []byte) error {
			out = append(out, getTime(k))
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRetention_RemovesExactlyWhatIsOld(t *testing.T) {
	clk := newClock(base)
	opts := testOptions(clk)
	opts.Retention = Retention{Raw: 10 * time.Minute, Minute: 3 * time.Hour, Hour: 2 * 24 * time.Hour,
		Results: time.Hour, Events: time.Hour, Chat: time.Hour, Notifications: time.Hour}
	db, _ := openTest(t, opts)

	// 4 days of one sample per 30 s for 3 series, results per minute, and an
	// event, a chat message and a notification per hour.
	end := base.Add(4 * 24 * time.Hour)
	var reqs []request
	for at := base; at.Before(end); at = at.Add(30 * time.Second) {
		reqs = append(reqs, sampleReq(at, pt("a", 1), pt("b", 2), pt("c", 3)))
		if at.Second() == 0 {
			reqs = append(reqs, request{kind: reqResult, result: model.Result{Check: "web", Time: at, State: model.StateUp}})
		}
		if at.Minute() == 0 && at.Second() == 0 {
			reqs = append(reqs,
				request{kind: reqEvent, event: model.Event{Time: at, Kind: model.EventCheck}},
				request{kind: reqChat, chat: model.ChatMessage{Time: at, Room: "ops", Text: "hi"}},
				request{kind: reqNotification, notif: model.Notification{Time: at, Title: "t"}})
		}
	}
	// A series that stopped reporting 3 days ago disappears entirely.
	reqs = append([]request{sampleReq(base.Add(-time.Hour), pt("gone", 1))}, reqs...)
	apply(t, db, reqs...)

	clk.Set(end)
	now := end.UnixMilli()
	// Tiny budget: many bounded transactions, many Delete+Seek cycles.
	steps := 0
	for {
		more, err := db.retentionStep(97)
		if err != nil {
			t.Fatal(err)
		}
		steps++
		if !more {
			break
		}
	}
	t.Logf("retention took %d bounded transactions", steps)

	tests := []struct {
		bucket []byte
		width  int64
		keep   time.Duration
	}{
		{bRaw, rawChunkMs, opts.Retention.Raw},
		{bMinute, tierMinute.chunkMs, opts.Retention.Minute},
		{bHour, tierHour.chunkMs, opts.Retention.Hour},
	}
	for _, tt := range tests {
		cutoff := now - tt.keep.Milliseconds()
		keys := keysOf(t, db, tt.bucket)
		if len(keys) == 0 {
			t.Fatalf("%s: everything deleted", tt.bucket)
		}
		// Oldest kept chunk is exactly the one containing the cutoff.
		if want := floorTo(cutoff, tt.width); keys[0] != want {
			t.Errorf("%s: oldest chunk %v, want %v", tt.bucket, msTime(keys[0]), msTime(want))
		}
		// Nothing newer was touched: one chunk per window per live series.
		wantN := int((floorTo(now-1, tt.width)-floorTo(cutoff, tt.width))/tt.width+1) * 3
		if string(tt.bucket) == string(bRaw) {
			wantN -= 3 // the open window's points are still in the log
		}
		if len(keys) != wantN {
			t.Errorf("%s: %d chunks left, want %d", tt.bucket, len(keys), wantN)
		}
	}
	// Results: chunks of 10 minutes; the cutoff is one hour back.
	rs, err := db.Results("web", base, end, 0)
	if err != nil {
		t.Fatal(err)
	}
	if cut := end.Add(-time.Hour); len(rs) == 0 || rs[0].Time.Before(cut.Add(-10*time.Minute)) || rs[0].Time.After(cut) {
		t.Errorf("oldest kept result %v, want within the chunk holding %v", rs[0].Time, cut)
	}
	if len(rs) != 60 {
		t.Errorf("%d results left, want 60", len(rs))
	}
	// Events, chat, notifications: exactly those at or after the cutoff.
	evs, _ := db.Events(0, 1000)
	chat, _ := db.ChatLatest("ops", 1000)
	ns, _ := db.Notifications("s", 1000)
	if len(evs) != 1 || len(chat) != 1 || len(ns) != 1 || !evs[0].Time.Equal(end.Add(-time.Hour)) {
		t.Errorf("kept %d events, %d chat messages, %d notifications; want 1 each (the one at the cutoff)", len(evs), len(chat), len(ns))
	}
	names, _ := db.SeriesNames()
	if len(names) != 3 {
		t.Errorf("series after retention = %v, want a b c", names)
	}
	// Hourly uptime goes with results; daily with the hour tier.
	if u, _ := db.Uptime("web", 30*24*time.Hour); u.Known() != 2*24*60 {
		t.Errorf("daily uptime buckets kept %d results, want %d (days 2 and 3)", u.Known(), 2*24*60)
	}
	if u, _ := db.Uptime("web", 24*time.Hour); u.Known() != 60 {
		t.Errorf("hourly uptime buckets kept %d results, want 60 (the last hour)", u.Known())
	}
}

func TestRetention_SizeFlat(t *testing.T) {
	clk := newClock(base)
	opts := testOptions(clk)
	opts.Retention = Retention{Raw: 30 * time.Minute, Minute: 2 * time.Hour, Hour: 6 * time.Hour,
		Results: time.Hour, Events: time.Hour, Chat: time.Hour, Notifications: time.Hour}
	db, _ := openTest(t, opts)

	// Three simulated days: every tier's window (the day-wide chunks of the
	// hour tier included) is reached during day 1, so days 2 and 3 must
	// reuse freed pages instead of growing the file.
	var sizes []int64
	at := base
	for hour := 0; hour < 72; hour++ {
		var reqs []request
		for i := 0; i < 180; i++ { // one sample per 20 s of 20 series
			pts := make([]model.Point, 20)
			for j := range pts {
				pts[j] = pt("s"+string(rune('A'+j)), float64((i*j)%50)/3)
			}
			reqs = append(reqs, sampleReq(at, pts...))
			reqs = append(reqs, request{kind: reqResult, result: model.Result{Check: "web", Time: at, State: model.StateUp, Values: map[string]float64{"status": 200}}})
			at = at.Add(20 * time.Second)
		}
		apply(t, db, reqs...)
		clk.Set(at)
		if err := db.RunRetention(); err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, usedSize(t, db))
	}
	peak := func(from, to int) int64 {
		m := int64(0)
		for _, s := range sizes[from:to] {
			m = max(m, s)
		}
		return m
	}
	day2, day3 := peak(24, 48), peak(48, 72)
	t.Logf("bytes in use (high-water page) per simulated hour: %v", sizes)
	t.Logf("peak bytes in use: day 1 %d, day 2 %d, day 3 %d", peak(0, 24), day2, day3)
	if float64(day3) > 1.05*float64(day2) {
		t.Errorf("file grew from %d (day 2) to %d (day 3) although retention applied", day2, day3)
	}
}

// usedSize is the high-water mark of pages in use (the file itself grows in
// 16 MiB steps, too coarse to show a plateau in a small test).
func usedSize(t testing.TB, db *DB) int64 {
	var n int64
	if err := db.view(func(tx *bolt.Tx) error { n = tx.Size(); return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}
