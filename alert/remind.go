package alert

import (
	"context"
	"errors"
	"time"

	"github.com/dashd/dashd/alert/channel"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/storage"
)

// alertmanagerType is the channel type whose receiver forgets a firing
// alert when it is not told again in time (see resendEvery).
const alertmanagerType = "alertmanager"

// resendEvery is how long a channel of type typ may go without hearing of
// a firing alert: alerts.repeat_interval (0: never), except that an
// alertmanager channel hears again at least every quarter of
// channel.AlertmanagerWindow, even when repeat_interval is 0. Alertmanager
// resolves an alert whose endsAt (that window ahead of the last send)
// passes, so without these re-sends a problem lasting more than an hour
// would show as resolved there while it goes on.
func resendEvery(repeat time.Duration, typ string) time.Duration {
	if typ != alertmanagerType {
		return repeat
	}
	every := channel.AlertmanagerWindow(repeat) / 4
	if repeat > 0 && repeat < every {
		every = repeat
	}
	return every
}

// queuedMark is a channel's last-heard time remind set, and what it was
// before, so that a reminder round storage refused can be undone.
type queuedMark struct {
	st      *active
	channel string
	prev    time.Time
	had     bool
}

// remind queues reminders of firing alerts a channel last heard of
// repeat_interval ago (see resendEvery), and the alerts a silence held
// back that fire on after it ended.
func (a *Alerter) remind() {
	if a.queueReminders() {
		a.wakeAll()
	}
}

// queueReminders stores a reminder round's items and reports whether there
// were any. It holds a.mu until they are stored: an alert change worked
// out meanwhile (a resolution, in Attach) waits, so that it is stored, and
// delivered, after the reminders and never before them; a channel is
// never told "still firing" after "resolved". Reminder rounds are rare
// (once per repeat_interval per alert), so producers seldom wait. Should
// storage refuse the items (not merely hold them), the round is undone
// and the next one tries again.
func (a *Alerter) queueReminders() bool {
	cfg := a.o.Latest.Config()
	ac := cfg.Alerts
	types := make(map[string]string, len(ac.Channels))
	for _, c := range ac.Channels {
		types[c.Name] = c.Type
	}
	now := a.o.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.dropEndedSilences(now)
	var change model.AlertChange
	var marks []queuedMark
	for _, st := range a.active {
		st.silenced = a.silenced(cfg, st.alert, now)
		if st.silenced {
			continue
		}
		for _, tg := range routeAlert(ac, st.alert) {
			last, heard := st.queued[tg.channel]
			every := resendEvery(ac.RepeatInterval.D(), types[tg.channel])
			switch {
			case !heard:
				// Held back by a silence that has ended (or routed
				// here by a reload): tell now.
				change.Outbox = append(change.Outbox, item(tg.channel, st.alert, now))
			case every > 0 && now.Sub(last) >= every:
				if a.acked(st.alert.Key, types[tg.channel]) {
					continue
				}
				it := item(tg.channel, st.alert, now)
				it.Reminder = true
				change.Outbox = append(change.Outbox, it)
			default:
				continue
			}
			marks = append(marks, queuedMark{st: st, channel: tg.channel, prev: last, had: heard})
			st.queued[tg.channel] = now
		}
	}
	if len(change.Outbox) == 0 {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := a.o.Store.AddAlertChange(ctx, change)
	switch {
	case err == nil:
		return true
	case errors.Is(err, storage.ErrHeld):
		// Stored with the first commit that succeeds: nothing to undo.
		a.log.Warn("reminders held until storage accepts writes", "items", len(change.Outbox), "err", err)
	default:
		a.log.Warn("reminders not queued; the next round tries again", "items", len(change.Outbox), "err", err)
		unmark(marks, now)
	}
	return false
}

// acked reports whether the reminder of the alert with key to a channel of
// type typ is left out because someone acknowledged the alert. An
// alertmanager channel still hears again: its re-sends keep the alert
// from resolving there at its endsAt (Alertmanager has silences of its
// own for the humans). The last-heard time stays as it was, so the
// reminders resume at the next round should the acknowledgement end
// while the alert fires. a.mu is held.
func (a *Alerter) acked(key, typ string) bool {
	if a.o.Acks == nil || typ == alertmanagerType {
		return false
	}
	_, ok := a.o.Acks.AckedBy(key)
	return ok
}

// unmark undoes a reminder round's last-heard times. a.mu is held.
func unmark(marks []queuedMark, at time.Time) {
	for _, m := range marks {
		if cur, ok := m.st.queued[m.channel]; !ok || !cur.Equal(at) {
			continue
		}
		if m.had {
			m.st.queued[m.channel] = m.prev
		} else {
			delete(m.st.queued, m.channel)
		}
	}
}

// askRemind asks the loop for a reminder round now, without waiting.
func (a *Alerter) askRemind() {
	select {
	case a.remindNow <- struct{}{}:
	default:
	}
}
