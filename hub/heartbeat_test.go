package hub

import (
	"testing"
	"time"
)

// TestHub_HeartbeatSleepsWithoutStreams: a hub with no stream open is not
// woken by its heartbeat timer; the first stream starts it again and gets
// its pings.
func TestHub_HeartbeatSleepsWithoutStreams(t *testing.T) {
	const beat = 20 * time.Millisecond
	e := newEnv(t, []Option{WithHeartbeat(beat)}, nil)
	time.Sleep(20 * beat)
	if n := e.hub.beats.Load(); n > 1 {
		t.Fatalf("the heartbeat timer fired %d times in %s with no stream; want it asleep", n, 20*beat)
	}
	s := e.open(t, "")
	timeout := time.After(testTimeout)
	for {
		select {
		case ev := <-s.events:
			if ev.name == ":" && len(ev.data) == 1 && ev.data[0] == "ping" {
				return
			}
			t.Fatalf("unexpected event %q on an idle stream", ev)
		case <-timeout:
			t.Fatalf("no heartbeat on the first stream after an idle spell (timer fired %d times)", e.hub.beats.Load())
		}
	}
}
