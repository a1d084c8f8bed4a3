package state

import (
	"testing"
	"time"

	"github.com/dashd/dashd/collectors/system"
	"github.com/dashd/dashd/config"
)

// TestNextSystem: the channel handed out before a sample is closed by it,
// and the one handed out after stays open until the next.
func TestNextSystem(t *testing.T) {
	l := New(config.Default(), time.Now())
	closed := func(c <-chan struct{}) bool {
		select {
		case <-c:
			return true
		default:
			return false
		}
	}
	first := l.NextSystem()
	if closed(first) {
		t.Fatal("closed before any sample")
	}
	l.SetSystem(system.Snapshot{Time: time.Now()})
	second := l.NextSystem()
	if !closed(first) {
		t.Error("not closed by the sample")
	}
	if closed(second) {
		t.Error("the next one is closed before the next sample")
	}
	l.SetSystem(system.Snapshot{Time: time.Now()})
	if !closed(second) {
		t.Error("not closed by the second sample")
	}
	if n := l.Samples(); n != 2 {
		t.Errorf("Samples = %d, want 2", n)
	}
}
