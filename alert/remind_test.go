package alert

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/storage"
)

// TestRemind_RepeatInterval: a problem that lasts is told again every
// repeat_interval, marked as a reminder; not while a silence holds it.
func TestRemind_RepeatInterval(t *testing.T) {
	hook := newReceiver(t)
	clk := realClock()
	e := newEnv(t, "silence.yaml", silenceVars(hook.url()), clk) // repeat_interval: 1m
	e.run()
	e.check("web", model.StateUp, model.StateDown, "refused")
	got := hook.waitAccepted(1, 10*time.Second)
	if got[0].msg.Reminder {
		t.Fatalf("first message is a reminder: %+v", got[0].msg)
	}
	clk.Advance(59 * time.Second)
	settle()
	if n := len(hook.all()); n != 1 {
		t.Fatalf("%d messages before repeat_interval passed", n)
	}
	clk.Advance(2 * time.Second)
	got = hook.waitAccepted(2, 10*time.Second)
	m := got[1].msg
	if !m.Reminder || alertsOf(m)[0] != "check:web/firing" || !strings.HasPrefix(m.Title, "[STILL FIRING] web is down") {
		t.Errorf("reminder %+v; want web, marked as a reminder", m)
	}
	waitFor(t, 5*time.Second, "the reminder recorded", func() bool { return len(e.deliveries()) == 2 })
	if d := e.deliveries()[1]; !d.Reminder || d.EventID != 0 {
		t.Errorf("reminder item %+v; want Reminder without an event", d)
	}

	// Silenced: no reminder however long it lasts.
	s, err := e.a.AddSilence(context.Background(), model.Silence{Checks: []string{"web"}, End: clk.Now().Add(time.Hour), Author: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(5 * time.Minute)
	settle()
	if n := len(hook.all()); n != 2 {
		t.Fatalf("%d messages while silenced; want no reminder", n)
	}
	if err := e.a.ExpireSilence(context.Background(), s.ID, "ann", "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	got = hook.waitAccepted(3, 10*time.Second)
	if !got[2].msg.Reminder {
		t.Errorf("after the silence: %+v; want a reminder (the channel heard of web before)", got[2].msg)
	}
}

// TestRemind_Alertmanager: with repeat_interval 0 (no reminders) an
// alertmanager channel still hears of a firing alert again before its
// endsAt passes (a quarter of the one-hour window), and only it.
func TestRemind_Alertmanager(t *testing.T) {
	hook := newReceiver(t)
	am := newAMReceiver(t)
	clk := realClock()
	e := newEnv(t, "alertmanager.yaml", map[string]string{"HOOK_URL": hook.url(), "AM_URL": am.srv.URL}, clk)
	e.run()
	e.check("web", model.StateUp, model.StateDown, "refused")
	hook.waitAccepted(1, 10*time.Second)
	waitFor(t, 10*time.Second, "alertmanager heard", func() bool { return len(am.all()) == 1 })
	first := am.all()[0][0]
	ends, err := time.Parse(time.RFC3339Nano, first.EndsAt)
	if err != nil || first.Labels["alertname"] != "web" {
		t.Fatalf("posted %+v, %v", first, err)
	}
	window := ends.Sub(clk.Now())
	clk.Advance(window/4 + time.Second)
	waitFor(t, 10*time.Second, "alertmanager heard again", func() bool { return len(am.all()) == 2 })
	again := am.all()[1][0]
	if again.Labels["alertname"] != "web" || again.StartsAt != first.StartsAt {
		t.Errorf("re-sent %+v; want web with its StartsAt", again)
	}
	if again.EndsAt <= first.EndsAt {
		t.Errorf("re-sent endsAt %s; want later than %s", again.EndsAt, first.EndsAt)
	}
	settle()
	if n := len(hook.all()); n != 1 {
		t.Errorf("hook got %d messages; want no reminder (repeat_interval 0)", n)
	}
}

func TestResendEvery(t *testing.T) {
	tests := []struct {
		repeat time.Duration
		typ    string
		want   time.Duration
	}{
		{0, "webhook", 0},
		{4 * time.Hour, "webhook", 4 * time.Hour},
		{0, "alertmanager", 15 * time.Minute},
		{time.Minute, "alertmanager", time.Minute},
		{4 * time.Hour, "alertmanager", 4 * time.Hour},
	}
	for _, tt := range tests {
		if got := resendEvery(tt.repeat, tt.typ); got != tt.want {
			t.Errorf("resendEvery(%s, %s) = %s, want %s", tt.repeat, tt.typ, got, tt.want)
		}
	}
}

// gatedStore is the real database with a gate in front of AddAlertChange
// (the reminders' write): a test holds a reminder round mid-write.
type gatedStore struct {
	*storage.DB
	entered chan struct{}
	gate    chan struct{}
}

func (g *gatedStore) AddAlertChange(ctx context.Context, c model.AlertChange) ([]model.OutboxItem, error) {
	g.entered <- struct{}{}
	<-g.gate
	return g.DB.AddAlertChange(ctx, c)
}

// TestRemind_NeverAfterResolved: a resolution worked out while a reminder
// round is being stored is stored after it, so the channel never hears
// "still firing" after "resolved".
func TestRemind_NeverAfterResolved(t *testing.T) {
	clk := fixedClock(monday3)
	e := newEnv(t, "silence.yaml", silenceVars("http://127.0.0.1:9/h"), clk) // repeat_interval: 1m
	g := &gatedStore{entered: make(chan struct{}, 1), gate: make(chan struct{})}
	e.wrap = func(db *storage.DB) Store { g.DB = db; return g }
	e.a = e.newAlerter()
	e.check("web", model.StateUp, model.StateDown, "refused")
	clk.Advance(2 * time.Minute) // a reminder is due
	reminded := make(chan struct{})
	go func() { e.a.remind(); close(reminded) }()
	<-g.entered
	resolved := make(chan struct{})
	go func() {
		e.rec.Event(model.Event{Time: clk.Now(), Kind: model.EventCheck, Check: "web", From: model.StateDown, To: model.StateUp})
		close(resolved)
	}()
	time.Sleep(200 * time.Millisecond) // the resolution would be stored now, were it not held
	close(g.gate)
	<-reminded
	<-resolved
	if got, want := keys(e.outbox("hook")), []string{"check:web/firing", "check:web/firing", "check:web/resolved"}; !slices.Equal(got, want) {
		t.Fatalf("hook's queue %v, want %v", got, want)
	}
	if p := e.outbox("hook"); !p[1].Reminder {
		t.Errorf("second item %+v; want the reminder", p[1])
	}
}

// TestRemind_RefusedRoundUndone: when storage refuses a reminder round's
// items (not merely holds them), the channels are not taken to have heard:
// the next round tries again.
func TestRemind_RefusedRoundUndone(t *testing.T) {
	clk := fixedClock(monday3)
	e := newEnv(t, "silence.yaml", silenceVars("http://127.0.0.1:9/h"), clk)
	if _, err := e.a.AddSilence(context.Background(), model.Silence{Checks: []string{"web"}, End: clk.Now().Add(time.Minute), Author: "ann"}); err != nil {
		t.Fatal(err)
	}
	e.check("web", model.StateUp, model.StateDown, "refused")
	e.closeDB() // every write is refused from now on (ErrClosed)
	clk.Advance(2 * time.Minute)
	e.a.remind()
	e.a.mu.Lock()
	_, heard := e.a.active["check:web"].queued["hook"]
	e.a.mu.Unlock()
	if heard {
		t.Error("hook taken to have heard of web although storage refused the item")
	}
}

// TestDeliver_ReloadRebuildsSenders: a reload that changes repeat_interval
// rebuilds the senders, so an alertmanager channel's endsAt follows the
// new window (4 x 1h) and the re-sends (every hour) keep the alert firing.
func TestDeliver_ReloadRebuildsSenders(t *testing.T) {
	hook := newReceiver(t)
	am := newAMReceiver(t)
	clk := realClock()
	vars := map[string]string{"HOOK_URL": hook.url(), "AM_URL": am.srv.URL}
	e := newEnv(t, "alertmanager.yaml", vars, clk) // repeat_interval: 0
	e.run()
	waitFor(t, 5*time.Second, "the deliverers", func() bool {
		e.a.mu.Lock()
		defer e.a.mu.Unlock()
		return len(e.a.wakes) == 2
	})
	cfg := loadConfig(t, "alertmanager.yaml", vars)
	cfg.Alerts.RepeatInterval = config.Duration(time.Hour)
	e.latest.SetConfig(cfg)
	e.rec.Event(model.Event{Kind: model.EventReload, Reason: "configuration reloaded"})
	settle() // the loop rebuilds the deliverers
	e.check("web", model.StateUp, model.StateDown, "refused")
	waitFor(t, 10*time.Second, "alertmanager heard", func() bool { return len(am.all()) == 1 })
	ends, err := time.Parse(time.RFC3339Nano, am.all()[0][0].EndsAt)
	if err != nil {
		t.Fatal(err)
	}
	if w := ends.Sub(clk.Now()); w < 3*time.Hour {
		t.Errorf("endsAt %s ahead; want the 4h window of repeat_interval 1h", w.Round(time.Second))
	}
}
