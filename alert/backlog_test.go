package alert

import (
	"net/http"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
)

// TestDeliver_BacklogIsOneMessage: changes queued while the receiver was
// down, spread over several grouping windows, go out together once it is
// back, not one message per window.
func TestDeliver_BacklogIsOneMessage(t *testing.T) {
	hook := newReceiver(t)
	hook.setDefault(answer{status: http.StatusServiceUnavailable})
	e := newEnv(t, "delivery.yaml", deliveryVars(hook.url(), "http://127.0.0.1:9/", "1s", 60), realClock())
	e.run()
	for _, c := range []string{"api", "db", "dns"} {
		e.check(c, model.StateUp, model.StateDown, "refused")
		time.Sleep(1500 * time.Millisecond)
	}
	hook.setDefault(answer{status: http.StatusOK})
	got := hook.waitAccepted(1, 30*time.Second)
	if alerts := alertsOf(got[0].msg); len(alerts) != 3 {
		t.Errorf("first message after the outage carries %v; want all 3 queued alerts", alerts)
	}
	settle()
	if n := len(hook.accepted()); n != 1 {
		t.Errorf("%d messages accepted; want the backlog as 1", n)
	}
}

// TestDeliver_FailuresDoNotSpendTheHourlyBudget: attempts that did not
// arrive do not count towards max_per_hour, or a receiver that was down a
// while would be starved of the news once back.
func TestDeliver_FailuresDoNotSpendTheHourlyBudget(t *testing.T) {
	hook := newReceiver(t, answer{status: 503}, answer{status: 503}, answer{status: 503})
	e := newEnv(t, "delivery.yaml", deliveryVars(hook.url(), "http://127.0.0.1:9/", "0s", 2), realClock())
	e.run()
	e.check("api", model.StateUp, model.StateDown, "refused")
	hook.waitAccepted(1, 30*time.Second)
	e.check("db", model.StateUp, model.StateDown, "refused")
	hook.waitAccepted(2, 10*time.Second)
}
