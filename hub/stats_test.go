package hub

import (
	"fmt"
	"maps"
	"testing"
)

func TestRoomKind(t *testing.T) {
	tests := []struct{ room, want string }{
		{"dashboard", "dashboard"},
		{"check:web", "check"},
		{"incident:42", "incident"},
		{"history:cpu", "history"},
		{"", "other"},
		{":x", "other"},
		{"Check:web", "other"},
		{"a b:c", "other"},
		{"\xff:x", "other"},
		{"abcdefghijabcdefghijabcdefghijabc:x", "other"}, // 33 characters
	}
	for _, tt := range tests {
		t.Run(tt.room, func(t *testing.T) {
			if got := RoomKind(tt.room); got != tt.want {
				t.Errorf("RoomKind(%q) = %q, want %q", tt.room, got, tt.want)
			}
		})
	}
}

// TestRoomKinds_Bounded: many rooms of one kind are one label; more
// kinds than maxRoomKinds fall under "other"; nothing is lost.
func TestRoomKinds_Bounded(t *testing.T) {
	rooms := map[string]int{"dashboard": 2}
	for i := range 1000 {
		rooms[fmt.Sprintf("incident:%d", i)] = 1
	}
	for i := range maxRoomKinds + 10 {
		rooms[fmt.Sprintf("kind%03d", i)] = 1
	}
	got := roomKinds(rooms)
	if got["incident"] != 1000 || got["dashboard"] != 2 {
		t.Errorf("incident %d dashboard %d, want 1000 and 2", got["incident"], got["dashboard"])
	}
	if len(got) > maxRoomKinds+1 {
		t.Errorf("%d kinds, want at most %d", len(got), maxRoomKinds+1)
	}
	total, want := 0, 0
	for v := range maps.Values(got) {
		total += v
	}
	for v := range maps.Values(rooms) {
		want += v
	}
	if total != want {
		t.Errorf("%d streams counted, want %d", total, want)
	}
}
