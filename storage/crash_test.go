package storage

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
)

// Child processes: the test binary re-executed with these variables set.
const (
	envChildMode = "DASHD_STORAGE_CHILD"
	envChildPath = "DASHD_STORAGE_CHILD_PATH"
)

type child struct {
	cmd   *exec.Cmd
	out   *bufio.Reader
	ready string
}

// startChild re-executes the test binary as a child running mode on path
// and waits for its "ready" line.
func startChild(t *testing.T, mode, path string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), envChildMode+"="+mode, envChildPath+"="+path)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, out: bufio.NewReader(stdout)}
	t.Cleanup(func() { c.kill(t) })
	if c.ready = readLine(t, c.out, 60*time.Second); !strings.HasPrefix(c.ready, "ready") {
		t.Fatalf("child said %q, want ready", c.ready)
	}
	return c
}

// kill sends SIGKILL (no chance to clean up) and reaps the child.
func (c *child) kill(t *testing.T) {
	if c.cmd.ProcessState != nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	_ = c.cmd.Wait()
}

// TestHelperChild is not a test: it is the body of the child processes.
func TestHelperChild(t *testing.T) {
	mode := os.Getenv(envChildMode)
	if mode == "" {
		t.Skip("child process body; runs only when re-executed by another test")
	}
	path := os.Getenv(envChildPath)
	var now atomic.Int64
	now.Store(base.UnixNano())
	opts := testOptions(nil)
	opts.Clock = func() time.Time { return time.Unix(0, now.Load()) }
	opts.Timeout = 30 * time.Second
	opts.RetentionInterval = 20 * time.Millisecond
	opts.Retention = Retention{Raw: 30 * time.Minute, Minute: 6 * time.Hour, Hour: 3 * 24 * time.Hour,
		Results: 6 * time.Hour, Events: 24 * time.Hour, Chat: time.Hour, Notifications: time.Hour}
	db, err := Open(path, opts)
	if err != nil {
		fmt.Println("open failed:", err)
		os.Exit(1)
	}
	if mode == "hold" {
		fmt.Println("ready")
		time.Sleep(time.Hour) // until killed (select{} would trip the deadlock detector)
		os.Exit(0)
	}
	// mode "write": continue after the newest acknowledged tick.
	start := base
	if evs, err := db.Events(0, 1); err == nil && len(evs) == 1 {
		start = evs[0].Time.Add(time.Minute)
	}
	ctx := context.Background()
	go func() { _ = db.Run(ctx) }()
	fmt.Println("ready")
	for i := 0; ; i++ {
		at := start.Add(time.Duration(i) * 7 * time.Second)
		now.Store(at.UnixNano())
		pts := make([]model.Point, 50)
		for j := range pts {
			pts[j] = model.Point{Series: "s" + strconv.Itoa(j), Value: childValue(i, j)}
		}
		_ = db.WriteSample(model.Sample{Time: at, Points: pts})
		if i%3 == 0 {
			for c := 0; c < 5; c++ {
				_ = db.WriteResult(model.Result{Check: "c" + strconv.Itoa(c), Time: at, State: model.State(i % 4), Latency: time.Duration(i) * time.Millisecond, Reason: "r", Values: map[string]float64{"v": float64(i)}})
			}
		}
		if i%10 == 0 {
			_, _ = db.AddChat(ctx, model.ChatMessage{Room: "ops", Author: "bot", Text: strings.Repeat("x", i%300)})
			_, _ = db.AddNotification(ctx, model.Notification{Title: "n", Level: model.StateDown})
		}
		e, err := db.AddEvent(ctx, model.Event{Time: at, Kind: model.EventCheck, Check: "c0", Reason: strconv.Itoa(i)})
		if err != nil {
			fmt.Println("event failed:", err)
			os.Exit(1)
		}
		fmt.Printf("ack %d %d\n", e.ID, at.UnixMilli())
	}
}

// childValue is the value of series j at tick i of a child's run: known to
// the parent, and not always a float32 (the log keeps those in 8 bytes).
func childValue(i, j int) float64 { return float64(i*j%97) + float64(j%5)/10 }

func TestCrash_SIGKILLLoop(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary 20 times")
	}
	path := t.TempDir() + "/dashd.db"
	rng := rand.New(rand.NewPCG(1, 2))
	total := 0
	start := base // first tick of the next child (it continues after the newest event)
	for round := 0; round < 20; round++ {
		c := startChild(t, "write", path)
		// Let it commit a random number of ticks, then kill it mid-flight.
		want := 1 + rng.IntN(40)
		var ackID uint64
		var ackMs int64
		for n := 0; n < want; n++ {
			line := readLine(t, c.out, 60*time.Second)
			if _, err := fmt.Sscanf(line, "ack %d %d", &ackID, &ackMs); err != nil {
				t.Fatalf("round %d: child said %q", round, line)
			}
		}
		time.Sleep(time.Duration(rng.IntN(5)) * time.Millisecond)
		c.kill(t)
		total += want

		checkFile(t, path)
		opts := testOptions(nil)
		opts.Clock = func() time.Time { return time.UnixMilli(ackMs) }
		db, err := Open(path, opts)
		if err != nil {
			t.Fatalf("round %d: reopen after SIGKILL: %v", round, err)
		}
		verifyAfterCrash(t, db, round, ackID, ackMs)
		verifyRawAndMinutes(t, db, round, start, ackMs)
		evs, err := db.Events(0, 1)
		if err != nil || len(evs) != 1 {
			t.Fatalf("round %d: newest event: %v %v", round, evs, err)
		}
		start = evs[0].Time.Add(time.Minute)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if t.Failed() {
			return
		}
	}
	t.Logf("20 SIGKILLs, %d acknowledged ticks, all reopened and consistent", total)
}

// verifyAfterCrash checks that every acknowledged write survived and every
// record decodes.
func verifyAfterCrash(t *testing.T, db *DB, round int, ackID uint64, ackMs int64) {
	t.Helper()
	evs, err := db.Events(ackID+1, 1)
	if err != nil || len(evs) != 1 || evs[0].ID != ackID {
		t.Errorf("round %d: acknowledged event %d missing: %v %v", round, ackID, evs, err)
	}
	at := time.UnixMilli(ackMs)
	for _, s := range []string{"s0", "s49"} {
		pts, err := db.Range(s, at, at, 0)
		if err != nil || len(pts) != 1 {
			t.Errorf("round %d: sample of the acknowledged tick missing in %s: %v %v", round, s, pts, err)
		}
	}
	names, err := db.SeriesNames()
	if err != nil || len(names) != 50 {
		t.Errorf("round %d: %d series (%v)", round, len(names), err)
	}
	from, to := at.Add(-4*24*time.Hour).UnixMilli(), at.Add(time.Hour).UnixMilli()
	for _, s := range names {
		for _, tier := range []Tier{TierRaw, TierMinute, TierHour} {
			pts, err := db.readTier(s, tier, from, to)
			if err != nil {
				t.Errorf("round %d: %s %s: %v", round, s, tier, err)
			}
			for i := 1; i < len(pts); i++ {
				if pts[i].start <= pts[i-1].start {
					t.Errorf("round %d: %s %s out of order at %d", round, s, tier, i)
					break
				}
			}
		}
	}
	for c := 0; c < 5; c++ {
		if _, err := db.Results("c"+strconv.Itoa(c), time.UnixMilli(from), time.UnixMilli(to), 0); err != nil {
			t.Errorf("round %d: results: %v", round, err)
		}
	}
	if _, err := db.ChatLatest("ops", 1000); err != nil {
		t.Errorf("round %d: chat: %v", round, err)
	}
	if _, err := db.Notifications("x", 1000); err != nil {
		t.Errorf("round %d: notifications: %v", round, err)
	}
}

// verifyRawAndMinutes checks that every acknowledged tick of this round
// (started at start) is in the raw tier with its value, wherever it lives
// (a folded chunk or the log), and that each minute of the last 20 (this
// round's and earlier rounds', closed before or after a kill, open now)
// aggregates exactly the raw points in it: no minute lost, none counted
// twice, none closed with only part of its points.
func verifyRawAndMinutes(t *testing.T, db *DB, round int, start time.Time, ackMs int64) {
	t.Helper()
	for _, j := range []int{0, 1, 7, 49} {
		s := "s" + strconv.Itoa(j)
		pts, err := db.readTier(s, TierRaw, start.UnixMilli(), ackMs)
		if err != nil {
			t.Fatalf("round %d: %s: %v", round, s, err)
		}
		n := int(time.UnixMilli(ackMs).Sub(start)/(7*time.Second)) + 1
		if len(pts) != n {
			t.Errorf("round %d: %s: %d raw points since %v, want %d", round, s, len(pts), start, n)
			continue
		}
		for i, p := range pts {
			if want := float64(float32(childValue(i, j))); p.start != start.Add(time.Duration(i)*7*time.Second).UnixMilli() || p.avg != want {
				t.Errorf("round %d: %s: tick %d = %v at %v, want %v", round, s, i, p.avg, msTime(p.start), want)
				break
			}
		}

		from := floorTo(ackMs-20*minuteMs, minuteMs)
		raw, err := db.readTier(s, TierRaw, from, ackMs+hourMs) // committed but unacknowledged ticks too
		if err != nil {
			t.Fatal(err)
		}
		type minute struct {
			count    uint32
			min, max float64
		}
		want := map[int64]*minute{}
		var order []int64
		for _, p := range raw {
			m := floorTo(p.start, minuteMs)
			if want[m] == nil {
				want[m] = &minute{min: math.Inf(1), max: math.Inf(-1)}
				order = append(order, m)
			}
			want[m].count++
			want[m].min, want[m].max = math.Min(want[m].min, p.avg), math.Max(want[m].max, p.avg)
		}
		got, err := db.readTier(s, TierMinute, from, ackMs+hourMs)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(order) {
			t.Errorf("round %d: %s: %d minute rollups since %v, want %d (one per minute with points)", round, s, len(got), msTime(from), len(order))
			continue
		}
		for k, r := range got {
			w := want[order[k]]
			if r.start != order[k] || r.count != w.count || roundRollup(r.min) != roundRollup(w.min) || roundRollup(r.max) != roundRollup(w.max) {
				t.Errorf("round %d: %s: minute %v = %+v, want %d points, min %v max %v", round, s, msTime(r.start), r, w.count, w.min, w.max)
			}
		}
	}
}
