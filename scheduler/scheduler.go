// Package scheduler turns dashd's latest state into live page updates. Every
// broadcast interval (on each new host sample when sampling runs at the same
// interval) it builds the dashboard's view, renders the fragments whose view
// data changed, compares each with the bytes it last broadcast for that
// element id and sends only the ones that changed to the hub room
// "dashboard"; numbers that move every tick go as signals. It also turns check state changes into notifications and
// check-room updates.
//
// # Cost
//
// A tick with no dashboard client renders nothing: it only folds the newest
// host sample into the in-memory sparkline rings (no storage reads). With
// clients it renders only the fragments whose view data changed (usually a
// sparkline every few seconds and a tile when a check reports something new)
// and compares their bytes.
package scheduler

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/a-h/templ"

	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/collectors/system"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/selfstat"
	"github.com/dashd/dashd/storage"
	"github.com/dashd/dashd/ui"
)

// Room names.
const (
	RoomDashboard   = "dashboard"
	checkRoomPrefix = "check:"
)

// CheckRoom is the hub room of one check's detail page.
func CheckRoom(name string) string { return checkRoomPrefix + name }

// Defaults for Options.
const (
	DefaultInterval    = time.Second
	DefaultSparkStep   = 5 * time.Second
	DefaultSparkPoints = 60
	// RecentEvents is how many events the dashboard lists.
	RecentEvents = 8
	// NotificationsShown is how many notifications the panel lists.
	NotificationsShown = 20
)

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

// Store is the part of storage the scheduler uses.
type Store interface {
	Events(beforeID uint64, limit int) ([]model.Event, error)
	AddEvent(ctx context.Context, e model.Event) (model.Event, error)
	AddNotification(ctx context.Context, n model.Notification) (model.Notification, error)
	Notifications(session string, limit int) ([]storage.SessionNotification, error)
	UnreadCount(session string) (int, error)
	LastResults(check string, n int) ([]model.Result, error)
	Results(check string, from, to time.Time, limit int) ([]model.Result, error)
	Range(series string, from, to time.Time, maxPoints int) ([]storage.SeriesPoint, error)
	Uptime(check string, window time.Duration) (storage.UptimeStats, error)
	UptimeDaily(check string, days int) ([]storage.DayUptime, error)
	// WriteHealth says whether history is being written (a full disk...).
	WriteHealth() storage.WriteHealth
}

// Hub is the part of the hub the scheduler sends through.
type Hub interface {
	BroadcastToRoom(room string, events ...hub.Event)
	SendToSession(sessionID string, events ...hub.Event)
	RoomCounts() map[string]int
	// Sessions lists the sessions with a stream open now.
	Sessions() []string
}

// Options configures a Scheduler. Hub, Latest, Checks and Store are required.
type Options struct {
	Hub    Hub
	Latest Latest
	Checks Checks
	Store  Store
	// Interval is dashboard.broadcast_interval (default 1s).
	Interval time.Duration
	// SampleInterval is collect.interval. When it equals Interval, each new
	// host sample triggers the broadcast (see Run); 0 means timer only.
	SampleInterval time.Duration
	// SparkStep is the width of one sparkline point, SparkPoints their
	// number (defaults 5s and 60: the last five minutes).
	SparkStep   time.Duration
	SparkPoints int
	Version     string
	Logger      *slog.Logger
	Now         func() time.Time
}

// Scheduler renders and broadcasts. Create it with New and drive it with Run.
//
// Lock order: mu only; no hub or store call is made while holding it, except
// for the in-memory reads in snapshotLocked.
type Scheduler struct {
	o   Options
	log *slog.Logger

	events  chan model.Event
	cadence chan cadence

	mu        sync.Mutex
	rings     map[string]*ring
	lastSys   time.Time
	lastCards []card // cards of the snapshot at lastSys (read-only)
	rows      map[string]rowMemo
	sent      map[string][]byte       // element id -> bytes last broadcast to room dashboard
	models    map[string]any          // element id -> view model of those bytes
	sentVals  map[string]ui.StatValue // card key -> signal value last broadcast
	checkSent map[string][]byte       // room + element id -> bytes last broadcast
	recent    []model.Event           // newest first, at most RecentEvents
}

// New returns a scheduler; it loads the recent events from the store.
func New(o Options) *Scheduler {
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.SparkStep <= 0 {
		o.SparkStep = DefaultSparkStep
	}
	if o.SparkPoints <= 1 {
		o.SparkPoints = DefaultSparkPoints
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Scheduler{
		o: o, log: o.Logger.With("component", "scheduler"),
		events:    make(chan model.Event, 256),
		cadence:   make(chan cadence, 1),
		rings:     map[string]*ring{},
		rows:      map[string]rowMemo{},
		sent:      map[string][]byte{},
		models:    map[string]any{},
		sentVals:  map[string]ui.StatValue{},
		checkSent: map[string][]byte{},
	}
	if evs, err := o.Store.Events(0, RecentEvents); err != nil {
		s.log.Warn("recent events not loaded", "err", err)
	} else {
		s.recent = evs
	}
	return s
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

// Run ticks until ctx ends; it returns nil then. It ticks every Interval,
// or, when SampleInterval equals Interval, on every new host sample (and
// every 5s should sampling stall).
func (s *Scheduler) Run(ctx context.Context) error {
	c := cadence{broadcast: s.o.Interval, sample: s.o.SampleInterval}
	s.Tick(ctx)
	last := time.Now()
	timer := time.NewTimer(c.wait())
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
			timer.Reset(c.wait())
		case <-next:
			s.Tick(ctx)
			last = time.Now()
		case <-timer.C:
			if !c.sampleDriven() || time.Since(last) >= c.broadcast {
				s.Tick(ctx)
				last = time.Now()
			}
			timer.Reset(c.wait())
		case ev := <-s.events:
			s.handleEvent(ctx, ev)
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

// Record takes an event to show: check state changes (from the Runner's
// OnEvent) and dashd's own events (start, reload, rejected config). An event
// without an ID is stored first. Check state changes also become
// notifications pushed to every session. It never blocks: when the queue is
// full the event is dropped and logged.
func (s *Scheduler) Record(ev model.Event) {
	select {
	case s.events <- ev:
	default:
		s.log.Error("event queue full; event not shown", "kind", ev.Kind, "check", ev.Check)
	}
}

// Tick runs one broadcast round: fold the newest host sample into the
// sparklines, then, if anyone watches, send what changed. Run calls it every
// interval; tests call it directly.
func (s *Scheduler) Tick(ctx context.Context) {
	snap, ok := s.o.Latest.System()
	s.mu.Lock()
	if ok && snap.Time.After(s.lastSys) {
		s.observeLocked(snap)
	}
	s.mu.Unlock()

	rooms := s.o.Hub.RoomCounts()
	if rooms[RoomDashboard] > 0 {
		if evs := s.dashboardDiff(ctx, snap); len(evs) > 0 {
			s.o.Hub.BroadcastToRoom(RoomDashboard, evs...)
		}
	}
	for room, n := range rooms {
		if n > 0 && strings.HasPrefix(room, checkRoomPrefix) {
			s.checkRoomTick(ctx, room)
		}
	}
}

// self returns dashd's footprint for its card, nil before the first reading.
func (s *Scheduler) self() *selfstat.Footprint {
	if f, ok := s.o.Latest.Self(); ok {
		return &f
	}
	return nil
}

// observeLocked feeds the rings from one snapshot and keeps its cards for
// the tick's broadcast.
func (s *Scheduler) observeLocked(snap system.Snapshot) {
	s.lastSys = snap.Time
	s.lastCards = cards(snap, s.self())
	for _, c := range s.lastCards {
		r := s.rings[c.Key]
		if r == nil {
			r = newRing(s.o.SparkPoints)
			s.rings[c.Key] = r
		}
		r.add(snap.Time, c.metric, s.o.SparkStep)
	}
}

// statCards builds the cards of a snapshot with their sparklines.
func (s *Scheduler) statCards(snap system.Snapshot) []ui.StatCard {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.lastCards
	if cs == nil || !snap.Time.Equal(s.lastSys) {
		cs = cards(snap, s.self())
	}
	out := make([]ui.StatCard, len(cs))
	window := time.Duration(s.o.SparkPoints) * s.o.SparkStep
	for i, c := range cs {
		var vals []float64
		if r := s.rings[c.Key]; r != nil {
			vals = r.values()
		}
		hi := c.hi
		if c.Key == "load" {
			_, dhi := dataMax(vals)
			hi = math.Max(hi, dhi)
		}
		c.Spark = ui.SparkView{ID: ui.SparkID(c.Key), Values: vals, Min: c.lo, Max: hi,
			Label: c.Title + ", last " + ui.FormatDuration(window)}
		out[i] = c.StatCard
	}
	return out
}

func dataMax(vs []float64) (bool, float64) {
	m, ok := 0.0, false
	for _, v := range vs {
		if !math.IsNaN(v) && v > m {
			m, ok = v, true
		}
	}
	return ok, m
}

// DashboardView builds the full dashboard from the latest state, for the
// page and for on-connect.
func (s *Scheduler) DashboardView() ui.DashboardView {
	snap, _ := s.o.Latest.System()
	return s.dashboardView(snap)
}

func (s *Scheduler) dashboardView(snap system.Snapshot) ui.DashboardView {
	now := s.o.Now()
	sts := s.o.Checks.Statuses()
	v := ui.DashboardView{
		Host:   HostView(snap, s.o.Version),
		Status: Overall(sts),
		Stats:  s.statCards(snap),
		Groups: s.checkGroups(sts, now),
		Top:    Top(snap.Top),
	}
	s.mu.Lock()
	for _, e := range s.recent {
		v.Events = append(v.Events, EventRow(e, now))
	}
	s.mu.Unlock()
	if h := s.o.Store.WriteHealth(); !h.OK {
		v.Storage = h.String()
	}
	if probs, _ := s.o.Latest.Rejected(); len(probs) > 0 {
		for _, p := range probs {
			v.Problems = append(v.Problems, p.String())
		}
	}
	return v
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
}

// checkGroups is CheckGroups with the rows memoised per check.
func (s *Scheduler) checkGroups(sts []collectors.Status, now time.Time) []ui.CheckGroup {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.rows) > len(sts) { // checks were removed: forget them
		clear(s.rows)
	}
	return groupRows(sts, func(st collectors.Status) ui.CheckRow {
		k := statusKey{st.Name, st.Group, st.Reason, st.State, st.Latency, st.LastChange, st.Flapping}
		m, ok := s.rows[st.Name]
		if !ok || m.key != k {
			m = rowMemo{key: k, row: CheckRow(st, time.Time{})}
			m.row.Since = ""
			s.rows[st.Name] = m
		}
		r := m.row
		if !st.LastChange.IsZero() {
			r.Since = ui.FormatAge(now.Sub(st.LastChange))
		}
		return r
	})
}

// fragment is one patchable element of the dashboard. model is the view
// data it renders: a fragment whose model equals the one last sent is not
// rendered again (most ticks change a few values and nothing else).
type fragment struct {
	id    string
	model any
	comp  func() templ.Component // built only when rendered
}

func dashboardFragments(v ui.DashboardView) []fragment {
	f := []fragment{
		{ui.HostID, v.Host, func() templ.Component { return ui.HostHeader(v.Host) }},
		{ui.StatusBadgeID, v.Status, func() templ.Component { return ui.StatusBadge(v.Status) }},
		{ui.ConfigBannerID, v.Problems, func() templ.Component { return ui.ConfigBanner(v.Problems) }},
		{ui.StorageBannerID, v.Storage, func() templ.Component { return ui.StorageBanner(v.Storage) }},
		// The grid's identity (which cards) is keyed separately below; its
		// sparklines are their own fragments.
		{ui.TopID, v.Top, func() templ.Component { return ui.TopTables(v.Top) }},
		{ui.EventsID, v.Events, func() templ.Component { return ui.EventList(ui.EventsID, "Recent events", v.Events) }},
	}
	for _, c := range v.Stats {
		f = append(f, fragment{c.Spark.ID, c.Spark, func() templ.Component { return ui.Sparkline(c.Spark) }})
	}
	// Tiles go one by one; the grid itself is keyed in dashboardDiff.
	for _, g := range v.Groups {
		for _, c := range g.Checks {
			f = append(f, fragment{ui.CheckTileID(c.Name), c, func() templ.Component { return ui.CheckTile(c) }})
		}
	}
	return f
}

// sameModel reports whether two fragment models render the same. The
// common kinds compare directly (reflect is the fallback); sparkline values
// hold NaN for gaps, which == and DeepEqual never find equal.
func sameModel(a, b any) bool {
	switch x := a.(type) {
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

// dashboardDiff renders the dashboard and returns the events for what changed
// since the last broadcast, remembering what it sent.
func (s *Scheduler) dashboardDiff(ctx context.Context, snap system.Snapshot) []hub.Event {
	v := s.dashboardView(snap)
	var evs []hub.Event

	// Signals first: a new card's expressions need its signal to exist.
	changed := map[string]ui.StatValue{}
	s.mu.Lock()
	for _, c := range v.Stats {
		if old, ok := s.sentVals[c.Key]; !ok || old != c.Value {
			changed[c.Key] = c.Value
			s.sentVals[c.Key] = c.Value
		}
	}
	s.mu.Unlock()
	if len(changed) > 0 {
		evs = append(evs, hub.PatchSignals(map[string]any{"_v": changed}))
	}

	key := statsKey(v.Stats)
	s.mu.Lock()
	gridChanged := !bytes.Equal(s.sent[ui.StatsID], key)
	if gridChanged {
		s.sent[ui.StatsID] = key
	}
	s.mu.Unlock()
	if gridChanged {
		ev := hub.PatchComponent(ctx, ui.StatsGrid(v.Stats))
		evs = append(evs, ev)
		// The grid carries the sparklines: remember them as sent.
		s.mu.Lock()
		for _, c := range v.Stats {
			s.sent[c.Spark.ID] = []byte(ui.SparklineSVG(c.Spark))
			s.models[c.Spark.ID] = c.Spark
		}
		s.mu.Unlock()
	}

	var buf bytes.Buffer
	ckey := checksKey(v.Groups)
	s.mu.Lock()
	checksChanged := s.sent[ui.ChecksID] == nil || !bytes.Equal(s.sent[ui.ChecksID], ckey)
	if checksChanged {
		s.sent[ui.ChecksID] = ckey
	}
	s.mu.Unlock()
	if checksChanged {
		evs = append(evs, hub.PatchComponent(ctx, ui.ChecksGrid(v.Groups)))
		// The grid carries the tiles: remember them as sent.
		for _, g := range v.Groups {
			for _, c := range g.Checks {
				buf.Reset()
				if err := ui.CheckTile(c).Render(ctx, &buf); err == nil {
					s.mu.Lock()
					s.sent[ui.CheckTileID(c.Name)] = bytes.Clone(buf.Bytes())
					s.models[ui.CheckTileID(c.Name)] = c
					s.mu.Unlock()
				}
			}
		}
	}

	for _, f := range dashboardFragments(v) {
		s.mu.Lock()
		prev, known := s.models[f.id]
		s.mu.Unlock()
		if known && sameModel(prev, f.model) {
			continue
		}
		buf.Reset()
		if err := f.comp().Render(ctx, &buf); err != nil {
			s.log.Error("render fragment", "id", f.id, "err", err)
			continue
		}
		s.mu.Lock()
		s.models[f.id] = f.model
		same := bytes.Equal(s.sent[f.id], buf.Bytes())
		if !same {
			s.sent[f.id] = bytes.Clone(buf.Bytes())
		}
		s.mu.Unlock()
		if !same {
			evs = append(evs, hub.PatchElements(buf.String()))
		}
	}
	return evs
}

// DashboardState returns the events that bring a fresh dashboard stream to
// the current state: every fragment and every value. The page was rendered
// moments (or, on a reconnect, hours) before.
func (s *Scheduler) DashboardState(ctx context.Context) []hub.Event {
	v := s.DashboardView()
	vals := make(map[string]ui.StatValue, len(v.Stats))
	for _, c := range v.Stats {
		vals[c.Key] = c.Value
	}
	evs := []hub.Event{
		hub.PatchSignals(map[string]any{"_v": vals}),
		hub.PatchComponent(ctx, ui.StatsGrid(v.Stats)),
	}
	for _, f := range dashboardFragments(v) {
		if strings.HasPrefix(f.id, "spark-") {
			continue // inside the grid
		}
		evs = append(evs, hub.PatchComponent(ctx, f.comp()))
	}
	return evs
}

// SessionState returns the events that bring a stream of session up to date
// on its notifications.
func (s *Scheduler) SessionState(ctx context.Context, session string) []hub.Event {
	if session == "" {
		return nil
	}
	rows, unread, err := s.Notifications(session)
	if err != nil {
		s.log.Warn("notifications not loaded", "session", shortID(session), "err", err)
		return nil
	}
	return []hub.Event{
		hub.PatchComponent(ctx, ui.NotificationList(rows)),
		hub.PatchSignals(map[string]int{"unreadCount": unread}),
	}
}

// Notifications returns the session's latest notifications and unread count.
func (s *Scheduler) Notifications(session string) ([]ui.NotificationRow, int, error) {
	ns, err := s.o.Store.Notifications(session, NotificationsShown)
	if err != nil {
		return nil, 0, err
	}
	unread, err := s.o.Store.UnreadCount(session)
	if err != nil {
		return nil, 0, err
	}
	now := s.o.Now()
	rows := make([]ui.NotificationRow, 0, len(ns))
	for _, n := range ns {
		rows = append(rows, NotificationRow(n, now))
	}
	return rows, unread, nil
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// handleEvent stores an event, lists it, and for a check state change pushes
// a notification and the check room's update.
func (s *Scheduler) handleEvent(ctx context.Context, ev model.Event) {
	if ev.ID == 0 {
		stored, err := s.o.Store.AddEvent(ctx, ev)
		if err != nil && !errors.Is(err, context.Canceled) {
			s.log.Error("store event", "kind", ev.Kind, "check", ev.Check, "err", err)
		} else {
			ev = stored
		}
	}
	s.mu.Lock()
	s.recent = append([]model.Event{ev}, s.recent...)
	if len(s.recent) > RecentEvents {
		s.recent = s.recent[:RecentEvents]
	}
	s.mu.Unlock()
	if ev.Kind != model.EventCheck {
		return
	}
	// Screen readers hear the change at once; the fragments follow on the
	// next tick (or right now for the check's room).
	s.o.Hub.BroadcastToRoom(RoomDashboard, hub.PatchComponent(ctx,
		ui.Announce(ev.Check+" is "+ev.To.String()+reasonSuffix(ev.Reason))))
	s.checkRoomEvent(ctx, ev.Check)

	// A check's first result after a start is news to nobody when it is up:
	// without this every restart would notify each check.
	if ev.From == model.StateUnknown && ev.To == model.StateUp {
		return
	}
	n, err := s.o.Store.AddNotification(ctx, NotificationFor(ev))
	if err != nil {
		s.log.Error("store notification", "check", ev.Check, "err", err)
		return
	}
	row := NotificationRow(storage.SessionNotification{Notification: n}, s.o.Now())
	item := hub.PatchComponent(ctx, ui.NotificationItem(row),
		hub.WithSelector("#"+ui.NotifListID), hub.WithMergeMode(hub.ModePrepend))
	empty := hub.RemoveElements("#" + ui.NotifListID + " > .empty")
	// Only sessions with a stream open now: the others get their count from
	// the on-connect state when they come back.
	for _, id := range s.o.Hub.Sessions() {
		unread, err := s.o.Store.UnreadCount(id)
		if err != nil {
			s.log.Warn("unread count", "session", shortID(id), "err", err)
			continue
		}
		s.o.Hub.SendToSession(id, empty, item, hub.PatchSignals(map[string]int{"unreadCount": unread}))
	}
}

func reasonSuffix(r string) string {
	if r == "" {
		return ""
	}
	return ": " + r
}

// Overall counts the checks per state, for the status badge.
func (s *Scheduler) Overall() ui.OverallStatus { return Overall(s.o.Checks.Statuses()) }

// HasCheck reports whether a check of that name is configured.
func (s *Scheduler) HasCheck(name string) bool {
	_, ok := s.o.Checks.Status(name)
	return ok
}
