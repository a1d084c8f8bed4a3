package fleet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// HeaderHub names the hub an action comes from (the subject says it too;
// the header is for people reading the stream).
const HeaderHub = "Dashd-Hub"

// send publishes the outbox in order until ctx ends: at start, whenever
// Chat wakes it, and after a failure every Retry.
func (a *Actions) send(ctx context.Context, js jetstream.JetStream) {
	for {
		for a.spool.Len() > 0 {
			if err := a.drain(ctx, js); err != nil {
				if ctx.Err() != nil {
					return
				}
				a.log.Warn("actions not published yet; retrying", "err", err, "waiting", a.spool.Len(), "retry_in", a.o.Retry)
				if !pause(ctx, a.o.Retry) {
					return
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-a.wake:
		}
	}
}

// drain publishes up to one batch of the outbox, oldest first, and
// removes what the stream took; it stops at the first failure that may
// pass (NATS away, the stream not there yet), so the actions reach the
// stream in the order they were made. An action the stream refuses for
// good (over its message limit, or any other bad request: it would be
// refused again at every retry) is dropped with a warning and counted
// (ActionStats.Dropped), so it cannot hold back what comes after it.
func (a *Actions) drain(ctx context.Context, js jetstream.JetStream) error {
	batch, err := a.spool.Peek(a.o.Batch)
	if err != nil {
		return err
	}
	var done uint64
	var perr error
	for _, m := range batch {
		perr = a.publish(ctx, js, m.Message)
		if perr != nil && !permanent(perr) {
			perr = fmt.Errorf("publish %s: %w", m.Subject, perr)
			break
		}
		if perr != nil {
			n := a.dropped.Add(1)
			a.log.Warn("action dropped: the actions stream refuses it for good", "subject", m.Subject, "id", m.ID,
				"bytes", len(m.Data), "err", perr, "dropped", n)
			perr = nil
		} else {
			a.sent.Add(1)
		}
		done = m.Seq
	}
	if done > 0 {
		if err := a.spool.Remove(done); err != nil {
			return err
		}
	}
	return perr
}

// publish hands one action of the outbox to the stream.
func (a *Actions) publish(ctx context.Context, js jetstream.JetStream, m Message) error {
	if len(m.Data) > maxActionMessage {
		return fmt.Errorf("%w: %d bytes, the actions stream takes %d", errTooLarge, len(m.Data), maxActionMessage)
	}
	msg := &nats.Msg{Subject: m.Subject, Data: m.Data, Header: nats.Header{}}
	msg.Header.Set(jetstream.MsgIDHeader, m.ID)
	msg.Header.Set(HeaderHub, a.name)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := js.PublishMsg(pctx, msg)
	return err
}

// errTooLarge is returned when an action is over the actions stream's
// message limit before it is even sent.
var errTooLarge = errors.New("action too large")

// permanent reports whether a publish error can never pass on a retry:
// the action is too large (for this dashd, the client or the stream), or
// JetStream called the request malformed. Anything else (a timeout, no
// responders, the stream not there yet, JetStream or an account out of
// resources: some of those are 400s too) may pass.
func permanent(err error) bool {
	if errors.Is(err, errTooLarge) || errors.Is(err, nats.ErrMaxPayload) {
		return true
	}
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamMessageExceedsMaximum ||
		apiErr.ErrorCode == jetstream.JSErrCodeBadRequest)
}
