package incident

import (
	"slices"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
)

// finish queues an outbox item for alert key to channel at the clock's
// time and records its outcome, as the alerter's deliverer does.
func (e *env) finish(channel, key, summary string, st model.AlertState, outcome model.OutboxState, reminder bool) {
	e.t.Helper()
	ctx := ctxT(e.t)
	now := e.clk.Now()
	items, err := e.db.AddAlertChange(ctx, model.AlertChange{Outbox: []model.OutboxItem{{Channel: channel, Created: now,
		Reminder: reminder, Alert: model.Alert{Key: key, Name: key, State: st, Summary: summary, StartsAt: now,
			Labels: map[string]string{"host": "db-1"}}}}})
	if err != nil || len(items) != 1 {
		e.t.Fatalf("queue: %v", err)
	}
	u := model.OutboxUpdate{State: outcome, Attempts: 1, Done: now}
	if outcome == model.OutboxFailed {
		u.LastError = "HTTP 500: try later"
	}
	if err := e.db.MarkOutbox(ctx, channel, []uint64{items[0].ID}, u); err != nil {
		e.t.Fatal(err)
	}
}

// deliveries returns the texts of an incident's delivery entries.
func (e *env) deliveries(id uint64) []string {
	var out []string
	for _, en := range e.entries(id) {
		if en.Kind == model.EntryDelivery {
			out = append(out, en.Check+en.Rule+" "+en.Text)
		}
	}
	return out
}

// TestManager_Deliveries: finished outbox items of the alerts an incident
// involves become its entries (sent, reminded, failed, resolved; test
// messages and other alerts not), and a restart records none twice.
func TestManager_Deliveries(t *testing.T) {
	clk := fixedClock(t0)
	e := newEnv(t, clk, nil, nil)
	// Before the incident: not its business.
	e.finish("hook", "check:web", "web is down", model.AlertFiring, model.OutboxDelivered, false)
	clk.Advance(time.Minute)
	e.run()
	e.check("web", model.StateUp, model.StateDown, "refused")
	e.rule("rule:disk-full:/var", true, "disk /var is 95% full")
	e.settled()
	clk.Advance(time.Second)
	e.finish("hook", "check:web", "web is down", model.AlertFiring, model.OutboxDelivered, false)
	e.finish("mail", "rule:disk-full:/var", "disk /var is 95% full", model.AlertFiring, model.OutboxFailed, false)
	e.finish("hook", "check:db", "db is down", model.AlertFiring, model.OutboxDelivered, false)               // not involved
	e.finish("hook", "check:web:flapping", "web is flapping", model.AlertFiring, model.OutboxDelivered, true) // web's
	want := []string{
		"web message sent to hook: web is down",
		"rule:disk-full:/var message not delivered to mail: disk /var is 95% full (HTTP 500: try later)",
		"web reminder sent to hook: web is flapping",
	}
	waitFor(t, 10*time.Second, "the deliveries in the timeline", func() bool { return len(e.deliveries(1)) == 3 })
	if got := e.deliveries(1); !slices.Equal(got, want) {
		t.Fatalf("deliveries %q, want %q", got, want)
	}

	e.restart()
	e.run()
	e.check("web", model.StateDown, model.StateUp, "")
	e.rule("rule:disk-full:/var", false, "ok")
	e.settled()
	clk.Advance(time.Second)
	e.finish("hook", "check:web", "web recovered", model.AlertResolved, model.OutboxDelivered, false)
	want = append(want, "web resolution sent to hook: web recovered")
	waitFor(t, 10*time.Second, "the resolution's delivery", func() bool { return len(e.deliveries(1)) == 4 })
	time.Sleep(200 * time.Millisecond) // a few more polls: nothing recorded twice
	if got := e.deliveries(1); !slices.Equal(got, want) {
		t.Fatalf("after a restart: %q, want %q", got, want)
	}
	if e.incident(1).IsOpen() {
		t.Fatal("incident still open")
	}
}
