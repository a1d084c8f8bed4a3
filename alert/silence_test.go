package alert

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/storage"
)

// monday3 is Monday 2026-01-05 03:00 in Berlin (CET, UTC+1): inside
// silence.yaml's maintenance window of the data group.
var monday3 = time.Date(2026, 1, 5, 2, 0, 0, 0, time.UTC)

func silenceVars(hook string) map[string]string { return map[string]string{"HOOK_URL": hook} }

// TestSilence_HoldsWhatItMatches: an alert a silence or a maintenance
// window matches is recorded (active, shown with what holds it) but
// queues no item; one they do not match is queued.
func TestSilence_HoldsWhatItMatches(t *testing.T) {
	clk := fixedClock(monday3)
	e := newEnv(t, "silence.yaml", silenceVars("http://127.0.0.1:9/h"), clk)
	ctx := context.Background()
	sil, err := e.a.AddSilence(ctx, model.Silence{Checks: []string{"w*"}, End: clk.Now().Add(time.Hour), Author: "ann", Comment: "deploy"})
	if err != nil || sil.ID == 0 || !sil.Start.Equal(clk.Now()) {
		t.Fatalf("AddSilence = %+v, %v; want it stored from now", sil, err)
	}
	ev := e.stored(func(ev model.Event) bool { return ev.Kind == model.EventSilence })
	if !contains(ev.Reason, "silence #", "by ann", "checks w*", "deploy") {
		t.Errorf("silence event %q; want who, what and why", ev.Reason)
	}
	e.check("web", model.StateUp, model.StateDown, "refused")
	e.check("db", model.StateUp, model.StateDown, "refused")
	e.check("api", model.StateUp, model.StateDown, "refused")
	if got := keys(e.outbox("hook")); len(got) != 1 || got[0] != "check:api/firing" {
		t.Fatalf("queued %v; want api only (web silenced, db in maintenance)", got)
	}
	snap, err := e.a.State()
	if err != nil {
		t.Fatal(err)
	}
	held := map[string]string{}
	for _, f := range snap.Firing {
		held[f.Name] = f.HeldBy
	}
	want := map[string]string{"web": "silence #" + itoa(sil.ID), "db": "maintenance patching", "api": ""}
	if !maps.Equal(held, want) {
		t.Errorf("State().Firing held by %v, want %v", held, want)
	}
	if got, want := e.a.Held(), map[string]string{"web": "silenced", "db": "maintenance"}; !maps.Equal(got, want) {
		t.Errorf("Held() = %v, want %v", got, want)
	}
	if len(snap.Silences) != 1 || snap.Silences[0].ID != sil.ID {
		t.Errorf("State().Silences = %+v; want the silence", snap.Silences)
	}
}

// TestMaintenance_Recurring: the window is Mondays 02:30-04:00 in
// Europe/Berlin, summer time included, for the data group only.
func TestMaintenance_Recurring(t *testing.T) {
	tests := []struct {
		name  string
		at    time.Time
		check string
		held  bool
	}{
		{"monday 03:00 CET", monday3, "db", true},
		{"monday 02:30 CET, the start", time.Date(2026, 1, 5, 1, 30, 0, 0, time.UTC), "db", true},
		{"monday 02:29 CET", time.Date(2026, 1, 5, 1, 29, 0, 0, time.UTC), "db", false},
		{"monday 04:00 CET, the end", time.Date(2026, 1, 5, 3, 0, 0, 0, time.UTC), "db", false},
		{"tuesday 03:00 CET", time.Date(2026, 1, 6, 2, 0, 0, 0, time.UTC), "db", false},
		{"monday 03:00 CEST (summer)", time.Date(2026, 7, 6, 1, 0, 0, 0, time.UTC), "db", true},
		{"monday 03:00 UTC is 05:00 CEST", time.Date(2026, 7, 6, 3, 0, 0, 0, time.UTC), "db", false},
		{"another group in the window", monday3, "web", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, "silence.yaml", silenceVars("http://127.0.0.1:9/h"), fixedClock(tt.at))
			e.check(tt.check, model.StateUp, model.StateDown, "refused")
			if queued := len(e.outbox("hook")) > 0; queued == tt.held {
				t.Errorf("queued %v; want held %v", keys(e.outbox("hook")), tt.held)
			}
			if got := e.a.Held()[tt.check]; (got == "maintenance") != tt.held {
				t.Errorf("Held()[%s] = %q; want maintenance %v", tt.check, got, tt.held)
			}
			if got := e.a.InMaintenance(tt.check, tt.at); got != tt.held {
				t.Errorf("InMaintenance(%s) = %v, want %v (uptime)", tt.check, got, tt.held)
			}
		})
	}
}

// TestSilence_EndReleases: what a silence held back and still fires is
// delivered when the silence is expired by hand (at once) or runs out
// (at the next round), as a first message, not a reminder.
func TestSilence_EndReleases(t *testing.T) {
	hook := newReceiver(t)
	clk := realClock()
	e := newEnv(t, "silence.yaml", silenceVars(hook.url()), clk)
	ctx := context.Background()
	e.run()
	s1, err := e.a.AddSilence(ctx, model.Silence{Checks: []string{"web"}, End: clk.Now().Add(time.Hour), Author: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	s2, err := e.a.AddSilence(ctx, model.Silence{Checks: []string{"api"}, End: clk.Now().Add(10 * time.Second), Author: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	e.check("web", model.StateUp, model.StateDown, "refused")
	e.check("api", model.StateUp, model.StateDown, "refused")
	settle()
	if got := hook.all(); len(got) != 0 {
		t.Fatalf("silenced alerts sent: %+v", got)
	}
	if err := e.a.ExpireSilence(ctx, s1.ID, "bob", "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	got := hook.waitAccepted(1, 10*time.Second)
	if alertsOf(got[0].msg)[0] != "check:web/firing" || got[0].msg.Reminder {
		t.Fatalf("after expiring silence #%d: %+v; want web firing, not a reminder", s1.ID, got[0].msg)
	}
	ev := e.stored(func(ev model.Event) bool {
		return ev.Kind == model.EventSilence && strings.Contains(ev.Reason, "expired")
	})
	if !contains(ev.Reason, "expired by bob") {
		t.Errorf("expiry event %q", ev.Reason)
	}
	clk.Advance(11 * time.Second) // s2 ends
	got = hook.waitAccepted(2, 10*time.Second)
	if alertsOf(got[1].msg)[0] != "check:api/firing" || got[1].msg.Reminder {
		t.Fatalf("after silence #%d ended: %+v; want api firing", s2.ID, got[1].msg)
	}
	snap, err := e.a.State()
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Silences) != 0 {
		t.Errorf("State().Silences = %+v; want none left", snap.Silences)
	}
}

func TestAddSilence_Refused(t *testing.T) {
	clk := fixedClock(monday3)
	now := clk.Now()
	tests := []struct {
		name string
		s    model.Silence
	}{
		{"no end", model.Silence{Author: "ann"}},
		{"end before start", model.Silence{Start: now.Add(time.Hour), End: now, Author: "ann"}},
		{"end in the past", model.Silence{Start: now.Add(-2 * time.Hour), End: now.Add(-time.Hour), Author: "ann"}},
		{"longer than 90 days", model.Silence{End: now.Add(91 * 24 * time.Hour), Author: "ann"}},
		{"no author", model.Silence{End: now.Add(time.Hour), Author: "  "}},
		{"bad pattern", model.Silence{Checks: []string{"[web"}, End: now.Add(time.Hour), Author: "ann"}},
		{"empty pattern", model.Silence{Groups: []string{""}, End: now.Add(time.Hour), Author: "ann"}},
		{"author too long for storage", model.Silence{End: now.Add(time.Hour), Author: strings.Repeat("a", 2000)}},
		{"too many matchers for storage", model.Silence{Rules: make65("r"), End: now.Add(time.Hour), Author: "ann"}},
	}
	e := newEnv(t, "silence.yaml", silenceVars("http://127.0.0.1:9/h"), clk)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := e.a.AddSilence(context.Background(), tt.s)
			if !isBadSilence(err) || s.ID != 0 {
				t.Errorf("AddSilence = %+v, %v; want ErrBadSilence", s, err)
			}
		})
	}
	if snap, _ := e.a.State(); len(snap.Silences) != 0 {
		t.Errorf("refused silences kept: %+v", snap.Silences)
	}
	if sil, err := e.db.Silences(time.Time{}); err != nil || len(sil) != 0 {
		t.Errorf("refused silences stored: %+v, %v", sil, err)
	}
}

func make65(prefix string) []string {
	out := make([]string, 65)
	for i := range out {
		out[i] = prefix + itoa(uint64(i))
	}
	return out
}

func TestExpireSilence_Unknown(t *testing.T) {
	e := newEnv(t, "silence.yaml", silenceVars("http://127.0.0.1:9/h"), realClock())
	if err := e.a.ExpireSilence(context.Background(), 42, "bob", "127.0.0.1"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("ExpireSilence(42) = %v; want storage.ErrNotFound", err)
	}
}

// TestSilence_HeldAcrossRestart: an alert a silence held back when dashd
// stopped was never told; after the restart it goes out when the silence
// ends.
func TestSilence_HeldAcrossRestart(t *testing.T) {
	hook := newReceiver(t)
	clk := realClock()
	e := newEnv(t, "silence.yaml", silenceVars(hook.url()), clk)
	s, err := e.a.AddSilence(context.Background(), model.Silence{Checks: []string{"web"}, End: clk.Now().Add(time.Hour), Author: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	e.check("web", model.StateUp, model.StateDown, "refused")
	e.restart()
	e.run()
	settle()
	if n := len(hook.all()); n != 0 {
		t.Fatalf("%d messages while the silence lasts", n)
	}
	if err := e.a.ExpireSilence(context.Background(), s.ID, "ann", "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	got := hook.waitAccepted(1, 10*time.Second)
	if alertsOf(got[0].msg)[0] != "check:web/firing" || got[0].msg.Reminder {
		t.Errorf("after the silence: %+v; want web firing", got[0].msg)
	}
}
