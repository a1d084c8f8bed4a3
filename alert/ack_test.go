package alert

import (
	"sync"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
)

// acks is a settable set of acknowledged alert keys: the part of the
// incident Manager the Alerter reads (incident's own tests run the real
// Manager with a real Alerter).
type acks struct {
	mu   sync.Mutex
	keys map[string]string
}

func (a *acks) AckedBy(key string) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	u, ok := a.keys[key]
	return u, ok
}

func (a *acks) set(key, user string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if user == "" {
		delete(a.keys, key)
	} else {
		a.keys[key] = user
	}
}

// TestRemind_Acknowledged: an acknowledged alert gets no reminders on a
// webhook, but Alertmanager still hears again (or it would resolve the
// alert at endsAt); reminders resume when the acknowledgement ends, and
// the resolution goes out while it lasts.
func TestRemind_Acknowledged(t *testing.T) {
	hook := newReceiver(t)
	am := newAMReceiver(t)
	clk := realClock()
	e := newEnv(t, "ack.yaml", map[string]string{"HOOK_URL": hook.url(), "AM_URL": am.srv.URL}, clk)
	ack := &acks{keys: map[string]string{}}
	e.a.o.Acks = ack
	e.run()
	e.check("web", model.StateUp, model.StateDown, "refused")
	hook.waitAccepted(1, 10*time.Second)
	waitFor(t, 10*time.Second, "alertmanager heard", func() bool { return len(am.all()) == 1 })

	ack.set("check:web", "ann")
	clk.Advance(61 * time.Second)
	waitFor(t, 10*time.Second, "alertmanager heard again", func() bool { return len(am.all()) == 2 })
	settle()
	if n := len(hook.all()); n != 1 {
		t.Fatalf("hook got %d messages; want no reminder of an acknowledged alert", n)
	}

	ack.set("check:web", "")
	got := hook.waitAccepted(2, 10*time.Second)
	if m := got[1].msg; !m.Reminder || alertsOf(m)[0] != "check:web/firing" {
		t.Fatalf("after the acknowledgement ended: %+v; want a reminder", m)
	}

	ack.set("check:web", "ann")
	e.check("web", model.StateDown, model.StateUp, "")
	got = hook.waitAccepted(3, 10*time.Second)
	if m := got[2].msg; m.Reminder || alertsOf(m)[0] != "check:web/resolved" {
		t.Fatalf("resolution of an acknowledged alert: %+v; want it sent", m)
	}
}
