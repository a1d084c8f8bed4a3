// Package scheduler decides what changed on the live pages and sends it.
// Every broadcast interval (on each new host sample when sampling runs at
// the same interval) it builds the dashboard's view with package view,
// renders the fragments whose view data changed, compares each with the
// bytes it last broadcast for that element id and sends only the ones that
// changed to the hub room "dashboard"; numbers that move every tick go as
// signals. Watched check pages get their summary refreshed, and their whole
// state when the check changes state.
//
// # Ownership
//
// All of the scheduler's state belongs to the goroutine of Run: it learns
// about results and events from its flow subscription, about host samples
// from the latest state, and nothing else writes its fields, so it takes no
// locks. Building views is package view's job (the page handlers build the
// same views from the same state); the scheduler only diffs and sends.
//
// # Cost
//
// A tick with no dashboard client renders nothing: it only folds the newest
// host sample into the sparklines (view.Sparks, no storage reads). With
// clients it re-reads check states only after a result or event arrived,
// renders only the fragments whose view data changed (usually a sparkline
// every few seconds and a tile when a check reports something new) and
// compares their bytes.
package scheduler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"reflect"
	"slices"
	"time"

	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/collectors/system"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/flow"
	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/internal/grid"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/selfstat"
	"github.com/dashd/dashd/storage"
	"github.com/dashd/dashd/ui"
	"github.com/dashd/dashd/view"
)

// DefaultInterval is the broadcast interval when Options leave it at 0.
const DefaultInterval = time.Second

// Checks is the part of the collectors' Runner the scheduler reads.
type Checks interface {
	Statuses() []collectors.Status
	Status(name string) (collectors.Status, bool)
}

// Latest is the part of state.Latest the scheduler reads.
type Latest interface {
	System() (system.Snapshot, bool)
	// NextSystem is closed when the next host sample is recorded.
	NextSystem() <-chan struct{}
	// Self is dashd's own footprint (false until the first reading).
	Self() (selfstat.Footprint, bool)
	// Config is the configuration in force.
	Config() *config.Config
	Rejected() ([]config.Problem, time.Time)
}

// Store is the part of storage the scheduler reads.
type Store interface {
	view.CheckStore
	// WriteHealth says whether history is being written (a full disk...).
	WriteHealth() storage.WriteHealth
}

// Alerts is the alerting state the live pages show (an *alert.Alerter).
type Alerts interface {
	// Page builds the alerts page's view.
	Page(now time.Time) (ui.AlertsView, error)
	// Held names what holds back each check's alerts now.
	Held() map[string]string
}

// Hub is the part of the hub the scheduler sends through.
type Hub interface {
	BroadcastToRoom(room string, events ...hub.Event)
	RoomCounts() map[string]int
}

// Options configures a Scheduler. Every field up to Updates is required.
type Options struct {
	Hub    Hub
	Latest Latest
	Checks Checks
	Store  Store
	Sparks *view.Sparks
	Alerts Alerts
	// Updates is the scheduler's subscription to the flow (results and
	// events).
	Updates *flow.Subscription
	// Interval is dashboard.broadcast_interval (default 1s).
	Interval time.Duration
	// SampleInterval is collect.interval. When it equals Interval, each new
	// host sample triggers the broadcast (see Run); 0 means timer only.
	SampleInterval time.Duration
	Version        string
	Logger         *slog.Logger
	Now            func() time.Time
}

// Scheduler diffs and broadcasts. Create it with New and drive it with Run.
type Scheduler struct {
	o   Options
	log *slog.Logger

	cadence chan cadence

	// Owned by the Run goroutine (or a test calling Tick directly).
	statuses  []collectors.Status // as last read; nil: read on the next tick
	recent    []model.Event       // newest first, at most view.RecentEvents
	dropped   uint64              // Updates.Dropped() when last seen
	rows      map[string]rowMemo
	sent      map[string][]byte       // element id -> bytes last broadcast to room dashboard
	models    map[string]any          // element id -> view model of those bytes
	sentVals  map[string]ui.StatValue // card key -> signal value last broadcast
	checkSent map[string][]byte       // room + element id -> bytes last broadcast
	// beats are the checks' heartbeat strips, read from storage when a
	// check is first shown and then kept up from the flow's results.
	beats map[string]ui.Heartbeat
	// beatsSent is, by check, how far the dashboard room's strips go:
	// the Seq of the newest bar sent and how many bars the strip holds.
	beatsSent map[string]beatMark
}

// beatMark is how far a check's strip was sent.
type beatMark struct {
	seq uint64
	n   int
}

// New returns a scheduler, or an error naming a missing part; it loads the
// recent events from the store.
func New(o Options) (*Scheduler, error) {
	if o.Hub == nil || o.Latest == nil || o.Checks == nil || o.Store == nil || o.Sparks == nil || o.Updates == nil || o.Alerts == nil {
		return nil, errors.New("scheduler: Hub, Latest, Checks, Store, Sparks, Alerts and Updates are required")
	}
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Scheduler{
		o: o, log: o.Logger,
		cadence:   make(chan cadence, 1),
		rows:      map[string]rowMemo{},
		sent:      map[string][]byte{},
		models:    map[string]any{},
		sentVals:  map[string]ui.StatValue{},
		checkSent: map[string][]byte{},
		beats:     map[string]ui.Heartbeat{},
		beatsSent: map[string]beatMark{},
	}
	s.loadRecent()
	return s, nil
}

// loadRecent reads the recent events from storage: at start, and after
// the subscription dropped messages.
func (s *Scheduler) loadRecent() {
	evs, err := s.o.Store.Events(0, view.RecentEvents)
	if err != nil {
		s.log.Warn("recent events not loaded", "err", err)
		return
	}
	s.recent = evs
}

// cadence is when the scheduler ticks: every broadcast interval, and on
// every new host sample when sampling runs at that same interval.
type cadence struct{ broadcast, sample time.Duration }

// sampleDriven: each sample triggers the tick, so the dashboard shows it
// the moment it exists and the broadcast happens in the same wake-up as
// the sampling. A timer of its own would wake the process at another
// moment every second, and wake-ups are much of an idle daemon's CPU.
func (c cadence) sampleDriven() bool { return c.sample > 0 && c.sample == c.broadcast }

// wait is how long the timer waits. Sample-driven, the timer is only the
// fallback for a stalled sampler (check changes must keep flowing), so it
// is long and not re-armed by sample-driven ticks: re-arming a pending
// timer to a later time still wakes the process at the old time.
func (c cadence) wait() time.Duration {
	if c.sampleDriven() {
		return max(stallCheck, 3*c.broadcast)
	}
	return c.broadcast
}

// stallCheck is how often a sample-driven scheduler looks for a stalled
// sampler; check changes are then broadcast at this pace.
const stallCheck = 5 * time.Second

// until is how long the timer waits from now: to the next multiple of wait
// on the epoch grid (package grid), where the host sampler and the checks
// wake too. A timer armed at its own phase would wake the otherwise idle
// process once more every wait; on the grid the wake-up is shared.
func (c cadence) until(now time.Time) time.Duration {
	return grid.Next(now, c.wait()).Sub(now)
}

// Run ticks until ctx ends; it returns nil then. It ticks every Interval,
// or, when SampleInterval equals Interval, on every new host sample (and
// every 5s should sampling stall), and handles flow messages in between.
func (s *Scheduler) Run(ctx context.Context) error {
	c := cadence{broadcast: s.o.Interval, sample: s.o.SampleInterval}
	s.Tick(ctx)
	last := time.Now()
	timer := time.NewTimer(c.until(time.Now()))
	defer timer.Stop()
	for {
		var next <-chan struct{}
		if c.sampleDriven() {
			next = s.o.Latest.NextSystem()
		}
		select {
		case <-ctx.Done():
			return nil
		case c = <-s.cadence:
			timer.Reset(c.until(time.Now()))
		case <-next:
			s.Tick(ctx)
			last = time.Now()
		case <-timer.C:
			// On the grid the stall check fires with the sampler's own
			// tick, a hair before its sample: only a tick missed by half
			// an interval more is a stall.
			if !c.sampleDriven() || time.Since(last) >= c.broadcast+c.broadcast/2 {
				s.Tick(ctx)
				last = time.Now()
			}
			timer.Reset(c.until(time.Now()))
		case m := <-s.o.Updates.C():
			s.Handle(ctx, m)
		}
	}
}

// SetInterval changes the broadcast and host sampling intervals of a
// running scheduler (a configuration reload). It waits only while an
// earlier change is still pending, or until ctx ends.
func (s *Scheduler) SetInterval(ctx context.Context, broadcast, sample time.Duration) {
	if broadcast <= 0 {
		return
	}
	select {
	case s.cadence <- cadence{broadcast: broadcast, sample: sample}:
	case <-ctx.Done():
	}
}

// Handle takes one flow message: a result marks the check states for
// re-reading; an event is listed, announced, and pushed to its check's
// room. Run calls it; tests call it directly.
func (s *Scheduler) Handle(ctx context.Context, m flow.Message) {
	if d := s.o.Updates.Dropped(); d != s.dropped {
		// Messages were missed: whatever they said is re-read.
		s.dropped = d
		s.loadRecent()
		clear(s.beats) // re-read when next shown
		clear(s.beatsSent)
	}
	s.statuses = nil
	if m.Kind == flow.KindResult {
		// Only strips already read: one read later would include it.
		if h, ok := s.beats[m.Result.Check]; ok {
			h.Push(view.Beat(m.Result))
			s.beats[m.Result.Check] = h
		}
	}
	if m.Kind != flow.KindEvent {
		return
	}
	ev := m.Event
	// After a re-read the list may already hold this event (and newer).
	if ev.ID == 0 || len(s.recent) == 0 || ev.ID > s.recent[0].ID {
		s.recent = append([]model.Event{ev}, s.recent...)
		if len(s.recent) > view.RecentEvents {
			s.recent = s.recent[:view.RecentEvents]
		}
	}
	if ev.Kind != model.EventCheck {
		return
	}
	// Screen readers hear the change at once; the fragments follow on the
	// next tick (or right now for the check's room).
	s.o.Hub.BroadcastToRoom(view.RoomDashboard, hub.PatchComponent(ctx,
		ui.Announce(ev.Check+" is "+ev.To.String()+reasonSuffix(ev.Reason))))
	s.checkRoomEvent(ctx, ev.Check)
}

func reasonSuffix(r string) string {
	if r == "" {
		return ""
	}
	return ": " + r
}

// Tick runs one broadcast round: fold the newest host sample into the
// sparklines, then, if anyone watches, send what changed. Run calls it every
// interval; tests call it directly.
func (s *Scheduler) Tick(ctx context.Context) {
	snap, ok := s.o.Latest.System()
	self := s.self()
	if ok {
		s.o.Sparks.Observe(snap, self)
	}
	rooms := s.o.Hub.RoomCounts()
	if rooms[view.RoomDashboard] > 0 {
		if evs := s.dashboardDiff(ctx, snap, self); len(evs) > 0 {
			s.o.Hub.BroadcastToRoom(view.RoomDashboard, evs...)
		}
	}
	for room, n := range rooms {
		if name, ok := view.CheckOfRoom(room); ok && n > 0 {
			s.checkRoomTick(ctx, room, name)
		}
	}
	if rooms[view.RoomAlerts] > 0 {
		s.alertsTick(ctx)
	}
}

// alertsTick re-sends the parts of the alerts page that changed.
func (s *Scheduler) alertsTick(ctx context.Context) {
	v, err := s.o.Alerts.Page(s.o.Now())
	if err != nil {
		s.log.Warn("alerts page", "err", err)
		return
	}
	var evs []hub.Event
	var buf bytes.Buffer
	for _, f := range view.AlertsFragments(v) {
		key := view.RoomAlerts + "\x00" + f.ID
		if prev, ok := s.models[key]; ok && sameModel(prev, f.Model) {
			continue
		}
		buf.Reset()
		if err := f.Comp().Render(ctx, &buf); err != nil {
			continue
		}
		s.models[key] = f.Model
		if !bytes.Equal(s.checkSent[key], buf.Bytes()) {
			s.checkSent[key] = bytes.Clone(buf.Bytes())
			evs = append(evs, hub.PatchElements(buf.String()))
		}
	}
	if len(evs) > 0 {
		s.o.Hub.BroadcastToRoom(view.RoomAlerts, evs...)
	}
}

// self returns dashd's footprint for its card, nil before the first reading.
func (s *Scheduler) self() *selfstat.Footprint {
	if f, ok := s.o.Latest.Self(); ok {
		return &f
	}
	return nil
}

// checkStatuses returns the check states, re-read only when a result or
// event arrived since the last read.
func (s *Scheduler) checkStatuses() []collectors.Status {
	if s.statuses == nil {
		s.statuses = s.o.Checks.Statuses()
		if s.statuses == nil {
			s.statuses = []collectors.Status{}
		}
	}
	return s.statuses
}

func (s *Scheduler) dashboardView(snap system.Snapshot, self *selfstat.Footprint) ui.DashboardView {
	now := s.o.Now()
	sts := s.checkStatuses()
	rejected, _ := s.o.Latest.Rejected()
	return view.Dashboard(view.DashboardInput{
		Snapshot: snap,
		Stats:    s.o.Sparks.Cards(snap, self),
		Statuses: sts,
		Groups:   s.checkGroups(sts, s.o.Alerts.Held(), now),
		Events:   s.recent,
		Rejected: rejected,
		Storage:  s.o.Store.WriteHealth(),
		Version:  s.o.Version,
		Now:      now,
	})
}

// rowMemo is a check's tile row as last converted, without its age: most
// ticks bring no new result, and formatting every check's latency every
// second was most of building the view.
type rowMemo struct {
	key statusKey
	row ui.CheckRow
}

// statusKey is what CheckRow reads from a Status, apart from the clock.
type statusKey struct {
	name, group, reason string
	state               model.State
	latency             time.Duration
	lastChange          time.Time
	flapping            bool
	held                string
}

// checkGroups is view.CheckGroups with the rows memoised per check.
func (s *Scheduler) checkGroups(sts []collectors.Status, held map[string]string, now time.Time) []ui.CheckGroup {
	if len(s.rows) > len(sts) { // checks were removed: forget them
		clear(s.rows)
	}
	if len(s.beats) > len(sts) {
		clear(s.beats)
		clear(s.beatsSent)
	}
	return view.GroupRows(sts, func(st collectors.Status) ui.CheckRow {
		k := statusKey{st.Name, st.Group, st.Reason, st.State, st.Latency, st.LastChange, st.Flapping, held[st.Name]}
		m, ok := s.rows[st.Name]
		if !ok || m.key != k {
			m = rowMemo{key: k, row: view.CheckRow(st, time.Time{})}
			m.row.Since = ""
			m.row.Held = k.held
			s.rows[st.Name] = m
		}
		r := m.row
		if !st.LastChange.IsZero() {
			r.Since = ui.FormatAge(now.Sub(st.LastChange))
		}
		r.Beats = s.heartbeat(st.Name)
		return r
	})
}

// heartbeat is a check's strip, read from storage the first time.
func (s *Scheduler) heartbeat(name string) ui.Heartbeat {
	if h, ok := s.beats[name]; ok {
		return h
	}
	rs, err := s.o.Store.LastResults(name, ui.HeartbeatLen)
	if err != nil {
		s.log.Warn("heartbeat strip not loaded", "check", name, "err", err)
		return ui.Heartbeat{}
	}
	h := view.HeartbeatOf(rs)
	s.beats[name] = h
	// A strip read afresh numbers its beats afresh: the tile is rendered
	// and compared again (and re-sent, carrying the strip, if it differs),
	// and bars are counted from there.
	delete(s.beatsSent, name)
	delete(s.models, ui.CheckTileID(name))
	return h
}

// beatDiff returns the events that bring a check's strip in the dashboard
// room up to date: its new bars appended, the oldest beyond HeartbeatLen
// removed. A tile sent whole this tick carried its strip.
func (s *Scheduler) beatDiff(ctx context.Context, c ui.CheckRow, tileSent bool) []hub.Event {
	h := c.Beats
	m, known := s.beatsSent[c.Name]
	if tileSent || !known || h.Seq < m.seq {
		s.beatsSent[c.Name] = beatMark{seq: h.Seq, n: h.N}
		return nil
	}
	added := int(min(h.Seq-m.seq, uint64(h.N)))
	if added == 0 {
		return nil
	}
	var buf bytes.Buffer
	for _, b := range h.List()[h.N-added:] {
		if err := ui.BeatBar(b).Render(ctx, &buf); err != nil {
			s.log.Error("render heartbeat bar", "check", c.Name, "err", err)
			return nil
		}
	}
	id := ui.HeartbeatID(c.Name)
	evs := []hub.Event{hub.PatchElements(buf.String(), hub.WithSelector("#"+id), hub.WithMergeMode(hub.ModeAppend))}
	m = beatMark{seq: h.Seq, n: m.n + added}
	if extra := m.n - ui.HeartbeatLen; extra > 0 {
		evs = append(evs, hub.RemoveElements(fmt.Sprintf("#%s>i:nth-child(-n+%d)", id, extra)))
		m.n = ui.HeartbeatLen
	}
	s.beatsSent[c.Name] = m
	return evs
}

// sameModel reports whether two fragment models render the same. The
// common kinds compare directly (reflect is the fallback); sparkline values
// hold NaN for gaps, which == and DeepEqual never find equal.
func sameModel(a, b any) bool {
	switch x := a.(type) {
	case view.Tile:
		y, ok := b.(view.Tile)
		return ok && x == y
	case view.Meta:
		y, ok := b.(view.Meta)
		return ok && x == y
	case ui.CheckRow:
		y, ok := b.(ui.CheckRow)
		return ok && x == y
	case ui.SparkView:
		y, ok := b.(ui.SparkView)
		return ok && x.ID == y.ID && x.Label == y.Label &&
			sameFloat(x.Min, y.Min) && sameFloat(x.Max, y.Max) &&
			slices.EqualFunc(x.Values, y.Values, sameFloat)
	case ui.HostView:
		y, ok := b.(ui.HostView)
		return ok && x == y
	case ui.OverallStatus:
		y, ok := b.(ui.OverallStatus)
		return ok && x == y
	case ui.TopView:
		y, ok := b.(ui.TopView)
		return ok && slices.Equal(x.ByCPU, y.ByCPU) && slices.Equal(x.ByMemory, y.ByMemory)
	case []ui.EventRow:
		y, ok := b.([]ui.EventRow)
		return ok && slices.Equal(x, y)
	case []string:
		y, ok := b.([]string)
		return ok && slices.Equal(x, y)
	case string:
		y, ok := b.(string)
		return ok && x == y
	}
	return reflect.DeepEqual(a, b)
}

func sameFloat(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }

// checksKey identifies the grid's layout: which checks, in which groups, in
// which order (worst first). Only a change of it re-sends the whole grid.
func checksKey(groups []ui.CheckGroup) []byte {
	var b bytes.Buffer
	for _, g := range groups {
		b.WriteString(g.Name)
		b.WriteByte(1)
		for _, c := range g.Checks {
			b.WriteString(c.Name)
			b.WriteByte(0)
		}
	}
	return b.Bytes()
}

// statsKey identifies the set of cards: the grid is re-sent only when it
// changes (a filesystem mounted, say), never for values or sparklines.
// Card hints are part of it, so they must not change from tick to tick.
func statsKey(cs []ui.StatCard) []byte {
	var b bytes.Buffer
	for _, c := range cs {
		b.WriteString(c.Key)
		b.WriteByte(0)
		b.WriteString(c.Title)
		b.WriteByte(0)
		b.WriteString(c.Hint)
		b.WriteByte(1)
	}
	return b.Bytes()
}

// dashboardDiff builds the dashboard and returns the events for what changed
// since the last broadcast, remembering what it sent.
func (s *Scheduler) dashboardDiff(ctx context.Context, snap system.Snapshot, self *selfstat.Footprint) []hub.Event {
	v := s.dashboardView(snap, self)
	var evs []hub.Event

	// Signals first: a new card's expressions need its signal to exist.
	changed := map[string]ui.StatValue{}
	for _, c := range v.Stats {
		if old, ok := s.sentVals[c.Key]; !ok || old != c.Value {
			changed[c.Key] = c.Value
			s.sentVals[c.Key] = c.Value
		}
	}
	if len(changed) > 0 {
		evs = append(evs, hub.PatchSignals(map[string]any{"_v": changed}))
	}

	if key := statsKey(v.Stats); !bytes.Equal(s.sent[ui.StatsID], key) {
		s.sent[ui.StatsID] = key
		evs = append(evs, hub.PatchComponent(ctx, ui.StatsGrid(v.Stats)))
		// The grid carries the sparklines: remember them as sent.
		for _, c := range v.Stats {
			s.sent[c.Spark.ID] = []byte(ui.SparklineSVG(c.Spark))
			s.models[c.Spark.ID] = c.Spark
		}
	}

	var buf bytes.Buffer
	tileSent := map[string]bool{} // checks whose tile (and strip) went out whole
	if ckey := checksKey(v.Groups); s.sent[ui.ChecksID] == nil || !bytes.Equal(s.sent[ui.ChecksID], ckey) {
		s.sent[ui.ChecksID] = ckey
		evs = append(evs, hub.PatchComponent(ctx, ui.ChecksGrid(v.Groups)))
		// The grid carries the tiles: remember them as sent.
		for _, g := range v.Groups {
			for _, c := range g.Checks {
				buf.Reset()
				if err := ui.CheckTile(c).Render(ctx, &buf); err == nil {
					s.sent[ui.CheckTileID(c.Name)] = bytes.Clone(buf.Bytes())
					s.models[ui.CheckTileID(c.Name)] = view.TileModel(c)
					tileSent[c.Name] = true
				}
			}
		}
	}

	// A tile's meta line follows its tile in the fragments: a tile sent
	// whole carried it, so it is only remembered.
	carried := map[string]bool{}
	for name := range tileSent {
		carried[ui.CheckMetaID(name)] = true
	}
	for _, f := range view.DashboardFragments(v) {
		if prev, known := s.models[f.ID]; known && sameModel(prev, f.Model) {
			continue
		}
		buf.Reset()
		if err := f.Comp().Render(ctx, &buf); err != nil {
			s.log.Error("render fragment", "id", f.ID, "err", err)
			continue
		}
		s.models[f.ID] = f.Model
		if !bytes.Equal(s.sent[f.ID], buf.Bytes()) {
			s.sent[f.ID] = bytes.Clone(buf.Bytes())
			if carried[f.ID] {
				continue
			}
			evs = append(evs, hub.PatchElements(buf.String()))
			if tile, ok := f.Model.(view.Tile); ok {
				tileSent[tile.Name] = true
				carried[ui.CheckMetaID(tile.Name)] = true
			}
		}
	}
	for _, g := range v.Groups {
		for _, c := range g.Checks {
			evs = append(evs, s.beatDiff(ctx, c, tileSent[c.Name])...)
		}
	}
	return evs
}

// checkRoomTick re-sends a watched check's summary when it changed (latency,
// age): in-memory only, no storage reads.
func (s *Scheduler) checkRoomTick(ctx context.Context, room, name string) {
	st, ok := s.o.Checks.Status(name)
	if !ok {
		return
	}
	var buf bytes.Buffer
	if err := ui.CheckSummary(view.CheckSummary(st, s.o.Now())).Render(ctx, &buf); err != nil {
		return
	}
	key := room + "\x00" + ui.CheckSummaryID
	if !bytes.Equal(s.checkSent[key], buf.Bytes()) {
		s.checkSent[key] = bytes.Clone(buf.Bytes())
		s.o.Hub.BroadcastToRoom(room, hub.PatchElements(buf.String()))
	}
}

// checkRoomEvent pushes a state change to the check's room: everything but
// the chart, since results, events and uptime all moved.
func (s *Scheduler) checkRoomEvent(ctx context.Context, name string) {
	room := view.CheckRoom(name)
	if s.o.Hub.RoomCounts()[room] == 0 {
		return
	}
	st, ok := s.o.Checks.Status(name)
	if !ok {
		return
	}
	v, err := view.CheckPageUpdate(s.o.Store, st, s.o.Now())
	if err != nil {
		s.log.Warn("check state", "check", name, "err", err)
		return
	}
	s.o.Hub.BroadcastToRoom(room, view.CheckUpdate(ctx, v)...)
}
