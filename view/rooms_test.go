package view

import "testing"

// TestIncidentRoom: an incident's room names it.
func TestIncidentRoom(t *testing.T) {
	for id, want := range map[uint64]string{3: "incident:3", 18446744073709551615: "incident:18446744073709551615"} {
		if got := IncidentRoom(id); got != want {
			t.Errorf("IncidentRoom(%d) = %q, want %q", id, got, want)
		}
	}
}
