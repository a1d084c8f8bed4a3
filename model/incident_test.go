package model

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestIncident_Times(t *testing.T) {
	t0 := time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)
	tests := []struct {
		name            string
		inc             Incident
		ack, resolve    time.Duration
		acked, resolved bool
	}{
		{"open, nobody on it", Incident{State: IncidentOpen, Started: t0}, 0, 0, false, false},
		{"acknowledged", Incident{State: IncidentOpen, Started: t0, Acked: t0.Add(3 * time.Minute)}, 3 * time.Minute, 0, true, false},
		{"resolved", Incident{State: IncidentResolved, Started: t0, Acked: t0.Add(time.Minute), Resolved: t0.Add(time.Hour)}, time.Minute, time.Hour, true, true},
		{"clock stepped back", Incident{State: IncidentResolved, Started: t0, Resolved: t0.Add(-time.Second)}, 0, 0, false, true},
	}
	for _, tt := range tests {
		ack, acked := tt.inc.TimeToAck()
		res, resolved := tt.inc.TimeToResolve()
		if ack != tt.ack || acked != tt.acked || res != tt.resolve || resolved != tt.resolved {
			t.Errorf("%s: TimeToAck %s %v, TimeToResolve %s %v", tt.name, ack, acked, res, resolved)
		}
	}
	if got := (Incident{ID: 3, Title: "web is down"}).Label(); got != "incident #3: web is down" {
		t.Errorf("Label = %q", got)
	}
}

// TestIncidentEntry_JSON: from and to appear only where they mean
// something (the zero State reads "up").
func TestIncidentEntry_JSON(t *testing.T) {
	tests := []struct {
		e    IncidentEntry
		want string
		not  string
	}{
		{IncidentEntry{Kind: EntryState, Check: "web", From: StateUp, To: StateDown}, `"from":"up","to":"down"`, ""},
		{IncidentEntry{Kind: EntryNote, User: "ann", Text: "hi", Public: true}, `"public":true`, `"from"`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(tt.e)
		if err != nil || !strings.Contains(string(b), tt.want) || tt.not != "" && strings.Contains(string(b), tt.not) {
			t.Errorf("%s: %s, %v; want %s without %s", tt.e.Kind, b, err, tt.want, tt.not)
		}
	}
}
