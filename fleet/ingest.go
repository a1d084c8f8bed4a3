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
// stores the alert change before it returns nil.
type HostAlerter interface {
	HostEvent(ctx context.Context, host string, e model.Event) error
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
	// Batch is how many messages one transaction takes at most (256).
	Batch  int
	Logger *slog.Logger
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
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	return &Ingester{o: o, log: o.Logger}, nil
}

// Stored counts the messages written; Refused those terminated as
// undecodable.
func (in *Ingester) Stored() uint64  { return in.stored.Load() }
func (in *Ingester) Refused() uint64 { return in.refused.Load() }

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
	for ctx.Err() == nil {
		if err := in.fetch(ctx, cons); err != nil {
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
		MaxAckPending: in.o.Batch * 4,
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

// fetch takes one batch, stores it in one transaction, then acknowledges
// it; a batch that is not stored is not acknowledged (redelivered).
func (in *Ingester) fetch(ctx context.Context, cons jetstream.Consumer) error {
	// A batch is whatever arrived within fetchWait: waiting for a full
	// batch would put up to the wait on every sample's way to the
	// browsers at a few hundred messages a second.
	batch, err := cons.Fetch(in.o.Batch, jetstream.FetchMaxWait(fetchWait))
	if err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	var msgs []jetstream.Msg
	for m := range batch.Messages() {
		msgs = append(msgs, m)
	}
	if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, context.DeadlineExceeded) && len(msgs) == 0 {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("fetch: %w", err)
	}
	if len(msgs) == 0 {
		return nil
	}
	now := in.o.Clock()
	hb := storage.HostBatch{Seen: map[string]time.Time{}}
	var hellos []Hello
	keep := msgs[:0]
	for _, m := range msgs {
		if err := in.add(&hb, &hellos, m, now); err != nil {
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
		return err
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
		for _, e := range hb.Events {
			if err := a.HostEvent(ctx, e.Host, e.Event); err != nil {
				for _, m := range keep {
					_ = m.NakWithDelay(time.Second)
				}
				return fmt.Errorf("alerting on %s's event: %w", e.Host, err)
			}
		}
	}
	for _, m := range keep {
		_ = m.Ack()
	}
	in.stored.Add(uint64(len(keep)))
	return nil
}

// add decodes one message into the batch.
func (in *Ingester) add(hb *storage.HostBatch, hellos *[]Hello, m jetstream.Msg, now time.Time) error {
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
		e, err := DecodeEvent(m.Data())
		if err != nil {
			return err
		}
		hb.Events = append(hb.Events, storage.HostEvent{Host: host, Event: e})
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
