package fleet

import (
	"fmt"
	"os"
	"testing"
)

// TestQuietProcessSampler_Target: the linked variable is the NATS server's
// own /proc/<pid>/stat path, so QuietProcessSampler stops the right
// timer. (The test only reads it: the timer of this test binary runs.)
func TestQuietProcessSampler_Target(t *testing.T) {
	if want := fmt.Sprintf("/proc/%d/stat", os.Getpid()); natsProcStatFile != want {
		t.Fatalf("linked NATS process stat file = %q, want %q", natsProcStatFile, want)
	}
}
