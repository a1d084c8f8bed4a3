package fleet

import (
	"context"
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
// removes what the stream took; it stops at the first failure, so the
// actions reach the stream in the order they were made.
func (a *Actions) drain(ctx context.Context, js jetstream.JetStream) error {
	batch, err := a.spool.Peek(a.o.Batch)
	if err != nil {
		return err
	}
	var done uint64
	var perr error
	for _, m := range batch {
		msg := &nats.Msg{Subject: m.Subject, Data: m.Data, Header: nats.Header{}}
		msg.Header.Set(jetstream.MsgIDHeader, m.ID)
		msg.Header.Set(HeaderHub, a.name)
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, perr = js.PublishMsg(pctx, msg)
		cancel()
		if perr != nil {
			perr = fmt.Errorf("publish %s: %w", m.Subject, perr)
			break
		}
		done = m.Seq
		a.sent.Add(1)
	}
	if done > 0 {
		if err := a.spool.Remove(done); err != nil {
			return err
		}
	}
	return perr
}
