package fleet

import (
	"encoding/json"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
)

// diskEvent is an agent's disk-full alert event on /var and its alert.
func diskEvent(to model.State) (model.Event, model.Alert) {
	e := model.Event{ID: 7, Time: time.UnixMilli(1767225600000), Kind: model.EventAlert, Check: "rule:disk-full:/var", From: model.StateUp, To: to,
		Reason: "/var is 95% full: 95.2% used, above 90% for 5m"}
	al := model.Alert{Key: e.Check, Source: model.AlertSourceRule, Name: "disk-full", Severity: "critical",
		Summary: "/var is 95% full", Reason: "95.2% used, above 90% for 5m",
		Labels: map[string]string{"host": "web-1", "rule": "disk-full", "mountpoint": "/var", "severity": "critical"}}
	return e, al
}

// TestAlertEventMessage_RoundTrip: an agent's alert event goes with its
// alert (without the labels the hub sets itself) and comes back as it
// was; the id is the same for the same transition, another for the
// resolution.
func TestAlertEventMessage_RoundTrip(t *testing.T) {
	e, al := diskEvent(model.StateDown)
	m, err := AlertEventMessage("web-1", e, al)
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "dashd.web-1.event" {
		t.Errorf("subject %q", m.Subject)
	}
	got, ra, err := DecodeEvent(m.Data)
	if err != nil {
		t.Fatal(err)
	}
	if got.Check != e.Check || got.To != e.To || got.Reason != e.Reason || !got.Time.Equal(e.Time) || got.Kind != model.EventAlert {
		t.Errorf("event %+v, want %+v", got, e)
	}
	if ra == nil || ra.Severity != "critical" || ra.Summary != al.Summary || ra.Reason != al.Reason ||
		!maps.Equal(ra.Labels, map[string]string{"rule": "disk-full", "mountpoint": "/var"}) {
		t.Errorf("alert %+v; want severity, texts and the rule's own labels", ra)
	}
	again, _ := AlertEventMessage("web-1", e, al)
	res, ral := diskEvent(model.StateUp)
	resolved, _ := AlertEventMessage("web-1", res, ral)
	if again.ID != m.ID || resolved.ID == m.ID {
		t.Errorf("ids %q, %q (again), %q (resolved); want the same transition to keep its id", m.ID, again.ID, resolved.ID)
	}
	// Texts past the bounds are cut, not refused: the hub hears of it.
	long := al
	long.Reason = strings.Repeat("é", maxAlertReason)
	lm, err := AlertEventMessage("web-1", e, long)
	if err != nil {
		t.Fatal(err)
	}
	if _, ra, err := DecodeEvent(lm.Data); err != nil || len(ra.Reason) > maxAlertReason || !strings.HasPrefix(long.Reason, ra.Reason) {
		t.Errorf("long reason: %v, %d bytes", err, len(ra.Reason))
	}
	// A check event carries no alert.
	ce, err := EventMessage("web-1", model.Event{Time: e.Time, Kind: model.EventCheck, Check: "web", To: model.StateDown})
	if err != nil {
		t.Fatal(err)
	}
	if _, ra, err := DecodeEvent(ce.Data); err != nil || ra != nil {
		t.Errorf("check event: alert %+v, err %v", ra, err)
	}
}

// TestDecodeEvent_RefusesJunkAlerts: what a broken or hostile agent could
// send as an alert event is refused (ErrBadMessage), so nothing the hub
// accepts fails to be stored or alerts on something that is no rule.
func TestDecodeEvent_RefusesJunkAlerts(t *testing.T) {
	tests := []struct {
		name string
		edit func(w *eventWire)
	}{
		{"no alert", func(w *eventWire) { w.Alert = nil }},
		{"alert on a check event", func(w *eventWire) { w.Kind = model.EventCheck }},
		{"not a rule key", func(w *eventWire) { w.Check = "check:web" }},
		{"dashd's own key", func(w *eventWire) { w.Check = "rule:dashd.storage" }},
		{"empty rule name", func(w *eventWire) { w.Check = "rule::/var" }},
		{"bad rule name", func(w *eventWire) { w.Check = "rule:disk full:/var" }},
		{"control characters in the instance", func(w *eventWire) { w.Check = "rule:disk-full:/v\nar" }},
		{"degraded state", func(w *eventWire) { w.To = model.StateDegraded }},
		{"unknown severity", func(w *eventWire) { w.Alert.Severity = "urgent" }},
		{"empty summary", func(w *eventWire) { w.Alert.Summary = "" }},
		{"summary too long", func(w *eventWire) { w.Alert.Summary = strings.Repeat("s", maxAlertSummary+1) }},
		{"reason too long", func(w *eventWire) { w.Alert.Reason = strings.Repeat("r", maxAlertReason+1) }},
		{"event text too long", func(w *eventWire) { w.Reason = strings.Repeat("r", maxAlertEventReason+1) }},
		{"a label of its own", func(w *eventWire) { w.Alert.Labels = map[string]string{"host": "db-1"} }},
		{"rule label of another rule", func(w *eventWire) { w.Alert.Labels = map[string]string{"rule": "cpu-busy"} }},
		{"mountpoint not the instance", func(w *eventWire) { w.Alert.Labels = map[string]string{"mountpoint": "/etc"} }},
		{"too many labels", func(w *eventWire) {
			w.Alert.Labels = map[string]string{"rule": "disk-full", "mountpoint": "/var", "interface": "/var"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, al := diskEvent(model.StateDown)
			m, err := AlertEventMessage("web-1", e, al)
			if err != nil {
				t.Fatal(err)
			}
			var w eventWire
			if err := json.Unmarshal(m.Data, &w); err != nil {
				t.Fatal(err)
			}
			tt.edit(&w)
			data, err := json.Marshal(w)
			if err != nil {
				t.Fatal(err)
			}
			if _, ra, err := DecodeEvent(data); !errors.Is(err, ErrBadMessage) || ra != nil {
				t.Errorf("DecodeEvent = %+v, %v; want ErrBadMessage", ra, err)
			}
		})
	}
}
