package incident

import (
	"testing"
	"time"

	"github.com/dashd/dashd/model"
)

// TestManager_IdlePollSleeps: with no incident open or recently resolved,
// the delivery poll timer does not wake the Manager (an idle daemon must
// sleep until something happens); once an incident opens, it polls.
func TestManager_IdlePollSleeps(t *testing.T) {
	e := newEnv(t, realClock(), nil, nil) // DeliveryPoll 50 ms
	e.run()
	// Twenty poll intervals with nothing to follow.
	time.Sleep(20 * e.m.o.DeliveryPoll)
	e.settled()
	if n := e.m.polls.Load(); n > 1 {
		t.Fatalf("the delivery poll fired %d times in %s with no incident; want it asleep", n, 20*e.m.o.DeliveryPoll)
	}
	e.check("web", model.StateUp, model.StateDown, "HTTP 503")
	e.settled()
	if len(e.openIncidents()) != 1 {
		t.Fatalf("open incidents %+v; want one", e.openIncidents())
	}
	waitFor(t, 10*time.Second, "the delivery poll to run while an incident is open", func() bool { return e.m.polls.Load() >= 3 })
}
