package fleet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dashd/dashd/model"
)

// receive sets up the stream and this hub's consumer (retrying while NATS
// is not there) and stores the other hubs' actions until ctx ends.
func (a *Actions) receive(ctx context.Context, js jetstream.JetStream) {
	var cons jetstream.Consumer
	for {
		var err error
		if cons, err = a.consumer(ctx, js); err == nil {
			break
		}
		if ctx.Err() != nil {
			return
		}
		a.log.Warn("actions stream not ready; retrying", "err", err, "retry_in", a.o.Retry)
		if !pause(ctx, a.o.Retry) {
			return
		}
	}
	for ctx.Err() == nil {
		if err := a.fetch(ctx, cons); err != nil && ctx.Err() == nil {
			a.log.Warn("actions from other hubs", "err", err)
			pause(ctx, a.o.Retry)
		}
	}
}

func (a *Actions) consumer(ctx context.Context, js jetstream.JetStream) (jetstream.Consumer, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	sc := ActionsStreamConfig(a.o.Hub.o.Fleet.Stream)
	s, err := js.CreateOrUpdateStream(cctx, sc)
	if err != nil {
		return nil, fmt.Errorf("fleet: create stream %s: %w", ActionsStreamName, err)
	}
	c, err := s.CreateOrUpdateConsumer(cctx, jetstream.ConsumerConfig{
		Durable:       a.Durable(),
		Description:   "dashd hub: the other hubs' actions, stored and shown here",
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       30 * time.Second,
		MaxAckPending: a.o.Batch * 4,
		FilterSubject: ActionSubjects,
		Replicas:      sc.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("fleet: consumer %s: %w", a.Durable(), err)
	}
	return c, nil
}

// fetch takes one batch and handles it message by message, in order.
func (a *Actions) fetch(ctx context.Context, cons jetstream.Consumer) error {
	batch, err := cons.Fetch(a.o.Batch, jetstream.FetchMaxWait(time.Second))
	if err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	var msgs []jetstream.Msg
	for m := range batch.Messages() {
		msgs = append(msgs, m)
	}
	if err := batch.Error(); err != nil && len(msgs) == 0 && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("fetch: %w", err)
	}
	for i, m := range msgs {
		if err := a.handle(ctx, m); err != nil {
			// Not acknowledged: this one and the rest of the batch
			// come again, in order.
			for _, r := range msgs[i:] {
				_ = r.NakWithDelay(a.o.Retry)
			}
			return err
		}
	}
	return nil
}

// handle stores and shows one action from another hub, then acknowledges
// it; it returns an error only when storing failed (to be retried).
func (a *Actions) handle(ctx context.Context, m jetstream.Msg) error {
	origin, kind, err := ParseActionSubject(m.Subject())
	if err == nil && origin == a.name {
		a.skipped.Add(1)
		return m.Ack()
	}
	var cm model.ChatMessage
	if err == nil && kind == ActionChat {
		cm, err = DecodeChatAction(m.Data())
	}
	if err != nil {
		if n := a.refused.Add(1); n <= 10 || n%1000 == 0 {
			a.log.Warn("action refused", "subject", m.Subject(), "err", err, "refused", n)
		}
		return m.Term()
	}
	dup, err := a.haveChat(cm)
	if err != nil {
		return err
	}
	if dup {
		a.duplicates.Add(1)
		return m.Ack()
	}
	if cm, err = a.o.Store.AddChat(ctx, cm); err != nil {
		return fmt.Errorf("store chat message from hub %s: %w", origin, err)
	}
	a.stored.Add(1)
	a.o.Push.PushChat(ctx, cm)
	a.log.Debug("chat message from another hub", "hub", origin, "room", cm.Room, "id", cm.ID)
	return m.Ack()
}

// haveChat reports whether m is among its room's newest messages already:
// the room itself is the record of what was stored, in the same commit as
// the message, so a stop between storing and acknowledging never leaves
// a copy.
func (a *Actions) haveChat(m model.ChatMessage) (bool, error) {
	msgs, err := a.o.Store.ChatLatest(m.Room, a.o.DedupScan)
	if err != nil {
		return false, fmt.Errorf("read chat of %q: %w", m.Room, err)
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		s := msgs[i]
		if s.Time.UnixNano() == m.Time.UnixNano() && s.Author == m.Author && s.Text == m.Text {
			return true, nil
		}
	}
	return false, nil
}
