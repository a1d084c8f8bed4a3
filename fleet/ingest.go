package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/storage"
)

// HostStore is the part of storage the Ingester writes.
type HostStore interface {
	IngestHosts(storage.HostBatch) error
}

// HostAlerter alerts on the events agents send (the alert.Alerter): it
// stores the alert change before it returns nil. al is the agent's alert
// of an event of kind alert (a host metric rule the agent evaluates
// firing or resolving: DecodeEvent), nil for every other event.
type HostAlerter interface {
	HostEvent(ctx context.Context, host string, e model.Event, al *model.Alert) error
}

// CommitListener hears of what the Ingester stored, batch by batch, right
// after each commit: the fleet pages keep every watched host's latest
// state from it instead of reading every host back from storage every
// second. HostsCommitted runs on the ingest goroutine, before the batch
// is acknowledged: it must be quick and must not block (copy what it
// keeps; b is not used after it returns), and it must not modify b.
type CommitListener interface {
	HostsCommitted(b storage.HostBatch)
}

// IngestOptions configures an Ingester. JS and Store are required.
type IngestOptions struct {
	JS     jetstream.JetStream
	Store  HostStore
	Stream config.FleetStream
	// Registry, when set, hears of every host that was heard from (after
	// the commit).
	Registry *Registry
	// Alerts, when set, hears of every agent's event after the commit and
	// before the acknowledgement: a hub that stops in between gets the
	// message again and the alerter, which has it already, ignores it.
	Alerts HostAlerter
	// Durable names the hub's consumer (default "hub"); hubs that share
	// a stream use one name each.
	Durable string
	// Batch is how many messages one transaction takes while the
	// consumer keeps up (256).
	Batch int
	// MaxBatch bounds how far a batch grows while messages are pending
	// (16 x Batch): a full batch doubles the next one, so a backlog is
	// drained in fewer, bigger commits (one fsync each) instead of
	// growing while every small batch waits for its fsync. It also sets
	// the consumer's MaxAckPending (4 x MaxBatch).
	MaxBatch int
	// Committed, when set, hears of every batch after its commit and
	// before its acknowledgement (the fleet pages' latest state: see
	// CommitListener).
	Committed CommitListener
	Logger    *slog.Logger
	// Clock gives arrival times (time.Now).
	Clock func() time.Time
}

// Ingester is the hub's durable consumer: it writes every host's messages
// to storage and acknowledges them after the commit.
type Ingester struct {
	o   IngestOptions
	log *slog.Logger

	stored  atomic.Uint64
	refused atomic.Uint64
	commits atomic.Uint64
}

// NewIngester returns an Ingester, or an error naming a missing part.
func NewIngester(o IngestOptions) (*Ingester, error) {
	if o.JS == nil || o.Store == nil {
		return nil, errors.New("fleet: ingester needs JS and Store")
	}
	if o.Durable == "" {
		o.Durable = "hub"
	}
	if o.Batch <= 0 {
		o.Batch = 256
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 16 * o.Batch
	}
	o.MaxBatch = max(o.MaxBatch, o.Batch)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	return &Ingester{o: o, log: o.Logger}, nil
}

// Stored counts the messages written; Refused those terminated as
// undecodable; Commits the transactions that wrote them.
func (in *Ingester) Stored() uint64  { return in.stored.Load() }
func (in *Ingester) Refused() uint64 { return in.refused.Load() }
func (in *Ingester) Commits() uint64 { return in.commits.Load() }

// Run sets up the stream and the consumer (retrying while NATS is not
// there) and ingests until ctx ends.
func (in *Ingester) Run(ctx context.Context) error {
	var cons jetstream.Consumer
	for wait := 250 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		var err error
		if cons, err = in.consumer(ctx); err == nil {
			break
		}
		in.log.Warn("fleet stream not ready; retrying", "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
	size := in.o.Batch
	for ctx.Err() == nil {
		n, err := in.fetch(ctx, cons, size)
		size = nextBatch(size, n, in.o.Batch, in.o.MaxBatch)
		if err != nil {
			in.log.Warn("fleet ingest", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
	return nil
}

func (in *Ingester) consumer(ctx context.Context) (jetstream.Consumer, error) {
	s, err := EnsureStream(ctx, in.o.JS, in.o.Stream)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := s.CreateOrUpdateConsumer(cctx, jetstream.ConsumerConfig{
		Durable:       in.o.Durable,
		Description:   "dashd hub: stores every host's history",
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       30 * time.Second,
		MaxAckPending: in.o.MaxBatch * 4,
		FilterSubject: StreamSubjects,
		Replicas:      in.o.Stream.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("fleet: consumer %s: %w", in.o.Durable, err)
	}
	return c, nil
}

// fetchWait bounds how long a fetch waits for its batch to fill.
const fetchWait = 200 * time.Millisecond

// nextBatch is the size of the fetch after one of size that brought n
// messages: a full batch means messages are pending, so the next one is
// twice as big (up to most); one that was not full brings it back to
// base, where a batch costs the browsers the least wait.
func nextBatch(size, n, base, most int) int {
	if n >= size {
		return min(2*size, most)
	}
	return base
}

// fetch takes one batch of at most size messages, stores it in one
// transaction, then acknowledges it; a batch that is not stored is not
// acknowledged (redelivered). n is how many messages it fetched.
func (in *Ingester) fetch(ctx context.Context, cons jetstream.Consumer, size int) (n int, err error) {
	// A batch is whatever arrived within fetchWait: waiting for a full
	// batch would put up to the wait on every sample's way to the
	// browsers at a few hundred messages a second. A grown batch (the
	// last one was full: a backlog) takes what is pending now and does
	// not wait for the rest. (A byte bound, FetchMaxBytes, left
	// redelivered messages unconsumed for over a minute after a cluster
	// node died, in TestCluster_NodeKilledLosesNothing: not used.)
	var batch jetstream.MessageBatch
	if size > in.o.Batch {
		batch, err = cons.FetchNoWait(size)
	} else {
		batch, err = cons.Fetch(size, jetstream.FetchMaxWait(fetchWait))
	}
	if err != nil {
		return 0, fmt.Errorf("fetch: %w", err)
	}
	var msgs []jetstream.Msg
	for m := range batch.Messages() {
		msgs = append(msgs, m)
	}
	if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, context.DeadlineExceeded) && len(msgs) == 0 {
		if ctx.Err() != nil {
			return 0, nil
		}
		return 0, fmt.Errorf("fetch: %w", err)
	}
	if len(msgs) == 0 {
		return 0, nil
	}
	now := in.o.Clock()
	hb := storage.HostBatch{Seen: map[string]time.Time{}}
	var hellos []Hello
	var alerts []*model.Alert // of hb.Events, by index
	keep := msgs[:0]
	for _, m := range msgs {
		if err := in.add(&hb, &hellos, &alerts, m, now); err != nil {
			if n := in.refused.Add(1); n <= 10 || n%1000 == 0 {
				in.log.Warn("fleet message refused", "subject", m.Subject(), "err", err, "refused", n)
			}
			_ = m.Term()
			continue
		}
		keep = append(keep, m)
	}
	if err := in.o.Store.IngestHosts(hb); err != nil {
		for _, m := range keep {
			_ = m.NakWithDelay(time.Second)
		}
		return len(msgs), err
	}
	in.commits.Add(1)
	if c := in.o.Committed; c != nil {
		c.HostsCommitted(hb)
	}
	// The registry first: an alert on an event that came with its host's
	// first hello carries the hello's labels.
	if r := in.o.Registry; r != nil {
		for _, h := range hellos {
			r.Hello(h)
		}
		for host, t := range hb.Seen {
			r.Seen(host, t)
		}
	}
	if a := in.o.Alerts; a != nil {
		for i, e := range hb.Events {
			if err := a.HostEvent(ctx, e.Host, e.Event, alerts[i]); err != nil {
				for _, m := range keep {
					_ = m.NakWithDelay(time.Second)
				}
				return len(msgs), fmt.Errorf("alerting on %s's event: %w", e.Host, err)
			}
		}
	}
	for _, m := range keep {
		_ = m.Ack()
	}
	in.stored.Add(uint64(len(keep)))
	return len(msgs), nil
}

// add decodes one message into the batch (an event's alert into alerts,
// beside it).
func (in *Ingester) add(hb *storage.HostBatch, hellos *[]Hello, alerts *[]*model.Alert, m jetstream.Msg, now time.Time) error {
	host, kind, err := ParseSubject(m.Subject())
	if err != nil {
		return err
	}
	switch kind {
	case KindSample:
		s, err := DecodeSample(m.Data())
		if err != nil {
			return err
		}
		hb.Samples = append(hb.Samples, storage.HostSample{Host: host, Sample: s})
	case KindResult:
		r, err := DecodeResult(m.Data())
		if err != nil {
			return err
		}
		hb.Results = append(hb.Results, storage.HostResult{Host: host, Result: r})
	case KindEvent:
		e, al, err := DecodeEvent(m.Data())
		if err != nil {
			return err
		}
		hb.Events = append(hb.Events, storage.HostEvent{Host: host, Event: e})
		*alerts = append(*alerts, al)
	case KindHello:
		h, err := DecodeHello(host, m.Data())
		if err != nil {
			return err
		}
		hb.Hellos = append(hb.Hellos, storage.HostInfo{Name: host, OS: h.OS, Kernel: h.Kernel, Version: h.Version,
			Labels: h.Labels, Interval: time.Duration(h.IntervalMs) * time.Millisecond})
		*hellos = append(*hellos, h)
	}
	hb.Seen[host] = now
	return nil
}
