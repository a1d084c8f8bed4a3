package scheduler

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dashd/dashd/alert"
	"github.com/dashd/dashd/alert/channel"
	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/collectors/system"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/flow"
	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/internal/golden"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/state"
	"github.com/dashd/dashd/storage"
	"github.com/dashd/dashd/ui"
	"github.com/dashd/dashd/view"
)

// recHub records what the scheduler sends; rooms says who is listening.
// It stands in for the hub, whose own tests cover delivery; the server's
// browser tests run the scheduler against the real hub end to end.
type recHub struct {
	mu    sync.Mutex
	rooms map[string]int
	room  map[string][][]hub.Event
}

func newRecHub() *recHub {
	return &recHub{rooms: map[string]int{}, room: map[string][][]hub.Event{}}
}

func (h *recHub) BroadcastToRoom(room string, evs ...hub.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.room[room] = append(h.room[room], evs)
}

func (h *recHub) RoomCounts() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := map[string]int{}
	for k, v := range h.rooms {
		m[k] = v
	}
	return m
}

// take returns and forgets what was sent to room, encoded as the wire bytes.
func (h *recHub) take(t *testing.T, room string) []byte {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []byte
	for _, evs := range h.room[room] {
		b, err := hub.Encode(evs...)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b...)
	}
	delete(h.room, room)
	return out
}

// checks is a fixed set of check statuses.
type checks struct {
	mu  sync.Mutex
	sts []collectors.Status
}

func (c *checks) Statuses() []collectors.Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]collectors.Status(nil), c.sts...)
}

func (c *checks) Status(name string) (collectors.Status, bool) {
	for _, s := range c.Statuses() {
		if s.Name == name {
			return s, true
		}
	}
	return collectors.Status{}, false
}

// newLatest is the real latest-state view holding one snapshot.
func newLatest(snap system.Snapshot) *state.Latest {
	l := state.New(config.Default(), snap.Time)
	l.SetSystem(snap)
	return l
}

var t0 = time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)

func snapshot(at time.Time, cpu float64) system.Snapshot {
	return system.Snapshot{
		Time: at, UptimeSeconds: 3 * 86400,
		Host:        &system.Host{Hostname: "box", Platform: "debian", PlatformVersion: "12.5", Kernel: "6.1.0", Arch: "x86_64", CPUs: 2},
		CPU:         &system.CPUPercent{Core: -1, Busy: cpu, User: cpu / 2, System: cpu / 2, Idle: 100 - cpu},
		Load:        system.Load{Load1: 0.5, Load5: 0.4, Load15: 0.3},
		Memory:      system.Memory{Total: 8 << 30, Used: 2 << 30, Available: 6 << 30, UsedPercent: 25},
		Filesystems: []system.Filesystem{{Mount: "/", Device: "/dev/sda1", FSType: "ext4", Total: 100 << 30, Used: 40 << 30, Avail: 60 << 30, UsedPercent: 40}},
		Interfaces:  []system.NetInterface{{Name: "eth0", Rate: &system.NetRate{RxBytesPerSec: 1000, TxBytesPerSec: 500}}},
		Processes:   system.ProcessCounts{Total: 100, Running: 1},
	}
}

type env struct {
	s      *Scheduler
	rec    *flow.Recorder
	sub    *flow.Subscription
	hub    *recHub
	checks *checks
	latest *state.Latest
	db     *storage.DB
	now    time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db, err := storage.Open(filepath.Join(t.TempDir(), "d.db"), storage.Options{Clock: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- db.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-ran; err != nil {
			t.Errorf("storage Run: %v", err)
		}
		if err := db.Close(); err != nil {
			t.Errorf("storage Close: %v", err)
		}
	})
	e := &env{hub: newRecHub(), db: db, now: t0, latest: newLatest(snapshot(t0, 10)),
		checks: &checks{sts: []collectors.Status{
			{Name: "web", Group: "edge", Type: "http", State: model.StateUp, Reason: "HTTP 200", Latency: 3 * time.Millisecond, LastChange: t0.Add(-time.Hour)},
			{Name: "db", Group: "core", Type: "tcp", State: model.StateUp, Latency: time.Millisecond, LastChange: t0.Add(-time.Hour)},
		}}}
	e.rec, err = flow.New(flow.Options{Store: db, Latest: e.latest})
	if err != nil {
		t.Fatal(err)
	}
	e.sub = e.rec.Subscribe("scheduler", 64)
	e.s, err = New(Options{Hub: e.hub, Latest: e.latest, Checks: e.checks, Store: db, Version: "1.0",
		Sparks: view.NewSparks(time.Second, 10), Updates: e.sub, Now: func() time.Time { return e.now },
		Alerts: newAlerter(t, db, e.rec, e.latest, e.checks)})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// change applies fn to the check statuses and reports a result of check
// through the flow, as the runner does after a run.
func (e *env) change(check string, fn func(sts []collectors.Status)) {
	e.checks.mu.Lock()
	fn(e.checks.sts)
	e.checks.mu.Unlock()
	e.rec.Result(model.Result{Check: check, Time: e.now, State: model.StateUp})
}

// drain hands the scheduler every queued flow message, as Run does between
// ticks (for tests that call Tick themselves).
func (e *env) drain(ctx context.Context) {
	for {
		select {
		case m := <-e.sub.C():
			e.s.Handle(ctx, m)
		default:
			return
		}
	}
}

// runDashboard opens a dashboard (one listener in its room) and runs the
// scheduler until the test ends.
func (e *env) runDashboard(t *testing.T) context.Context {
	t.Helper()
	e.hub.mu.Lock()
	e.hub.rooms[view.RoomDashboard] = 1
	e.hub.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- e.s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-ran; err != nil {
			t.Errorf("scheduler Run: %v", err)
		}
	})
	return ctx
}

// sent counts the broadcasts to the dashboard room so far.
func (e *env) sent() int {
	e.hub.mu.Lock()
	defer e.hub.mu.Unlock()
	return len(e.hub.room[view.RoomDashboard])
}

// waitSent waits (up to 10s) until n broadcasts went to the dashboard room.
func (e *env) waitSent(t *testing.T, n int, why string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for e.sent() < n {
		if time.Now().After(deadline) {
			t.Fatalf("no broadcast %d %s", n, why)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestTick_NoClientsRendersNothing(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 3; i++ {
		e.latest.SetSystem(snapshot(t0.Add(time.Duration(i)*time.Second), float64(10+i)))
		e.s.Tick(context.Background())
	}
	if len(e.hub.room) != 0 {
		t.Fatalf("sent with nobody listening: %v", e.hub.room)
	}
	cs := e.s.o.Sparks.Cards(snapshot(t0.Add(2*time.Second), 12), nil)
	if vals := cs[0].Spark.Values; len(vals) == 0 || vals[len(vals)-1] != 11 {
		t.Errorf("sparkline not fed without clients: %v", vals)
	}
	if len(e.s.sent) != 0 {
		t.Error("rendered with nobody listening")
	}
}

// TestTick_OnlyChanges: the first tick sends everything, an unchanged tick
// nothing, a new CPU value only its signal, a check change only the check
// grid and the badge.
func TestTick_OnlyChanges(t *testing.T) {
	e := newEnv(t)
	e.hub.rooms[view.RoomDashboard] = 1
	ctx := context.Background()

	e.s.Tick(ctx)
	first := e.hub.take(t, view.RoomDashboard)
	for _, id := range []string{`id="host"`, `id="stats"`, `id="checks"`, `id="status-badge"`, `id="events"`, `id="top"`} {
		if !bytes.Contains(first, []byte(id)) {
			t.Errorf("first tick lacks %s", id)
		}
	}

	e.s.Tick(ctx)
	if got := e.hub.take(t, view.RoomDashboard); len(got) != 0 {
		t.Errorf("an unchanged tick sent:\n%s", got)
	}

	e.latest.SetSystem(snapshot(t0.Add(500*time.Millisecond), 55)) // same sparkline bucket
	e.s.Tick(ctx)
	golden.Assert(t, "tick-cpu-signal.txt", e.hub.take(t, view.RoomDashboard))

	e.change("db", func(sts []collectors.Status) {
		sts[1].State, sts[1].Reason, sts[1].LastChange = model.StateDown, "connect: connection refused", t0
	})
	e.drain(ctx)
	e.s.Tick(ctx)
	golden.Assert(t, "tick-check-down.txt", e.hub.take(t, view.RoomDashboard))

	// A result that only moves latency re-sends that tile's meta line,
	// not the tile or the grid; sub-millisecond jitter re-sends neither,
	// only the result's bar.
	e.change("web", func(sts []collectors.Status) { sts[0].Latency = 40 * time.Millisecond })
	e.drain(ctx)
	e.s.Tick(ctx)
	got := e.hub.take(t, view.RoomDashboard)
	if bytes.Contains(got, []byte(`id="checks"`)) || bytes.Contains(got, []byte(`id="check-web"`)) ||
		!bytes.Contains(got, []byte(`id="meta-web"`)) || bytes.Contains(got, []byte(`id="meta-db"`)) {
		t.Errorf("a latency change should re-send only web's meta line, sent:\n%s", got)
	}
	e.change("web", func(sts []collectors.Status) { sts[0].Latency = 41 * time.Millisecond })
	e.drain(ctx)
	e.s.Tick(ctx)
	got = e.hub.take(t, view.RoomDashboard)
	if bytes.Contains(got, []byte(`id="meta-web"`)) || !bytes.Contains(got, []byte("selector #hb-web")) || len(got) > 200 {
		t.Errorf("1 ms of jitter re-sent more than its heartbeat bar (%d bytes):\n%s", len(got), got)
	}
}

// TestTick_HeartbeatBarByBar: each result adds one bar to its check's
// strip, appended on its own; past 30 bars the oldest are removed; the
// strip a fresh page gets holds the last 30, newest last.
func TestTick_HeartbeatBarByBar(t *testing.T) {
	e := newEnv(t)
	e.hub.rooms[view.RoomDashboard] = 1
	ctx := context.Background()
	e.s.Tick(ctx)
	e.hub.take(t, view.RoomDashboard)

	appends, removes := 0, 0
	for i := range ui.HeartbeatLen + 5 {
		e.now = e.now.Add(time.Second)
		state := model.StateUp
		if i%7 == 0 {
			state = model.StateDown
		}
		e.rec.Result(model.Result{Check: "web", Time: e.now, State: state, Latency: time.Duration(i+1) * time.Millisecond})
		e.drain(ctx)
		e.s.Tick(ctx)
		got := string(e.hub.take(t, view.RoomDashboard))
		if strings.Contains(got, `id="check-web"`) {
			t.Fatalf("result %d re-sent the whole tile:\n%s", i, got)
		}
		if n := strings.Count(got, "data: fragments <i role=\"img\""); n != 1 || !strings.Contains(got, "mergeMode append") {
			t.Fatalf("result %d: %d bars appended, want 1:\n%s", i, n, got)
		}
		appends++
		if strings.Contains(got, "datastar-remove-fragments") {
			if !strings.Contains(got, "selector #hb-web>i:nth-child(-n+1)") {
				t.Fatalf("result %d removes the wrong bars:\n%s", i, got)
			}
			removes++
		}
	}
	// The store had no result of web before: 35 results make 35 bars, the
	// 5 oldest removed.
	if appends != ui.HeartbeatLen+5 || removes != 5 {
		t.Errorf("%d appends, %d removals; want %d and 5", appends, removes, ui.HeartbeatLen+5)
	}
	v := e.s.dashboardView(system.Snapshot{}, nil)
	for _, g := range v.Groups {
		for _, c := range g.Checks {
			if c.Name != "web" {
				continue
			}
			bs := c.Beats.List()
			if len(bs) != ui.HeartbeatLen || !bs[len(bs)-1].At.Equal(e.now) || bs[len(bs)-1].Latency != time.Duration(ui.HeartbeatLen+5)*time.Millisecond {
				t.Errorf("strip has %d beats, newest %+v; want %d, the newest at %s", len(bs), bs[len(bs)-1], ui.HeartbeatLen, e.now)
			}
		}
	}
}

// BenchmarkTick_Idle is the steady cost of one broadcast tick with a client
// connected and the state unchanged but for the CPU value.
func BenchmarkTick_Idle(b *testing.B) {
	e := newEnvB(b)
	e.hub.rooms[view.RoomDashboard] = 1
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		e.latest.SetSystem(snapshot(t0.Add(time.Duration(i)*time.Millisecond), float64(i%100)))
		e.s.Tick(ctx)
		e.hub.mu.Lock()
		clear(e.hub.room)
		e.hub.mu.Unlock()
	}
}

func newEnvB(b *testing.B) *env {
	db, err := storage.Open(filepath.Join(b.TempDir(), "d.db"), storage.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	e := &env{hub: newRecHub(), db: db, latest: newLatest(snapshot(t0, 10)),
		checks: &checks{sts: []collectors.Status{{Name: "web", State: model.StateUp}}}}
	e.s = newScheduler(b, Options{Hub: e.hub, Latest: e.latest, Checks: e.checks, Store: db, Now: func() time.Time { return t0 }})
	return e
}

// newScheduler is New with the parts a benchmark does not exercise.
func newScheduler(b *testing.B, o Options) *Scheduler {
	rec, err := flow.New(flow.Options{Store: o.Store.(*storage.DB), Latest: o.Latest.(*state.Latest)})
	if err != nil {
		b.Fatal(err)
	}
	o.Sparks, o.Updates = view.NewSparks(0, 0), rec.Subscribe("scheduler", 64)
	o.Alerts = newAlerter(b, o.Store.(*storage.DB), rec, o.Latest.(*state.Latest), o.Checks)
	s, err := New(o)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func TestScheduler_SetInterval(t *testing.T) {
	e := newEnv(t)
	e.s.o.Interval = 20 * time.Millisecond
	ctx := e.runDashboard(t)
	e.waitSent(t, 1, "at start")
	// At 20ms a changed snapshot goes out promptly...
	e.latest.SetSystem(snapshot(t0.Add(time.Minute), 60))
	e.waitSent(t, 2, "at the initial interval")
	// ...after SetInterval(1h) a change waits for the next (distant) tick.
	e.s.SetInterval(ctx, time.Hour, 0)
	time.Sleep(100 * time.Millisecond) // let Run take the new interval
	n := e.sent()
	e.latest.SetSystem(snapshot(t0.Add(2*time.Minute), 90))
	time.Sleep(300 * time.Millisecond)
	if got := e.sent(); got != n {
		t.Fatalf("broadcasts went from %d to %d after SetInterval(1h)", n, got)
	}
}

func TestScheduler_SampleDriven(t *testing.T) {
	e := newEnv(t)
	// Both intervals an hour: only a new sample can make the second broadcast.
	e.s.o.Interval, e.s.o.SampleInterval = time.Hour, time.Hour
	ctx := e.runDashboard(t)
	e.waitSent(t, 1, "at start")
	e.latest.SetSystem(snapshot(t0.Add(time.Minute), 60))
	e.waitSent(t, 2, "after a new sample")
	e.latest.SetSystem(snapshot(t0.Add(2*time.Minute), 70))
	e.waitSent(t, 3, "after another sample")

	// Sampling at another interval than broadcasting: the timer rules.
	e.s.SetInterval(ctx, time.Hour, time.Second)
	time.Sleep(100 * time.Millisecond) // let Run take the new cadence
	n := e.sent()
	e.latest.SetSystem(snapshot(t0.Add(3*time.Minute), 90))
	time.Sleep(300 * time.Millisecond)
	if got := e.sent(); got != n {
		t.Fatalf("broadcasts went from %d to %d on a sample with a 1s sampling / 1h broadcast cadence", n, got)
	}
}

func TestSameModel(t *testing.T) {
	nan := math.NaN()
	spark := func(vs ...float64) ui.SparkView {
		return ui.SparkView{ID: "spark-cpu", Values: vs, Min: 0, Max: 100, Label: "CPU"}
	}
	row := ui.CheckRow{Name: "web", State: model.StateUp, Latency: "3 ms", Since: "5m", SinceAt: t0}
	down := row
	down.State, down.Reason = model.StateDown, "HTTP 503"
	for _, c := range []struct {
		name string
		a, b any
		want bool
	}{
		{"sparkline with gaps, same", spark(nan, 1, 2), spark(nan, 1, 2), true},
		{"sparkline moved on", spark(nan, 1, 2), spark(1, 2, 3), false},
		{"sparkline new max", spark(1, 2), ui.SparkView{ID: "spark-cpu", Values: []float64{1, 2}, Max: 200, Label: "CPU"}, false},
		{"tile, same", row, row, true},
		{"tile, state changed", row, down, false},
		{"events, same", []ui.EventRow{{ID: 1, Text: "a"}}, []ui.EventRow{{ID: 1, Text: "a"}}, true},
		{"events, one more", []ui.EventRow{{ID: 1}}, []ui.EventRow{{ID: 2}, {ID: 1}}, false},
		{"banner gone", []string{"config.yaml:3:1: bad"}, []string(nil), false},
		{"different kinds", row, spark(1), false},
		{"top, same", ui.TopView{ByCPU: []ui.ProcRow{{PID: 1, CPU: "3%"}}}, ui.TopView{ByCPU: []ui.ProcRow{{PID: 1, CPU: "3%"}}}, true},
		{"top, new ranking", ui.TopView{ByCPU: []ui.ProcRow{{PID: 1}}}, ui.TopView{ByCPU: []ui.ProcRow{{PID: 2}}}, false},
		{"host uptime moved", ui.HostView{Hostname: "box", Uptime: "3d"}, ui.HostView{Hostname: "box", Uptime: "4d"}, false},
		{"status, same", ui.OverallStatus{Up: 2}, ui.OverallStatus{Up: 2}, true},
		{"status, one down", ui.OverallStatus{Up: 2}, ui.OverallStatus{Up: 1, Down: 1}, false},
	} {
		if got := sameModel(c.a, c.b); got != c.want {
			t.Errorf("%s: sameModel = %v, want %v", c.name, got, c.want)
		}
	}
}

// BenchmarkDashboardTick is one broadcast round with a dashboard open, 20
// checks and a new host sample: what the scheduler costs every second.
func BenchmarkDashboardTick(b *testing.B) {
	db, err := storage.Open(filepath.Join(b.TempDir(), "d.db"), storage.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	h := newRecHub()
	h.rooms[view.RoomDashboard] = 1
	cs := &checks{}
	for i := range 20 {
		cs.sts = append(cs.sts, collectors.Status{Name: fmt.Sprintf("check-%02d", i), Group: "g", Type: "http",
			State: model.StateUp, Reason: "HTTP 200", Latency: time.Duration(i+1) * time.Millisecond, LastChange: t0.Add(-time.Hour)})
	}
	latest := newLatest(snapshot(t0, 10))
	now := t0
	s := newScheduler(b, Options{Hub: h, Latest: latest, Checks: cs, Store: db, Version: "1.0", Now: func() time.Time { return now }})
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		now = t0.Add(time.Duration(i) * time.Second)
		latest.SetSystem(snapshot(now, float64(10+i%7)))
		s.Tick(ctx)
		h.mu.Lock()
		delete(h.room, view.RoomDashboard)
		h.mu.Unlock()
	}
}

// TestCheckGroups_Memo: the memoised rows are CheckGroups' rows, tick after
// tick, as results come in, time passes and checks go away.
func TestCheckGroups_Memo(t *testing.T) {
	e := newEnv(t)
	web := collectors.Status{Name: "web", Group: "edge", State: model.StateUp, Reason: "HTTP 200", Latency: 3 * time.Millisecond, LastChange: t0.Add(-30 * time.Second)}
	db := collectors.Status{Name: "db", Group: "core", State: model.StateUp, Latency: time.Millisecond, LastChange: t0.Add(-time.Hour)}
	slow := web
	slow.Latency, slow.Reason = 900*time.Millisecond, "HTTP 200 (slow)"
	down := web
	down.State, down.Reason, down.LastChange = model.StateDown, "HTTP 503", t0.Add(5*time.Second)
	for _, step := range []struct {
		name string
		sts  []collectors.Status
		now  time.Time
	}{
		{"first", []collectors.Status{web, db}, t0},
		{"same, later: ages move", []collectors.Status{web, db}, t0.Add(90 * time.Second)},
		{"new latency", []collectors.Status{slow, db}, t0.Add(91 * time.Second)},
		{"down", []collectors.Status{down, db}, t0.Add(92 * time.Second)},
		{"db removed", []collectors.Status{down}, t0.Add(93 * time.Second)},
		{"db back", []collectors.Status{down, db}, t0.Add(94 * time.Second)},
	} {
		got := e.s.checkGroups(step.sts, nil, step.now)
		want := view.CheckGroups(step.sts, step.now)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", step.name, got, want)
		}
	}
}

// TestScheduler_StalledSampler: sample-driven, a scheduler whose sampler
// stopped still broadcasts check changes, at the stall-check pace.
func TestScheduler_StalledSampler(t *testing.T) {
	e := newEnv(t)
	e.s.o.Interval, e.s.o.SampleInterval = 50*time.Millisecond, 50*time.Millisecond
	e.runDashboard(t)
	e.waitSent(t, 1, "at start")
	e.hub.take(t, view.RoomDashboard)
	e.change("web", func(sts []collectors.Status) { sts[0].State, sts[0].Reason = model.StateDown, "HTTP 503" })
	deadline := time.Now().Add(3 * stallCheck)
	for {
		if b := e.hub.take(t, view.RoomDashboard); bytes.Contains(b, []byte("HTTP 503")) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("a check change was not broadcast within %s while no sample came", 3*stallCheck)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestHandle_Event: a check state change reaching the scheduler through the
// flow is announced to screen readers, listed among the recent events, and
// the check grid follows on the next tick.
func TestHandle_Event(t *testing.T) {
	e := newEnv(t)
	e.hub.rooms[view.RoomDashboard] = 1
	ctx := context.Background()
	e.s.Tick(ctx)
	e.hub.take(t, view.RoomDashboard)

	e.checks.mu.Lock()
	e.checks.sts[1].State, e.checks.sts[1].Reason = model.StateDown, "connect: connection refused"
	e.checks.mu.Unlock()
	e.rec.Event(model.Event{Time: t0, Kind: model.EventCheck, Check: "db", From: model.StateUp, To: model.StateDown, Reason: "connect: connection refused"})
	e.drain(ctx)
	if got := string(e.hub.take(t, view.RoomDashboard)); !strings.Contains(got, "db is down: connect: connection refused") {
		t.Errorf("no screen-reader announcement: %s", got)
	}
	if len(e.s.recent) != 1 || e.s.recent[0].ID == 0 {
		t.Errorf("recent events %+v: want the stored event, with its ID", e.s.recent)
	}
	e.s.Tick(ctx)
	got := string(e.hub.take(t, view.RoomDashboard))
	if !strings.Contains(got, `id="check-db"`) || !strings.Contains(got, "st-down") || !strings.Contains(got, "up → down") {
		t.Errorf("the tick after the event did not send the tile and the event list:\n%s", got)
	}
}

// TestHandle_DroppedMessagesReread: when the subscription overflowed, the
// scheduler re-reads what it may have missed instead of trusting its lists.
func TestHandle_DroppedMessagesReread(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for i := range 100 { // the buffer holds 64
		e.rec.Event(model.Event{Time: t0.Add(time.Duration(i) * time.Second), Kind: model.EventReload, Reason: fmt.Sprint("reload ", i)})
	}
	if e.sub.Dropped() == 0 {
		t.Fatal("nothing dropped; the test needs an overflow")
	}
	e.drain(ctx)
	if len(e.s.recent) != view.RecentEvents || e.s.recent[0].Reason != "reload 99" {
		t.Fatalf("recent after an overflow: %d events, newest %q; want the newest %d from storage", len(e.s.recent), e.s.recent[0].Reason, view.RecentEvents)
	}
}

// newAlerter is a real alerter over the test's storage and flow, with the
// real channel types (no channel is configured in these tests).
func newAlerter(t testing.TB, db *storage.DB, rec *flow.Recorder, latest *state.Latest, checks alert.Checks) *alert.Alerter {
	t.Helper()
	a, err := alert.New(alert.Options{Store: db, Recorder: rec, Events: rec.Subscribe("alerts", 64), Latest: latest, Checks: checks,
		NewSender: func(c config.Channel) (alert.Sender, error) { return channel.New(c, channel.Options{}) },
		Permanent: channel.IsPermanent, RetryAfter: channel.RetryAfter, Describe: channel.Describe, Host: "box"})
	if err != nil {
		t.Fatal(err)
	}
	return a
}
