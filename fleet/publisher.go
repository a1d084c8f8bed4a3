package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dashd/dashd/flow"
	"github.com/dashd/dashd/model"
)

// PublisherOptions configures a Publisher. Conn, Spool, Events and
// Hello.Host are required.
type PublisherOptions struct {
	// Conn is the agent's NATS connection (Connect): the Publisher
	// publishes on it and never closes it.
	Conn  *nats.Conn
	Spool *Spool
	// Events is the agent's flow subscription: results and events.
	Events *flow.Subscription
	// Hello is sent at start and at every reconnection (its Time is set
	// then).
	Hello  Hello
	Logger *slog.Logger
	// Queue bounds the samples waiting for the publishing goroutine
	// (default 1024); a sample that does not fit is dropped and counted.
	Queue int
	// Timeout bounds waiting for JetStream to acknowledge a batch
	// (default 5s): past it the batch goes to the spool.
	Timeout time.Duration
	// Batch is how many spooled messages are published at once (256).
	Batch int
	// Retry is how often a publisher with a full spool tries NATS again
	// (1s).
	Retry time.Duration
}

// Publisher sends one agent's messages to JetStream, in order, through
// the spool whenever they cannot go directly. See the package doc.
type Publisher struct {
	o   PublisherOptions
	log *slog.Logger
	js  jetstream.JetStream
	in  chan model.Sample
	// alerts are the agent's alert events, with their alerts, from the
	// tee (alertEvent).
	alerts chan Message
	wake   chan struct{}

	helloDue  atomic.Bool
	published atomic.Uint64
	spooled   atomic.Uint64
	dropped   atomic.Uint64
}

// PublisherStats are the Publisher's counters.
type PublisherStats struct {
	Published    uint64 // messages JetStream acknowledged
	Spooled      uint64 // messages written to the spool
	Dropped      uint64 // samples dropped because the queue was full
	SpoolDropped uint64 // messages the full spool dropped (all time)
	SpoolLen     int    // messages waiting in the spool
}

// NewPublisher returns a Publisher, or an error naming a missing part.
func NewPublisher(o PublisherOptions) (*Publisher, error) {
	if o.Conn == nil || o.Spool == nil || o.Events == nil || o.Hello.Host == "" {
		return nil, errors.New("fleet: publisher needs Conn, Spool, Events and Hello.Host")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Queue <= 0 {
		o.Queue = 1024
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Batch <= 0 {
		o.Batch = 256
	}
	if o.Retry <= 0 {
		o.Retry = time.Second
	}
	js, err := jetstream.New(o.Conn, jetstream.WithPublishAsyncMaxPending(o.Batch*2),
		jetstream.WithPublishAsyncTimeout(o.Timeout))
	if err != nil {
		return nil, fmt.Errorf("fleet: jetstream: %w", err)
	}
	p := &Publisher{o: o, log: o.Logger, js: js, in: make(chan model.Sample, o.Queue),
		alerts: make(chan Message, alertQueue), wake: make(chan struct{}, 1)}
	p.helloDue.Store(true)
	o.Conn.SetReconnectHandler(func(*nats.Conn) {
		p.helloDue.Store(true)
		p.poke()
	})
	return p, nil
}

func (p *Publisher) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Sample queues a host sample without waiting (the sampler's goroutine
// calls it); a full queue drops it and counts it.
func (p *Publisher) Sample(s model.Sample) {
	select {
	case p.in <- s:
	default:
		if n := p.dropped.Add(1); n == 1 || n%1000 == 0 {
			p.log.Warn("fleet publisher queue full; samples dropped", "dropped", n)
		}
	}
}

// Stats returns the counters.
func (p *Publisher) Stats() PublisherStats {
	return PublisherStats{Published: p.published.Load(), Spooled: p.spooled.Load(), Dropped: p.dropped.Load(),
		SpoolDropped: p.o.Spool.Dropped(), SpoolLen: p.o.Spool.Len()}
}

// Run publishes until ctx ends; then everything still queued goes to the
// spool (the next start sends it) and Run returns nil.
func (p *Publisher) Run(ctx context.Context) error {
	retry := time.NewTicker(p.o.Retry)
	defer retry.Stop()
	for {
		var batch []Message
		select {
		case <-ctx.Done():
			p.spool(p.take(nil))
			return nil
		case s := <-p.in:
			batch = p.take([]Message{SampleMessage(p.o.Hello.Host, s)})
		case m := <-p.o.Events.C():
			batch = p.take(p.encode(nil, m))
		case m := <-p.alerts:
			batch = p.take([]Message{m})
		case <-p.wake:
		case <-retry.C:
		}
		p.send(ctx, batch)
		// Drain while there is a backlog, between intakes.
		for p.o.Spool.Len() > 0 && p.o.Conn.IsConnected() && ctx.Err() == nil {
			if !p.drainOnce(ctx) {
				break
			}
			p.spool(p.take(nil))
		}
	}
}

// take adds whatever is queued right now (without waiting) to batch.
func (p *Publisher) take(batch []Message) []Message {
	for range 4 * p.o.Batch {
		select {
		case s := <-p.in:
			batch = append(batch, SampleMessage(p.o.Hello.Host, s))
		case m := <-p.o.Events.C():
			batch = p.encode(batch, m)
		case m := <-p.alerts:
			batch = append(batch, m)
		default:
			return batch
		}
	}
	return batch
}

func (p *Publisher) encode(batch []Message, m flow.Message) []Message {
	var msg Message
	var err error
	switch m.Kind {
	case flow.KindResult:
		msg, err = ResultMessage(p.o.Hello.Host, m.Result)
	case flow.KindEvent:
		if m.Event.Kind == model.EventAlert {
			// The tee sent it already, with the alert the hub needs
			// (alertEvent); without one the hub would refuse it.
			return batch
		}
		msg, err = EventMessage(p.o.Hello.Host, m.Event)
	default:
		return batch
	}
	if err != nil {
		p.log.Warn("not publishing a finding that cannot be encoded", "err", err)
		return batch
	}
	return append(batch, msg)
}

// send publishes batch directly when nothing is spooled and NATS is up,
// and spools what did not go.
func (p *Publisher) send(ctx context.Context, batch []Message) {
	if p.o.Conn.IsConnected() && p.helloDue.Load() {
		h := p.o.Hello
		h.Time = time.Now()
		if m, err := HelloMessage(h); err == nil && p.publish(ctx, []Message{m}) == 1 {
			p.helloDue.Store(false)
			p.log.Info("hello sent to the hub", "host", h.Host)
		}
	}
	if len(batch) == 0 {
		return
	}
	if p.o.Spool.Len() == 0 && p.o.Conn.IsConnected() {
		n := p.publish(ctx, batch)
		batch = batch[n:]
	}
	p.spool(batch)
}

func (p *Publisher) spool(batch []Message) {
	if len(batch) == 0 {
		return
	}
	if err := p.o.Spool.Append(batch); err != nil {
		p.log.Error("fleet messages lost: the spool refused them", "messages", len(batch), "err", err)
		return
	}
	if p.spooled.Add(uint64(len(batch))) == uint64(len(batch)) {
		p.log.Warn("NATS unreachable; spooling fleet messages until it is back", "spool", len(batch))
	}
}

// drainOnce publishes the oldest spooled batch and removes what JetStream
// acknowledged; false when nothing could go.
func (p *Publisher) drainOnce(ctx context.Context) bool {
	msgs, err := p.o.Spool.Peek(p.o.Batch)
	if err != nil {
		p.log.Error("reading the fleet spool", "err", err)
		return false
	}
	if len(msgs) == 0 {
		return false
	}
	plain := make([]Message, len(msgs))
	for i, m := range msgs {
		plain[i] = m.Message
	}
	n := p.publish(ctx, plain)
	if n == 0 {
		return false
	}
	if err := p.o.Spool.Remove(msgs[n-1].Seq); err != nil {
		p.log.Error("fleet spool: published messages not removed (they will be sent again; JetStream drops the repeats)", "err", err)
		return false
	}
	if p.o.Spool.Len() == 0 {
		p.log.Info("fleet spool drained")
	}
	return n == len(msgs)
}

// publish sends msgs asynchronously and waits for their acknowledgements
// in order; it returns how many, from the first, JetStream stored (or
// recognised as duplicates).
func (p *Publisher) publish(ctx context.Context, msgs []Message) int {
	futures := make([]jetstream.PubAckFuture, 0, len(msgs))
	for _, m := range msgs {
		nm := &nats.Msg{Subject: m.Subject, Data: m.Data, Header: nats.Header{}}
		f, err := p.js.PublishMsgAsync(nm, jetstream.WithMsgID(m.ID))
		if err != nil {
			p.log.Debug("fleet publish refused", "subject", m.Subject, "err", err)
			break
		}
		futures = append(futures, f)
	}
	timeout := time.NewTimer(p.o.Timeout + time.Second)
	defer timeout.Stop()
	n := 0
	for _, f := range futures {
		select {
		case <-f.Ok():
			n++
			continue
		case err := <-f.Err():
			p.log.Debug("fleet publish not acknowledged", "subject", f.Msg().Subject, "err", err)
		case <-timeout.C:
		case <-ctx.Done():
		}
		break
	}
	p.published.Add(uint64(n))
	return n
}

// alertQueue bounds the alert events waiting for the publishing
// goroutine (host rule transitions: a handful an hour).
const alertQueue = 256

// alertEvent queues an agent's alert event with its alert for the hub,
// waiting for room until ctx ends (the recorder's bound on storing one
// event); what cannot be queued is logged, never silently dropped.
func (p *Publisher) alertEvent(ctx context.Context, e model.Event, al model.Alert) {
	m, err := AlertEventMessage(p.o.Hello.Host, e, al)
	if err != nil {
		p.log.Error("not publishing an alert that cannot be encoded", "key", e.Check, "err", err)
		return
	}
	select {
	case p.alerts <- m:
		p.poke()
		return
	default:
	}
	select {
	case p.alerts <- m:
		p.poke()
	case <-ctx.Done():
		p.log.Error("alert not published: the fleet publisher's queue stayed full", "key", e.Check, "to", e.To)
	}
}

// Tee returns a flow.Store that writes to st and publishes every sample
// it writes: the agent's recorder stores a sample (with dashd's footprint
// and the checks' latency points) and the hub receives the same one. An
// event of kind alert stored with its alert (the agent's rules attach it)
// is published from here too, with the alert, whether or not storage took
// it; the flow subscription's copy, which has no alert, is not.
func (p *Publisher) Tee(st flow.Store) flow.Store { return teeStore{Store: st, p: p} }

type teeStore struct {
	flow.Store
	p *Publisher
}

func (t teeStore) WriteSample(s model.Sample) error {
	t.p.Sample(s)
	return t.Store.WriteSample(s)
}

func (t teeStore) AddEventWith(ctx context.Context, e model.Event, c model.AlertChange) (model.Event, []model.OutboxItem, error) {
	stored, items, err := t.Store.AddEventWith(ctx, e, c)
	if e.Kind == model.EventAlert && len(c.Alerts) == 1 {
		ev := stored
		if err != nil {
			ev = e // held or refused: the hub still hears of it
		}
		t.p.alertEvent(ctx, ev, c.Alerts[0])
	}
	return stored, items, err
}
