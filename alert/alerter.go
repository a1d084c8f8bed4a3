package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/collectors/system"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/flow"
	"github.com/dashd/dashd/internal/grid"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/storage"
)

// Store is the storage the Alerter reads and writes (a *storage.DB).
type Store interface {
	AddAlertChange(ctx context.Context, c model.AlertChange) ([]model.OutboxItem, error)
	Outbox(channel string, limit int) ([]model.OutboxItem, error)
	MarkOutbox(ctx context.Context, channel string, ids []uint64, u model.OutboxUpdate) error
	OutboxStats() ([]model.OutboxStat, error)
	Deliveries(limit int) ([]model.OutboxItem, error)
	ActiveAlerts() ([]model.Alert, error)
	Silences(since time.Time) ([]model.Silence, error)
	AddSilence(ctx context.Context, s model.Silence) (model.Silence, error)
	ExpireSilence(ctx context.Context, id uint64, at time.Time) error
	WriteHealth() storage.WriteHealth
	Range(series string, from, to time.Time, maxPoints int) ([]storage.SeriesPoint, error)
}

// Recorder is the flow the Alerter attaches to and records its own alert
// changes through (a *flow.Recorder).
type Recorder interface {
	Attach(a flow.Attacher)
	Event(e model.Event)
}

// Latest is the latest state the Alerter reads (a *state.Latest).
type Latest interface {
	Config() *config.Config
	System() (system.Snapshot, bool)
	NextSystem() <-chan struct{}
}

// Checks is the checks' live state (a *collectors.Runner).
type Checks interface {
	Status(name string) (collectors.Status, bool)
	Statuses() []collectors.Status
}

// Acknowledgements says which alerts someone has taken on (the incident
// Manager: the alerts of an acknowledged, open incident). Reminders of
// those stop; first messages and resolutions still go out. AckedBy is
// called with the Alerter's lock held: it must answer from memory,
// without blocking or calling the Alerter.
type Acknowledgements interface {
	AckedBy(alertKey string) (user string, ok bool)
}

// Sender delivers one message to one channel (alert/channel's senders).
type Sender interface {
	Send(ctx context.Context, m model.AlertMessage) error
}

// Options configures an Alerter. Every field but Logger, Now and Host is
// required.
type Options struct {
	Store    Store
	Recorder Recorder
	// Events is the Alerter's subscription to the flow: it wakes the
	// deliverers after an event with items was stored.
	Events *flow.Subscription
	Latest Latest
	Checks Checks
	// NewSender builds a channel's sender; Permanent and RetryAfter read
	// its errors (alert/channel's New, IsPermanent and RetryAfter).
	NewSender  func(config.Channel) (Sender, error)
	Permanent  func(error) bool
	RetryAfter func(error) (time.Duration, bool)
	// Describe says what a channel is without its secrets, for pages.
	Describe func(config.Channel) string
	// Acks, when set, stops the reminders of acknowledged alerts.
	Acks Acknowledgements
	// Host names this dashd in every alert (the host label).
	Host string
	// Hosts, on a fleet hub, gives each fleet host's hello labels, added
	// to its alerts (see fleet.go); nil elsewhere.
	Hosts  HostLabels
	Logger *slog.Logger
	Now    func() time.Time
}

// Alerter turns events into alerts and delivers them. Create it with New
// (which attaches it to the flow) and run it with Run.
type Alerter struct {
	o   Options
	log *slog.Logger

	// mu guards what follows. It is held while a reminder round is
	// stored (queueReminders) and while Attach reads Checks.Status (the
	// Runner calls nobody while it holds its own lock), never while
	// calling a Sender or the Recorder.
	mu       sync.Mutex
	active   map[string]*active // firing alerts by key
	silences []model.Silence
	// handoff is the alert of the next event of kind alert: set by emit,
	// taken by Attach on the same call stack (only the Alerter's own loop
	// emits such events).
	handoff *model.Alert
	wakes   map[string]chan struct{} // deliverer wake-ups by channel
	stats   map[string]*channelStats

	// remindNow asks the loop for a reminder round at once (a silence
	// was expired by hand); buffered, never blocks the caller.
	remindNow chan struct{}
	// tick is how often the loop evaluates dashd's own alerts and
	// reminders (defaultTick; tests shorten it).
	tick time.Duration
}

// defaultTick is the pace of dashd's own alerts and the reminder rounds.
const defaultTick = 5 * time.Second

// active is a firing alert and what the channels heard of it.
type active struct {
	alert model.Alert
	// silenced: a silence or maintenance window matched when it fired (or
	// at the last reminder round), so nothing was queued.
	silenced bool
	// queued is when each channel last got an item for it (fired or
	// reminded); absent: the channel has not heard of it.
	queued map[string]time.Time
}

// channelStats counts deliveries for /metrics and the alerts page.
type channelStats struct {
	delivered, failed, retried uint64
}

// New returns an Alerter attached to the flow, or an error naming a
// missing part. It reads the alerts that fired when the previous run
// ended (and the silences) before it attaches, so the first event after a
// restart already continues them: a check that comes back up resolves its
// alert, one still down keeps its StartsAt.
func New(o Options) (*Alerter, error) {
	if o.Store == nil || o.Recorder == nil || o.Events == nil || o.Latest == nil || o.Checks == nil ||
		o.NewSender == nil || o.Permanent == nil || o.RetryAfter == nil || o.Describe == nil {
		return nil, errors.New("alert: Store, Recorder, Events, Latest, Checks, NewSender, Permanent, RetryAfter and Describe are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	a := &Alerter{o: o, log: o.Logger, active: map[string]*active{}, wakes: map[string]chan struct{}{},
		stats: map[string]*channelStats{}, remindNow: make(chan struct{}, 1), tick: defaultTick}
	if err := a.load(); err != nil {
		return nil, err
	}
	o.Recorder.Attach(a)
	return a, nil
}

var _ flow.Attacher = (*Alerter)(nil)

// load reads the alert state and silences a previous run left. Channels
// are taken to have heard of every active alert just now: a restart must
// not set off a round of reminders (what was queued is in the outbox).
// An alert a silence or maintenance window holds back now is taken as
// unheard, so that it goes out when the silence ends.
func (a *Alerter) load() error {
	alerts, err := a.o.Store.ActiveAlerts()
	if err != nil {
		return fmt.Errorf("alert: load active alerts: %w", err)
	}
	now := a.o.Now()
	sil, err := a.o.Store.Silences(now)
	if err != nil {
		return fmt.Errorf("alert: load silences: %w", err)
	}
	cfg := a.o.Latest.Config()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.silences = sil
	for _, al := range alerts {
		st := &active{alert: al, queued: map[string]time.Time{}, silenced: a.silenced(cfg, al, now)}
		if !st.silenced {
			for _, t := range routeAlert(cfg.Alerts, al) {
				st.queued[t.channel] = now
			}
		}
		a.active[al.Key] = st
	}
	return nil
}

// Attach works out what an event changes for alerting; the Recorder writes
// it with the event. It runs on the producer's goroutine and only computes.
func (a *Alerter) Attach(e model.Event) model.AlertChange {
	cfg := a.o.Latest.Config()
	a.mu.Lock()
	defer a.mu.Unlock()
	al, ok := a.alertFor(e)
	if !ok {
		return model.AlertChange{}
	}
	return a.change(cfg, al, e.Time)
}

// alertFor builds the alert of an event; ok false when the event is no
// alert change. a.mu is held.
func (a *Alerter) alertFor(e model.Event) (model.Alert, bool) {
	switch e.Kind {
	case model.EventCheck:
		return a.checkAlert(e)
	case model.EventFlapping:
		return a.flapAlert(e), true
	case model.EventHost:
		return a.hostAlert(e)
	case model.EventAlert:
		if a.handoff == nil {
			return model.Alert{}, false
		}
		al := *a.handoff
		a.handoff = nil
		return al, true
	case model.EventConfig:
		return a.dashdAlert("config", config.SeverityWarning, model.AlertFiring,
			"configuration reload rejected", e.Reason), true
	case model.EventReload:
		if _, ok := a.active[dashdKey("config")]; ok {
			return a.dashdAlert("config", config.SeverityWarning, model.AlertResolved,
				"configuration accepted again", e.Reason), true
		}
	}
	return model.Alert{}, false
}

// checkAlert is the alert of a check's state change.
func (a *Alerter) checkAlert(e model.Event) (model.Alert, bool) {
	al := model.Alert{Key: checkKey(e.Check), Source: model.AlertSourceCheck, Name: e.Check, Reason: e.Reason,
		Labels: map[string]string{"host": a.o.Host, "check": e.Check}}
	if st, ok := a.o.Checks.Status(e.Check); ok {
		al.Labels["type"] = st.Type
		if st.Group != "" {
			al.Labels["group"] = st.Group
		}
	}
	switch e.To {
	case model.StateDown:
		al.State, al.Severity, al.Summary = model.AlertFiring, config.SeverityCritical, e.Check+" is down"
	case model.StateDegraded:
		al.State, al.Severity, al.Summary = model.AlertFiring, config.SeverityWarning, e.Check+" is degraded"
	case model.StateUp:
		// Also from unknown: a check starting up (change drops the
		// resolution when nothing fires) or, after a restart, coming
		// back up while its alert from before still fires.
		al.State, al.Summary = model.AlertResolved, e.Check+" recovered"
	default:
		return al, false
	}
	return al, true
}

// flapAlert is the alert of a check that started or stopped flapping: a
// warning of its own, next to the check's state alert.
func (a *Alerter) flapAlert(e model.Event) model.Alert {
	al := model.Alert{Key: checkKey(e.Check) + ":flapping", Source: model.AlertSourceCheck, Name: e.Check, Reason: e.Reason,
		Severity: config.SeverityWarning, Labels: map[string]string{"host": a.o.Host, "check": e.Check, "flapping": "true"}}
	if st, ok := a.o.Checks.Status(e.Check); ok {
		al.Labels["type"] = st.Type
		if st.Group != "" {
			al.Labels["group"] = st.Group
		}
	}
	if e.To == model.StateUp {
		al.State, al.Summary = model.AlertResolved, e.Check+" stopped flapping"
	} else {
		al.State, al.Summary = model.AlertFiring, e.Check+" is flapping"
	}
	return al
}

// resolveRemoved resolves the alerts of checks a reload removed: nothing
// will ever report them up again.
func (a *Alerter) resolveRemoved() {
	cfg := a.o.Latest.Config()
	a.mu.Lock()
	var gone []model.Alert
	for _, st := range a.active {
		if st.alert.Source != model.AlertSourceCheck || !a.local(st.alert) {
			continue // a fleet host's check is not in this configuration
		}
		if _, ok := cfg.Check(st.alert.Name); !ok {
			al := st.alert
			al.State, al.Summary, al.Reason = model.AlertResolved, al.Name+" removed from the configuration", "the check no longer exists"
			gone = append(gone, al)
		}
	}
	a.mu.Unlock()
	for _, al := range gone {
		a.emit(al, a.o.Now())
	}
}

func checkKey(name string) string { return model.AlertSourceCheck + ":" + name }
func dashdKey(name string) string { return model.AlertSourceDashd + ":" + name }

// dashdAlert is one of dashd's alerts about itself ("dashd.storage"...).
func (a *Alerter) dashdAlert(name, severity string, state model.AlertState, summary, reason string) model.Alert {
	rule := "dashd." + name
	return model.Alert{Key: dashdKey(name), Source: model.AlertSourceDashd, Name: rule, State: state,
		Severity: severity, Summary: summary, Reason: reason,
		Labels: map[string]string{"host": a.o.Host, "rule": rule, "severity": severity}}
}

// change applies an alert transition at t: the new state, and the items
// of the channels that must hear of it. a.mu is held.
func (a *Alerter) change(cfg *config.Config, al model.Alert, t time.Time) model.AlertChange {
	ac := cfg.Alerts
	old := a.active[al.Key]
	switch al.State {
	case model.AlertFiring:
		if old != nil && old.alert.Severity == al.Severity && old.alert.Summary == al.Summary {
			return model.AlertChange{} // nothing new
		}
		al.StartsAt = t
		if old != nil {
			al.StartsAt = old.alert.StartsAt
		}
	case model.AlertResolved:
		if old == nil {
			return model.AlertChange{} // never fired (or fired before a restart we lost)
		}
		al.StartsAt, al.EndsAt = old.alert.StartsAt, t
		if al.Severity == "" {
			al.Severity = old.alert.Severity
		}
	}
	if al.Labels == nil {
		al.Labels = map[string]string{}
	}
	al.Labels["severity"] = al.Severity
	al.URL = alertURL(ac.ExternalURL, al)

	change := model.AlertChange{Alerts: []model.Alert{al}}
	silenced := a.silenced(cfg, al, t)
	if al.State == model.AlertResolved {
		delete(a.active, al.Key)
		for _, tg := range resolveTargets(ac, al, old.alert) {
			// Only channels that heard of the problem hear it ended.
			if _, heard := old.queued[tg.channel]; heard && tg.sendResolved && !silenced {
				change.Outbox = append(change.Outbox, item(tg.channel, al, t))
			}
		}
		return change
	}
	targets := routeAlert(ac, al)
	st := &active{alert: al, silenced: silenced, queued: map[string]time.Time{}}
	if old != nil {
		st.queued = old.queued
	}
	a.active[al.Key] = st
	if !silenced {
		for _, tg := range targets {
			change.Outbox = append(change.Outbox, item(tg.channel, al, t))
			st.queued[tg.channel] = t
		}
	}
	return change
}

func item(channel string, al model.Alert, t time.Time) model.OutboxItem {
	return model.OutboxItem{Channel: channel, Created: t, Alert: al}
}

// emit records an alert change that is not a check's (a host rule,
// dashd's own) as an event; Attach then writes it like any other.
func (a *Alerter) emit(al model.Alert, t time.Time) {
	a.mu.Lock()
	a.handoff = &al
	a.mu.Unlock()
	// The key goes in Check: it names the rule and what it watches, so
	// that subscribers (incidents) can tell one alert from another.
	a.o.Recorder.Event(alertEvent(al, t))
	a.mu.Lock()
	a.handoff = nil // taken by Attach; cleared should the recorder not have called it
	a.mu.Unlock()
}

// firing reports whether the alert with key is active.
func (a *Alerter) firing(key string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.active[key]
	return ok
}

// Run delivers and evaluates until ctx ends; it returns nil then, once
// every goroutine it started has ended. It runs one deliverer per
// configured channel (restarted when the channel's configuration changes),
// the host rules on every sample, dashd's own alerts, reminders and the
// silences' ends. Run it once per Alerter.
func (a *Alerter) Run(ctx context.Context) error {
	d := newDelivery(a)
	defer d.stop()
	d.sync(ctx, a.o.Latest.Config().Alerts)
	self := &selfAlerts{a: a, ctx: ctx}
	defer self.wait()
	h := newHostRules(a)
	// The periodic checks wake on the whole-second grid, with the sampler
	// and the scheduler, not at a moment of their own.
	tick := time.NewTimer(grid.Until(a.tick))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case m := <-a.o.Events.C():
			if m.Kind == flow.KindEvent {
				if m.Event.Kind == model.EventReload {
					d.sync(ctx, a.o.Latest.Config().Alerts)
					h.reload()
					a.resolveRemoved()
				}
				a.wakeAll()
			}
		case <-a.o.Latest.NextSystem():
			h.sample()
		case <-tick.C:
			self.check()
			a.remind()
			tick.Reset(grid.Until(a.tick))
		case <-a.remindNow:
			a.remind()
		}
	}
}

// wakeAll tells every deliverer to look at its queue.
func (a *Alerter) wakeAll() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, w := range a.wakes {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}

// sameChannels reports whether two configurations of a channel deliver
// alike (its deliverer restarts otherwise).
func sameChannels(x, y config.Channel) bool { return reflect.DeepEqual(x, y) }
