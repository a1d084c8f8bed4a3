// Package flow is the one path of dashd's findings: host samples, check
// results and events (check state changes and dashd's own) come in here; the
// Recorder stores each exactly once and fans results and events out to
// subscribers (the scheduler, notifications, and whatever comes next: the
// alerter, incidents). Adding a subscriber is one Subscribe call in the
// daemon's wiring.
//
// # Back-pressure
//
// Producers (check goroutines, the sampler) call the Recorder directly and
// only ever wait for storage, which bounds its own waits. Fan-out never
// waits: each subscription has a bounded buffer, and a message that does
// not fit is dropped for that subscriber only, counted, and logged at most
// once a minute. A slow subscriber therefore cannot stall checks, sampling
// or the other subscribers; it sees a gap it can detect (Dropped) and
// recover from (re-reading state).
//
// # Samples
//
// A host sample goes to storage together with dashd's own footprint and the
// latency points of the results since the previous sample (so results cost
// no transaction of their own), and becomes the latest state; subscribers
// wake on the latest state (state.Latest.NextSystem), not on messages.
package flow

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/collectors/system"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/selfstat"
	"github.com/dashd/dashd/series"
	"github.com/dashd/dashd/storage"
)

// Store is the part of storage the Recorder writes.
type Store interface {
	WriteSample(model.Sample) error
	WriteResult(model.Result) error
	// AddEventWith stores an event and what it changes for alerting in
	// one transaction.
	AddEventWith(ctx context.Context, e model.Event, c model.AlertChange) (model.Event, []model.OutboxItem, error)
}

// Attacher adds to an event what must be written in the same transaction:
// the alerter's state changes and outbox items, so that no notification is
// ever lost between an event and its delivery. Attach runs on the
// producer's goroutine, before the event is stored: it must be quick and
// must not block.
type Attacher interface {
	Attach(e model.Event) model.AlertChange
}

// Latest receives the newest host sample and dashd's own footprint.
type Latest interface {
	SetSystem(system.Snapshot)
	SetSelf(selfstat.Footprint)
}

// Meter measures dashd itself; it is read once per host sample, on the
// sampler's goroutine.
type Meter interface {
	Sample(now time.Time) (selfstat.Footprint, error)
	Close() error
}

// Options configures a Recorder. Store and Latest are required.
type Options struct {
	Store  Store
	Latest Latest
	// Meter, when set, adds dashd's footprint to each sample.
	Meter  Meter
	Logger *slog.Logger
	// EventTimeout bounds how long storing one event may take (default 2s).
	EventTimeout time.Duration
}

// maxPending caps latency points waiting for a host sample, should
// sampling stall: the results themselves are stored regardless.
const maxPending = 10_000

// Kind says what a Message carries.
type Kind uint8

// Message kinds.
const (
	KindResult Kind = iota + 1 // a check result
	KindEvent                  // an event, as stored (with its ID)
)

// Message is one fanned-out finding. Exactly one of Result and Event is set,
// as Kind says. Values are shared by every subscriber: read-only.
type Message struct {
	Kind   Kind
	Result model.Result
	Event  model.Event
}

// Recorder stores findings once and fans them out. It is safe for
// concurrent use.
type Recorder struct {
	o   Options
	log *slog.Logger

	mu       sync.Mutex
	pending  []model.Point // latency points for the next sample
	subs     []*Subscription
	attacher Attacher
}

// New returns a Recorder, or an error naming a missing part.
func New(o Options) (*Recorder, error) {
	if o.Store == nil || o.Latest == nil {
		return nil, errors.New("flow: Store and Latest are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.EventTimeout <= 0 {
		o.EventTimeout = 2 * time.Second
	}
	return &Recorder{o: o, log: o.Logger}, nil
}

// Subscription is one subscriber's view of the flow.
type Subscription struct {
	name    string
	c       chan Message
	dropped atomic.Uint64
	lastLog atomic.Int64 // unix nanos of the last drop log line
}

// C delivers the messages, in the order the Recorder saw them.
func (s *Subscription) C() <-chan Message { return s.c }

// Name is the subscriber's name (logs, metrics).
func (s *Subscription) Name() string { return s.name }

// Dropped counts messages this subscriber missed because its buffer was full.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Subscribe adds a subscriber with a buffer of size messages.
func (r *Recorder) Subscribe(name string, size int) *Subscription {
	s := &Subscription{name: name, c: make(chan Message, max(size, 1))}
	r.mu.Lock()
	r.subs = append(r.subs, s)
	r.mu.Unlock()
	return s
}

// Maintainer says whether a check is in a maintenance window at a time.
// An Attacher that also implements it (the alerter) marks the results
// taken in maintenance, which storage then leaves out of uptime.
type Maintainer interface {
	InMaintenance(check string, t time.Time) bool
}

// Attach makes a the one Attacher of every event from now on (the
// alerter): a subscriber that must write with the event, not after it.
func (r *Recorder) Attach(a Attacher) {
	r.mu.Lock()
	r.attacher = a
	r.mu.Unlock()
}

// Subscriptions lists the subscribers (for their drop counts).
func (r *Recorder) Subscriptions() []*Subscription {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*Subscription(nil), r.subs...)
}

// fanOut offers m to every subscriber without waiting.
func (r *Recorder) fanOut(m Message) {
	r.mu.Lock()
	subs := r.subs
	r.mu.Unlock()
	for _, s := range subs {
		select {
		case s.c <- m:
		default:
			n := s.dropped.Add(1)
			now := time.Now().UnixNano()
			if last := s.lastLog.Load(); now-last >= int64(time.Minute) && s.lastLog.CompareAndSwap(last, now) {
				r.log.Warn("subscriber too slow; messages dropped", "subscriber", s.name, "dropped", n)
			}
		}
	}
}

// Result stores a check result and fans it out. Its latency point rides
// along with the next host sample.
func (r *Recorder) Result(res model.Result) {
	r.mu.Lock()
	m, _ := r.attacher.(Maintainer)
	r.mu.Unlock()
	if m != nil && m.InMaintenance(res.Check, res.Time) {
		res.Maintenance = true
	}
	if err := r.o.Store.WriteResult(res); err != nil {
		r.log.Warn("dropping check result", "check", res.Check, "err", err)
	}
	r.mu.Lock()
	// A failed run has no latency worth plotting (a refused connection
	// takes microseconds): the latency series holds only answered runs,
	// and the check page marks failures on the time axis instead.
	if res.State != model.StateDown && len(r.pending) < maxPending {
		r.pending = append(r.pending, model.Point{Series: series.CheckLatency(res.Check),
			Value: float64(res.Latency) / float64(time.Millisecond)})
	}
	r.mu.Unlock()
	r.fanOut(Message{Kind: KindResult, Result: res})
}

// Event stores an event and fans out the stored copy (with its ID). An
// event storage could only hold in memory (a full disk: storage.ErrHeld)
// is fanned out without an ID; one storage refused is still fanned out
// (the live pages show it) and logged.
func (r *Recorder) Event(e model.Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	r.mu.Lock()
	a := r.attacher
	r.mu.Unlock()
	var change model.AlertChange
	if a != nil {
		change = a.Attach(e)
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.o.EventTimeout)
	defer cancel()
	stored, _, err := r.o.Store.AddEventWith(ctx, e, change)
	switch {
	case err == nil:
		e = stored
	case errors.Is(err, storage.ErrHeld):
		r.log.Warn("event held until storage accepts writes", "kind", e.Kind, "check", e.Check, "err", err)
	default:
		r.log.Error("storing event", "kind", e.Kind, "check", e.Check, "err", err)
	}
	r.fanOut(Message{Kind: KindEvent, Event: e})
}

// Sample records a host sample: dashd's footprint, the pending latency
// points and the host's points go to storage in one write; the sample and
// the footprint become the latest state. It runs on the sampler's
// goroutine, one call at a time.
func (r *Recorder) Sample(s system.Snapshot) {
	points := s.Points()
	if r.o.Meter != nil {
		if f, err := r.o.Meter.Sample(s.Time); err == nil {
			r.o.Latest.SetSelf(f)
			points = append(points,
				model.Point{Series: series.SelfCPUPct, Value: f.CPUPercent},
				model.Point{Series: series.SelfRSS, Value: float64(f.RSSBytes)},
				model.Point{Series: series.SelfGoroutines, Value: float64(f.Goroutines)})
		}
	}
	r.o.Latest.SetSystem(s)
	r.mu.Lock()
	points = append(points, r.pending...)
	r.pending = r.pending[:0]
	r.mu.Unlock()
	if err := r.o.Store.WriteSample(model.Sample{Time: s.Time, Points: points}); err != nil {
		r.log.Warn("dropping host sample", "err", err)
	}
}

// Close writes the latency points no sample took along and releases the
// meter. Call it after the producers stopped (the daemon stops parts in
// reverse order) and before storage closes.
func (r *Recorder) Close(context.Context) error {
	r.mu.Lock()
	points := r.pending
	r.pending = nil
	r.mu.Unlock()
	var errs []error
	if len(points) > 0 {
		if err := r.o.Store.WriteSample(model.Sample{Time: time.Now(), Points: points}); err != nil {
			errs = append(errs, err)
		}
	}
	if r.o.Meter != nil {
		if err := r.o.Meter.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Run closes the Recorder when ctx ends: its lifecycle in the daemon's
// group (it owns no goroutine; producers call it).
func (r *Recorder) Run(ctx context.Context) error {
	<-ctx.Done()
	return r.Close(context.Background())
}

var _ collectors.Sink = (*Recorder)(nil)
