package statuspage

import (
	"testing"

	"github.com/dashd/dashd/flow"
	"github.com/dashd/dashd/model"
)

func TestNew_RequiresParts(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Fatal("New without parts: no error")
	}
}

// TestRelevant: state changes, incidents and reloads wake the publisher;
// results and other events do not (the tick picks up the bars).
func TestRelevant(t *testing.T) {
	tests := []struct {
		name string
		m    flow.Message
		want bool
	}{
		{"check state", flow.Message{Kind: flow.KindEvent, Event: model.Event{Kind: model.EventCheck}}, true},
		{"flapping", flow.Message{Kind: flow.KindEvent, Event: model.Event{Kind: model.EventFlapping}}, true},
		{"incident", flow.Message{Kind: flow.KindEvent, Event: model.Event{Kind: model.EventIncident}}, true},
		{"reload", flow.Message{Kind: flow.KindEvent, Event: model.Event{Kind: model.EventReload}}, true},
		{"result", flow.Message{Kind: flow.KindResult}, false},
		{"audit", flow.Message{Kind: flow.KindEvent, Event: model.Event{Kind: model.EventAudit}}, false},
		{"ack", flow.Message{Kind: flow.KindEvent, Event: model.Event{Kind: model.EventAck}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := relevant(tt.m); got != tt.want {
				t.Errorf("relevant = %v, want %v", got, tt.want)
			}
		})
	}
}
