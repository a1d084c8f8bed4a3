// Package statuspage keeps the public status page's live streams current.
// Its Publisher is a subscriber of the flow, like the notifier: check state
// changes, incident changes (opened, public updates, resolved) and reloads
// wake it; so do the start and end of a maintenance window covering a
// shown check, and a tick every minute (the day's bar, the past incidents'
// window). Each wake-up (changes within Debounce gathered into one)
// rebuilds the page's view (view.StatusPage) and broadcasts to the room
// view.RoomStatus only the parts that differ from what the room was last
// sent (view.StatusPatches).
//
// Streams that (re)connect get the whole live part from the server's own
// cached build, so the Publisher works only while the room has streams and
// the page is enabled; otherwise it forgets what it sent and rests.
//
// # Ownership
//
// All state belongs to Run's goroutine; nothing is shared, no lock.
package statuspage

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/flow"
	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/view"
)

// Defaults of Options.
const (
	DefaultDebounce = 250 * time.Millisecond
	DefaultTick     = time.Minute
)

// Latest is the configuration in force (a *state.Latest).
type Latest interface {
	Config() *config.Config
}

// Checks is the checks' live state (a *collectors.Runner).
type Checks interface {
	Statuses() []collectors.Status
}

// Hub carries the patches to the page's streams (a *hub.Hub).
type Hub interface {
	BroadcastToRoom(room string, events ...hub.Event)
	RoomCounts() map[string]int
}

// Options are the Publisher's parts, all required but Logger, Now,
// Debounce and Tick.
type Options struct {
	Latest    Latest
	Checks    Checks
	Uptime    view.StatusUptime    // daily uptime (a *storage.DB)
	Incidents view.StatusIncidents // (an *incident.Manager)
	Hub       Hub
	// Events is the Publisher's flow subscription (rec.Subscribe).
	Events *flow.Subscription
	Logger *slog.Logger
	Now    func() time.Time
	// Debounce gathers the changes of a storm into one broadcast.
	Debounce time.Duration
	// Tick is the longest the page goes without a rebuild.
	Tick time.Duration
}

// Publisher is the status page's live feed. Run it once.
type Publisher struct {
	o   Options
	log *slog.Logger
	// Run's goroutine only.
	sent    view.StatusSent
	dropped uint64
}

// New checks the parts and fills the defaults.
func New(o Options) (*Publisher, error) {
	if o.Latest == nil || o.Checks == nil || o.Uptime == nil || o.Incidents == nil || o.Hub == nil || o.Events == nil {
		return nil, errors.New("statuspage: Latest, Checks, Uptime, Incidents, Hub and Events are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Debounce <= 0 {
		o.Debounce = DefaultDebounce
	}
	if o.Tick <= 0 {
		o.Tick = DefaultTick
	}
	return &Publisher{o: o, log: o.Logger}, nil
}

// Run publishes until ctx ends; it returns nil then.
func (p *Publisher) Run(ctx context.Context) error {
	tick := time.NewTimer(p.untilNextWake())
	defer tick.Stop()
	debounce := time.NewTimer(time.Hour)
	debounce.Stop()
	defer debounce.Stop()
	armed := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case m := <-p.o.Events.C():
			if d := p.o.Events.Dropped(); d != p.dropped {
				// Missed messages may have been changes: rebuild.
				p.dropped = d
				m = flow.Message{Kind: flow.KindEvent, Event: model.Event{Kind: model.EventReload}}
			}
			if relevant(m) && !armed {
				armed = true
				debounce.Reset(p.o.Debounce)
			}
		case <-debounce.C:
			armed = false
			p.publish(ctx)
		case <-tick.C:
			p.publish(ctx)
			tick.Reset(p.untilNextWake())
		}
	}
}

// relevant reports whether a flow message may change the page: a check's
// state (or flapping), an incident, a reload, a start. Results alone move
// only the bars, which the tick picks up.
func relevant(m flow.Message) bool {
	if m.Kind != flow.KindEvent {
		return false
	}
	switch m.Event.Kind {
	case model.EventCheck, model.EventFlapping, model.EventIncident, model.EventReload, model.EventStart:
		return true
	}
	return false
}

// untilNextWake is the time to the next whole tick (minutes by default,
// so recurring maintenance, which starts on whole minutes, shows on time)
// or to the next maintenance boundary of a shown check, if sooner. A
// little after it, so the boundary has passed when the page is built.
func (p *Publisher) untilNextWake() time.Duration {
	now := p.o.Now()
	next := now.Truncate(p.o.Tick).Add(p.o.Tick)
	if cfg := p.o.Latest.Config(); cfg != nil && cfg.StatusPage.Enabled {
		next = view.NextStatusChange(cfg, cfg.StatusPage.Shows, now, next)
	}
	return next.Sub(now) + 50*time.Millisecond
}

// publish rebuilds the page and broadcasts what changed, while the page is
// on and watched.
func (p *Publisher) publish(ctx context.Context) {
	cfg := p.o.Latest.Config()
	if cfg == nil || !cfg.StatusPage.Enabled || p.o.Hub.RoomCounts()[view.RoomStatus] == 0 {
		// Streams that join get the whole state from the server; start
		// afresh then.
		p.sent = view.StatusSent{}
		return
	}
	v, err := view.StatusPage(view.StatusInputs{Config: cfg, Checks: p.o.Checks.Statuses(), Uptime: p.o.Uptime,
		Incidents: p.o.Incidents, Now: p.o.Now()})
	if err != nil {
		p.log.Warn("status page: part of it not read", "err", err)
	}
	evs, sent, err := view.StatusPatches(ctx, v, p.sent)
	if err != nil {
		p.log.Error("status page: not published", "err", err)
		return
	}
	p.sent = sent
	if len(evs) > 0 {
		p.o.Hub.BroadcastToRoom(view.RoomStatus, evs...)
		p.log.Debug("status page: published", "events", len(evs))
	}
}
