package metrics

import (
	"testing"

	"github.com/dashd/dashd/model"
)

// TestStateValue pins the exported encoding of dashd_check_state, which
// dashboards and alerts depend on.
func TestStateValue(t *testing.T) {
	tests := []struct {
		state model.State
		want  float64
	}{
		{model.StateUp, 0},
		{model.StateUnknown, 1},
		{model.StateDegraded, 2},
		{model.StateDown, 3},
		{model.State(200), 1}, // a state this package does not know yet
	}
	for _, tt := range tests {
		t.Run(tt.state.String(), func(t *testing.T) {
			if got := stateValue(tt.state); got != tt.want {
				t.Errorf("stateValue(%v) = %v, want %v", tt.state, got, tt.want)
			}
		})
	}
}
