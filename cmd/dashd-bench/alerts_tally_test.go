package main

import (
	"slices"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
)

func TestCountAlertDeliveries(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	ev := func(id uint64, s int, check string, from, to model.State) model.Event {
		return model.Event{ID: id, Time: at(s), Kind: model.EventCheck, Check: check, From: from, To: to}
	}
	firing := func(check string, start int) model.Alert {
		return model.Alert{Name: check, State: model.AlertFiring, StartsAt: at(start)}
	}
	resolved := func(check string, start, end int) model.Alert {
		return model.Alert{Name: check, State: model.AlertResolved, StartsAt: at(start), EndsAt: at(end)}
	}
	flapping := func(check string, start int) model.Alert {
		return model.Alert{Name: check, State: model.AlertFiring, StartsAt: at(start), Labels: map[string]string{"flapping": "true"}}
	}
	msg := func(id string, alerts ...model.Alert) alertHookRecord {
		return alertHookRecord{key: id, status: 200, msg: alertHookMessage{ID: id, Alerts: alerts}}
	}
	U, D, X := model.StateUp, model.StateDown, model.StateUnknown
	// web fires at 1 and resolves at 3; db fires at 2; after a restart
	// db's first result (unknown -> down at 5) continues its alert, web's
	// (unknown -> up at 6) starts nothing.
	events := []model.Event{
		ev(1, 0, "web", X, U), ev(2, 0, "db", X, U),
		ev(3, 1, "web", U, D), ev(4, 2, "db", U, D), ev(5, 3, "web", D, U),
		{ID: 6, Time: at(4), Kind: model.EventStart},
		ev(7, 5, "db", X, D), ev(8, 6, "web", X, U),
	}
	tests := []struct {
		name                        string
		events                      []model.Event
		reqs                        []alertHookRecord
		due, missed, refired        int
		dupMessages, dupAlerts, dis int
	}{
		{"all once, in order", events, []alertHookRecord{
			msg("dashd-h-c-1-1", firing("web", 1)), msg("dashd-h-c-2-2", firing("db", 2)), msg("dashd-h-c-3-3", resolved("web", 1, 3)),
		}, 3, 0, 0, 0, 0, 0},
		{"grouped: one resolved alert tells of its firing too", events, []alertHookRecord{
			msg("dashd-h-c-1-3", resolved("web", 1, 3), firing("db", 2)),
		}, 3, 0, 0, 0, 0, 0},
		{"a resolution missed", events, []alertHookRecord{
			msg("dashd-h-c-1-2", firing("web", 1), firing("db", 2)),
		}, 3, 1, 0, 0, 0, 0},
		{"the same message again after a crash", events, []alertHookRecord{
			msg("dashd-h-c-1-1", firing("web", 1)), msg("dashd-h-c-1-1", firing("web", 1)),
			msg("dashd-h-c-2-3", firing("db", 2), resolved("web", 1, 3)),
		}, 3, 0, 0, 1, 1, 0},
		{"regrouped after a crash: new id, old change", events, []alertHookRecord{
			msg("dashd-h-c-1-1", firing("web", 1)), msg("dashd-h-c-1-2", firing("web", 1), firing("db", 2)),
			msg("dashd-h-c-3-3", resolved("web", 1, 3)),
		}, 3, 0, 0, 0, 1, 1},
		{"fired again on restart", events, []alertHookRecord{
			msg("dashd-h-c-1-1", firing("web", 1)), msg("dashd-h-c-2-2", firing("db", 2)), msg("dashd-h-c-3-3", resolved("web", 1, 3)),
			msg("dashd-h-c-4-4", firing("db", 5)),
		}, 3, 0, 1, 0, 0, 0},
		{"a flapping alert is an alert of its own", append(slices.Clone(events),
			model.Event{ID: 9, Time: at(7), Kind: model.EventFlapping, Check: "db", From: U, To: model.StateDegraded}),
			[]alertHookRecord{
				msg("dashd-h-c-1-1", firing("web", 1)), msg("dashd-h-c-2-2", firing("db", 2)), msg("dashd-h-c-3-3", resolved("web", 1, 3)),
				msg("dashd-h-c-4-4", flapping("db", 7)),
			}, 4, 0, 0, 0, 0, 0},
		{"a flapping alert does not stand in for the state alert", append(slices.Clone(events),
			model.Event{ID: 9, Time: at(7), Kind: model.EventFlapping, Check: "db", From: U, To: model.StateDegraded}),
			[]alertHookRecord{
				msg("dashd-h-c-1-1", firing("web", 1)), msg("dashd-h-c-3-3", resolved("web", 1, 3)),
				msg("dashd-h-c-4-4", flapping("db", 2)),
			}, 4, 2, 1, 0, 0, 0},
		{"out of order", events, []alertHookRecord{
			msg("dashd-h-c-3-3", resolved("web", 1, 3)), msg("dashd-h-c-1-1", firing("web", 1)), msg("dashd-h-c-2-2", firing("db", 2)),
		}, 3, 0, 0, 1, 1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dc := countAlertDeliveries(tt.events, tt.reqs)
			got := []int{dc.due, len(dc.missed), len(dc.refired), dc.dupMessages, dc.dupAlerts, len(dc.disorder)}
			want := []int{tt.due, tt.missed, tt.refired, tt.dupMessages, tt.dupAlerts, tt.dis}
			for i, name := range []string{"due", "missed", "refired", "duplicate messages", "duplicate alerts", "disorder"} {
				if got[i] != want[i] {
					t.Errorf("%s = %d, want %d (%+v)", name, got[i], want[i], dc)
				}
			}
		})
	}
}

func TestAlertQuantile(t *testing.T) {
	ms := func(n ...int) []time.Duration {
		out := make([]time.Duration, len(n))
		for i, v := range n {
			out[i] = time.Duration(v) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i
	}
	tests := []struct {
		name string
		d    []time.Duration
		q    float64
		want time.Duration
	}{
		{"none", nil, .5, 0},
		{"one", ms(7), .99, 7 * time.Millisecond},
		{"median of 4 by nearest rank", ms(4, 1, 3, 2), .5, 2 * time.Millisecond},
		{"p99 of 1..100", ms(hundred...), .99, 99 * time.Millisecond},
		{"max", ms(hundred...), 1, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := alertQuantile(tt.d, tt.q); got != tt.want {
			t.Errorf("%s: alertQuantile(%v) = %s, want %s", tt.name, tt.q, got, tt.want)
		}
	}
}
