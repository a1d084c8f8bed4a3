package alert

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
	"go.uber.org/goleak"
)

// TestRun_StopsCleanly: Run returns nil soon after its context ends, even
// with a send in flight to a receiver that hangs and a silence expired
// just before, and leaves no goroutine behind.
func TestRun_StopsCleanly(t *testing.T) {
	hook := newReceiver(t)
	hook.setDefault(answer{hang: true})
	e := newEnv(t, "delivery.yaml", deliveryVars(hook.url(), hook.url(), "0s", 60), realClock())
	before := goleak.IgnoreCurrent()
	e.run()
	e.check("web", model.StateUp, model.StateDown, "refused")
	waitFor(t, 10*time.Second, "sends in flight", func() bool { return inFlight(hook) == 2 })
	s, err := e.a.AddSilence(context.Background(), model.Silence{End: time.Now().Add(time.Hour), Author: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.a.ExpireSilence(context.Background(), s.ID, "ann", "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	e.stopAlerter()
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Run took %s to return", took)
	}
	goleak.VerifyNone(t, before)
}

// TestDeliver_UnrecordedOutcome: a message delivered while storage cannot
// record it is not sent again (in a loop, until the rate limit) while the
// disk is full; the outcome is recorded once there is room.
func TestDeliver_UnrecordedOutcome(t *testing.T) {
	dir := mountTmpfs(t, "2m")
	gate := make(chan struct{})
	hook := newReceiver(t, answer{status: 200, gate: gate})
	e := newEnvIn(t, dir, "delivery.yaml", deliveryVars(hook.url(), "http://127.0.0.1:9/", "0s", 60), realClock())
	e.run()
	e.check("api", model.StateUp, model.StateDown, "refused")
	waitFor(t, 10*time.Second, "the send to start", func() bool { return inFlight(hook) == 1 })
	filler := fillFS(t, dir)
	fillUntilHeld(t, e.db)
	close(gate) // accepted, while no commit can succeed
	time.Sleep(2 * time.Second)
	if n := len(hook.all()); n != 1 {
		t.Fatalf("%d requests while the outcome could not be recorded; want 1", n)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the delivery recorded", func() bool {
		d := e.deliveries()
		return len(d) == 1 && d[0].State == model.OutboxDelivered
	})
	if n := len(hook.all()); n != 1 {
		t.Errorf("%d requests in all; want the one", n)
	}
}
