package fleet

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dashd/dashd/model"
)

// incidentMaxAckPending is how many incident actions the incident lane
// holds unacknowledged at once (IncidentDurable). An action whose
// incident is not here yet stays pending while it waits (up to
// LaterFor), so this many waiting at once hold back the incident actions
// after them (never chat or silences: those have their own lane) until
// they apply or are dropped.
const incidentMaxAckPending = 4096

// lane is one of this hub's consumers of the actions stream, each with
// its own fetch loop, so that incident actions waiting for their
// incident never hold back chat and silences.
type lane struct {
	durable, description string
	filter               string
	maxAckPending        int
	// incidents: the lane of incident actions. The other lane takes
	// every action (so a bad subject or an unknown kind is still refused
	// and counted) and acknowledges incident actions at once, leaving
	// them to this one.
	incidents bool
}

// lanes are this hub's two consumers of the actions stream.
func (a *Actions) lanes() []lane {
	return []lane{
		{durable: a.Durable(), description: "dashd hub: the other hubs' chat and silences, stored and shown here",
			filter: ActionSubjects, maxAckPending: a.o.Batch * 4},
		{durable: a.IncidentDurable(), description: "dashd hub: the other hubs' incident actions, applied here",
			filter: ActionPrefix + ".*." + string(ActionIncident), maxAckPending: incidentMaxAckPending, incidents: true},
	}
}

// receive sets up the stream and this hub's consumers (retrying while
// NATS is not there) and handles the other hubs' actions, one fetch loop
// per lane, until ctx ends.
func (a *Actions) receive(ctx context.Context, js jetstream.JetStream) {
	lanes := a.lanes()
	var cons []jetstream.Consumer
	for {
		var err error
		if cons, err = a.consumers(ctx, js, lanes); err == nil {
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
	var wg sync.WaitGroup
	for i, l := range lanes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if err := a.fetch(ctx, cons[i], l); err != nil && ctx.Err() == nil {
					a.log.Warn("actions from other hubs", "consumer", l.durable, "err", err)
					pause(ctx, a.o.Retry)
				}
			}
		}()
	}
	wg.Wait()
}

// consumers creates (or updates) the stream and the lanes' durable
// consumers: each reads the stream from where it left off, so a hub that
// was away catches up on both.
func (a *Actions) consumers(ctx context.Context, js jetstream.JetStream, lanes []lane) ([]jetstream.Consumer, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	sc := ActionsStreamConfig(a.o.Hub.o.Fleet.Stream)
	s, err := ensureStream(cctx, js, sc)
	if err != nil {
		return nil, err
	}
	out := make([]jetstream.Consumer, 0, len(lanes))
	for _, l := range lanes {
		c, err := s.CreateOrUpdateConsumer(cctx, jetstream.ConsumerConfig{
			Durable:       l.durable,
			Description:   l.description,
			DeliverPolicy: jetstream.DeliverAllPolicy,
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       30 * time.Second,
			MaxAckPending: l.maxAckPending,
			FilterSubject: l.filter,
			Replicas:      sc.Replicas,
		})
		if err != nil {
			return nil, fmt.Errorf("fleet: consumer %s: %w", l.durable, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// fetch takes one batch of lane l and handles it message by message, in
// order.
func (a *Actions) fetch(ctx context.Context, cons jetstream.Consumer, l lane) error {
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
		if err := a.handle(ctx, m, l); err != nil {
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

// fate is what becomes of a message of the actions stream once handled.
type fate int

const (
	done    fate = iota // acknowledged: applied, or nothing to do
	later               // not applicable yet: it comes again after LaterDelay
	refused             // never applicable: terminated
)

// handle stores and shows one action from another hub read by lane l,
// then acknowledges it; it returns an error only when storing failed (to
// be retried).
func (a *Actions) handle(ctx context.Context, m jetstream.Msg, l lane) error {
	origin, kind, err := ParseActionSubject(m.Subject())
	if err == nil && kind == ActionIncident && !l.incidents {
		return m.Ack() // the incident lane's
	}
	if err == nil && origin == a.name {
		a.skipped.Add(1)
		return m.Ack()
	}
	f := refused
	if err == nil {
		switch kind {
		case ActionChat:
			f, err = a.handleChat(ctx, origin, m.Data())
		case ActionIncident:
			f, err = a.handleIncident(ctx, origin, m.Data())
		case ActionSilence:
			f, err = a.handleSilence(ctx, origin, m.Data())
		case ActionSilenceExpire:
			f, err = a.handleSilenceExpire(ctx, origin, m.Data())
		}
	}
	switch {
	case f == refused:
		if n := a.refused.Add(1); n <= 10 || n%1000 == 0 {
			a.log.Warn("action refused", "subject", m.Subject(), "err", err, "refused", n)
		}
		return m.Term()
	case err != nil:
		return err
	case f == later:
		return a.later(m, origin, kind)
	}
	return m.Ack()
}

// later puts back an action that cannot apply yet, for LaterDelay, until
// it has been tried for LaterFor; then it is dropped with a warning. The
// bound counts deliveries, not the message's age: a hub catching up
// after a long stop gives old actions the same chance as new ones.
func (a *Actions) later(m jetstream.Msg, origin string, kind ActionKind) error {
	tries := uint64(a.o.LaterFor/a.o.LaterDelay) + 1
	if md, err := m.Metadata(); err == nil && md.NumDelivered >= tries {
		n := a.unmatched.Add(1)
		a.log.Warn("action from another hub dropped: nothing here it applies to", "hub", origin, "kind", kind,
			"tried", md.NumDelivered, "for", a.o.LaterFor, "unmatched", n)
		return m.Term()
	}
	a.retried.Add(1)
	return m.NakWithDelay(a.o.LaterDelay)
}

// handleChat stores one chat message of hub origin and shows it live.
func (a *Actions) handleChat(ctx context.Context, origin string, data []byte) (fate, error) {
	cm, err := DecodeChatAction(data)
	if err != nil {
		return refused, err
	}
	cm.Origin = origin
	dup, err := a.haveChat(cm)
	if err != nil {
		return done, err
	}
	if dup {
		a.duplicates.Add(1)
		return done, nil
	}
	if cm, err = a.o.Store.AddChat(ctx, cm); err != nil {
		return done, fmt.Errorf("store chat message from hub %s: %w", origin, err)
	}
	a.stored.Add(1)
	a.o.Push.PushChat(ctx, cm)
	a.log.Debug("chat message from another hub", "hub", origin, "room", cm.Room, "id", cm.ID)
	return done, nil
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
