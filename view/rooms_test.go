package view

import "testing"

// TestIncidentRoom: an incident's room names it and reads back; other
// rooms and malformed names are not an incident's.
func TestIncidentRoom(t *testing.T) {
	if got := IncidentRoom(3); got != "incident:3" {
		t.Fatalf("IncidentRoom(3) = %q", got)
	}
	tests := []struct {
		room string
		id   uint64
		ok   bool
	}{
		{IncidentRoom(3), 3, true},
		{IncidentRoom(18446744073709551615), 18446744073709551615, true},
		{"incident:", 0, false},
		{"incident:0", 0, false},
		{"incident:x", 0, false},
		{"incident:-1", 0, false},
		{CheckRoom("incident:3"), 0, false},
		{RoomDashboard, 0, false},
	}
	for _, tt := range tests {
		id, ok := IncidentOfRoom(tt.room)
		if id != tt.id || ok != tt.ok {
			t.Errorf("IncidentOfRoom(%q) = %d, %v; want %d, %v", tt.room, id, ok, tt.id, tt.ok)
		}
	}
}
