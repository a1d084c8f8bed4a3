package alert

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/model"
)

// Delivery limits.
const (
	// maxBatch bounds the items one message carries.
	maxBatch = 200
	// backoffMax caps the wait between attempts (before jitter).
	backoffMax = 5 * time.Minute
	// idleRecheck is how often an idle deliverer looks at its queue
	// without being woken (items written by another path).
	idleRecheck = time.Minute
	// storeRetry is the wait after storage failed to answer.
	storeRetry = 5 * time.Second
)

// delivery owns the deliverer goroutines, one per channel.
type delivery struct {
	a    *Alerter
	wg   sync.WaitGroup
	runs map[string]*deliverer
}

func newDelivery(a *Alerter) *delivery { return &delivery{a: a, runs: map[string]*deliverer{}} }

// sync makes the deliverers match the configured channels: new ones start,
// removed ones stop, changed ones restart (their queue is in storage, so
// nothing is lost). A changed repeat_interval restarts them all: a
// sender is built with it (an alertmanager channel's endsAt window).
func (d *delivery) sync(ctx context.Context, ac config.Alerts) {
	want := map[string]config.Channel{}
	for _, c := range ac.Channels {
		want[c.Name] = c
	}
	repeat := ac.RepeatInterval.D()
	for name, r := range d.runs {
		if c, ok := want[name]; !ok || !sameChannels(c, r.cfg) || r.repeat != repeat {
			r.cancel()
			<-r.done
			delete(d.runs, name)
			d.a.mu.Lock()
			delete(d.a.wakes, name)
			d.a.mu.Unlock()
		}
	}
	for name, c := range want {
		if d.runs[name] != nil {
			continue
		}
		sender, err := d.a.o.NewSender(c)
		if err != nil {
			d.a.log.Error("alert channel cannot send", "channel", name, "err", err)
			continue
		}
		r := &deliverer{a: d.a, cfg: c, repeat: repeat, sender: sender, wake: make(chan struct{}, 1), done: make(chan struct{})}
		var rctx context.Context
		rctx, r.cancel = context.WithCancel(ctx)
		d.runs[name] = r
		d.a.mu.Lock()
		d.a.wakes[name] = r.wake
		if d.a.stats[name] == nil {
			d.a.stats[name] = &channelStats{}
		}
		d.a.mu.Unlock()
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			defer close(r.done)
			r.run(rctx)
		}()
	}
}

// stop ends every deliverer and waits for them.
func (d *delivery) stop() {
	for _, r := range d.runs {
		r.cancel()
	}
	d.wg.Wait()
}

// deliverer sends one channel's queue, in order.
type deliverer struct {
	a   *Alerter
	cfg config.Channel
	// repeat is alerts.repeat_interval when the sender was built.
	repeat time.Duration
	sender Sender
	wake   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
	sent   []time.Time // send times within the last hour (max_per_hour)
	// unrecorded is an outcome storage did not record (MarkOutbox
	// failed): it is recorded before anything else is sent, so that a
	// delivered (or refused) message is not sent again, in a tight loop,
	// while the disk is full.
	unrecorded *outcome
}

// outcome is a delivery result to record for some items.
type outcome struct {
	ids []uint64
	u   model.OutboxUpdate
}

// channelTimeout bounds one attempt: the channel's timeout, the default
// when none is set.
func channelTimeout(c config.Channel) time.Duration {
	if c.Timeout > 0 {
		return c.Timeout.D()
	}
	return config.DefaultChannelTimeout
}

// maxAge is alerts.max_age, its default when none is set (0 would fail
// every item at once).
func maxAge(ac config.Alerts) time.Duration {
	if ac.MaxAge > 0 {
		return ac.MaxAge.D()
	}
	return config.DefaultAlerts().MaxAge.D()
}

func (r *deliverer) run(ctx context.Context) {
	for {
		wait := r.step(ctx)
		if ctx.Err() != nil {
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-r.wake:
			t.Stop()
		case <-t.C:
		}
	}
}

// step sends what is due and returns how long to wait before the next look.
func (r *deliverer) step(ctx context.Context) time.Duration {
	a, name := r.a, r.cfg.Name
	ac := a.o.Latest.Config().Alerts
	if r.unrecorded != nil {
		if err := r.record(ctx, *r.unrecorded); err != nil {
			a.log.Warn("alert delivery still not recorded; nothing sent until it is", "channel", name, "err", err)
			return storeRetry
		}
		r.unrecorded = nil
	}
	items, err := a.o.Store.Outbox(name, maxBatch)
	if err != nil {
		a.log.Warn("alert outbox unreadable", "channel", name, "err", err)
		return storeRetry
	}
	if len(items) == 0 {
		return idleRecheck
	}
	now := a.o.Now()
	// Past max_age: given up, shown as failed.
	var stale []uint64
	for len(items) > 0 && now.Sub(items[0].Created) > maxAge(ac) {
		stale = append(stale, items[0].ID)
		items = items[1:]
	}
	if len(stale) > 0 {
		if !r.mark(ctx, stale, model.OutboxUpdate{State: model.OutboxFailed, Done: now,
			LastError: fmt.Sprintf("not delivered within alerts.max_age (%s)", maxAge(ac))}, "failed") {
			return storeRetry
		}
		if len(items) == 0 {
			return 0
		}
	}
	first := items[0]
	due := first.Created.Add(ac.GroupWait.D())
	if first.NextAttempt.After(due) {
		due = first.NextAttempt
	}
	if wait := due.Sub(now); wait > 0 {
		return wait
	}
	if wait := r.rateWait(now); wait > 0 {
		return wait
	}
	batch := items[:0:0]
	attempts := 0
	// A backlog (the channel was down, or rate-limited, well past the
	// grouping window) goes out as one message, not one per window: a
	// receiver back after an hour gets the news at once, and max_per_hour
	// does not stretch the catch-up over hours.
	backlog := ac.GroupWait > 0 && now.Sub(first.Created) > 2*ac.GroupWait.D()+time.Second
	for _, it := range items {
		// group_wait 0 means each change on its own, even two made in
		// the same instant.
		if !backlog && it.Created.After(first.Created.Add(ac.GroupWait.D())) || ac.GroupWait == 0 && len(batch) == 1 {
			break
		}
		batch = append(batch, it)
		attempts = max(attempts, it.Attempts)
	}
	msg := message(a.o.Host, ac.ExternalURL, name, batch, now)
	ids := make([]uint64, len(batch))
	for i, it := range batch {
		ids[i] = it.ID
	}
	sctx, cancel := context.WithTimeout(ctx, channelTimeout(r.cfg))
	err = r.sender.Send(sctx, msg)
	cancel()
	if ctx.Err() != nil {
		return 0 // stopping: the items stay pending and go out after a restart
	}
	attempts++
	switch {
	case err == nil:
		// Only messages that arrived count towards max_per_hour: failed
		// attempts are already spaced by the backoff.
		r.sent = append(r.sent, now)
		if !r.mark(ctx, ids, model.OutboxUpdate{State: model.OutboxDelivered, Attempts: attempts, Done: a.o.Now(), MessageID: msg.ID}, "delivered") {
			return storeRetry
		}
		return 0
	case a.o.Permanent(err):
		a.log.Error("alert message refused; not retried", "channel", name, "err", err, "items", len(ids))
		if !r.mark(ctx, ids, model.OutboxUpdate{State: model.OutboxFailed, Attempts: attempts, Done: a.o.Now(),
			LastError: err.Error(), MessageID: msg.ID}, "failed") {
			return storeRetry
		}
		return 0
	default:
		wait := backoff(attempts)
		if ra, ok := a.o.RetryAfter(err); ok && ra > wait {
			wait = min(ra, time.Hour)
		}
		a.log.Warn("alert message not delivered; retrying", "channel", name, "err", err, "attempt", attempts, "retry_in", wait.Round(time.Millisecond))
		r.mark(ctx, ids, model.OutboxUpdate{State: model.OutboxPending, Attempts: attempts, NextAttempt: now.Add(wait),
			LastError: err.Error(), MessageID: msg.ID}, "retried")
		return wait
	}
}

// mark records a delivery outcome and counts it. It reports false when
// storage did not record it: the outcome is then kept (unrecorded) and
// recorded before the channel sends anything else. Should dashd stop
// before that, the items go out again after the restart, with the same
// message id; receivers can drop the duplicate.
func (r *deliverer) mark(ctx context.Context, ids []uint64, u model.OutboxUpdate, result string) bool {
	a := r.a
	ok := true
	if err := r.record(ctx, outcome{ids: ids, u: u}); err != nil {
		a.log.Warn("alert delivery not recorded; retrying before anything else is sent", "channel", r.cfg.Name, "result", result, "err", err)
		r.unrecorded = &outcome{ids: ids, u: u}
		ok = false
	}
	a.mu.Lock()
	st := a.stats[r.cfg.Name]
	if st != nil {
		switch result {
		case "delivered":
			st.delivered += uint64(len(ids))
		case "failed":
			st.failed += uint64(len(ids))
		default:
			st.retried += uint64(len(ids))
		}
	}
	a.mu.Unlock()
	return ok
}

// record stores an outcome, bounded even while the deliverer stops.
func (r *deliverer) record(ctx context.Context, o outcome) error {
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return r.a.o.Store.MarkOutbox(mctx, r.cfg.Name, o.ids, o.u)
}

// rateWait is how long max_per_hour makes the channel wait now.
func (r *deliverer) rateWait(now time.Time) time.Duration {
	hour := now.Add(-time.Hour)
	keep := r.sent[:0]
	for _, t := range r.sent {
		if t.After(hour) {
			keep = append(keep, t)
		}
	}
	r.sent = keep
	if len(r.sent) < r.cfg.MaxPerHour {
		return 0
	}
	return r.sent[0].Add(time.Hour).Sub(now)
}

// backoff is the wait after the nth failed attempt: 1s doubling to 5m,
// with ±20% jitter so many dashd hosts do not retry in step.
func backoff(n int) time.Duration {
	d := time.Second << min(max(n-1, 0), 16)
	d = min(d, backoffMax)
	j := time.Duration(rand.Int64N(int64(d)/5*2+1)) - d/5
	return d + j
}

// message gathers items into one message: the newest state of each alert,
// in the order they first appear. Its id is stable across retries of the
// same batch.
func message(host, external, channel string, items []model.OutboxItem, now time.Time) model.AlertMessage {
	m := model.AlertMessage{
		ID:          fmt.Sprintf("dashd-%s-%s-%d-%d", host, channel, items[0].ID, items[len(items)-1].ID),
		Channel:     channel,
		Host:        host,
		ExternalURL: external,
		Time:        now,
		Reminder:    true,
		Test:        true,
	}
	idx := map[string]int{}
	for _, it := range items {
		m.Reminder = m.Reminder && it.Reminder
		m.Test = m.Test && it.Test
		if i, ok := idx[it.Alert.Key]; ok {
			m.Alerts[i] = it.Alert
			continue
		}
		idx[it.Alert.Key] = len(m.Alerts)
		m.Alerts = append(m.Alerts, it.Alert)
	}
	return m
}

// errNoChannel is returned by SendTest for a channel that is not configured.
var errNoChannel = errors.New("alert: no such channel")
