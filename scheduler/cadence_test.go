package scheduler

import (
	"testing"
	"time"
)

// TestCadence_UntilOnGrid: the scheduler's timer fires on the epoch grid
// the sampler and the checks wake on (so it shares their wake-up), at the
// first multiple of its wait strictly after now, never later than one wait.
func TestCadence_UntilOnGrid(t *testing.T) {
	base := time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC) // a multiple of 5 s
	tests := []struct {
		name string
		c    cadence
		now  time.Time
		want time.Duration
	}{
		{"sample-driven, mid-second", cadence{broadcast: time.Second, sample: time.Second}, base.Add(1234 * time.Millisecond), 3766 * time.Millisecond},
		{"sample-driven, on a multiple", cadence{broadcast: time.Second, sample: time.Second}, base, stallCheck},
		{"sample-driven, slow broadcast", cadence{broadcast: 3 * time.Second, sample: 3 * time.Second}, base.Add(4 * time.Second), 5 * time.Second},
		{"timer only", cadence{broadcast: 2 * time.Second}, base.Add(2500 * time.Millisecond), 1500 * time.Millisecond},
		{"timer only, a hair before", cadence{broadcast: time.Second, sample: 5 * time.Second}, base.Add(time.Second - time.Millisecond), time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.c.until(tt.now)
			if got != tt.want {
				t.Errorf("until(%s) = %s, want %s", tt.now.Format("15:04:05.000"), got, tt.want)
			}
			if at := tt.now.Add(got); at.UnixNano()%int64(tt.c.wait()) != 0 {
				t.Errorf("fires at %s: not on the %s grid", at.Format("15:04:05.000"), tt.c.wait())
			}
		})
	}
}
