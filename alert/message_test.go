package alert

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/internal/golden"
	"github.com/dashd/dashd/model"
)

var msgTime = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func msgItem(id uint64, key string, state model.AlertState, reminder, test bool) model.OutboxItem {
	return model.OutboxItem{ID: id, Channel: "hook", Created: msgTime, Reminder: reminder, Test: test,
		Alert: model.Alert{Key: key, Name: key, State: state, Summary: key + " " + string(state), Severity: "critical",
			Labels: map[string]string{"host": testHost}, StartsAt: msgTime.Add(-time.Minute)}}
}

func TestMessage(t *testing.T) {
	tests := []struct {
		name     string
		items    []model.OutboxItem
		id       string
		alerts   []string
		reminder bool
		test     bool
	}{
		{"one", []model.OutboxItem{msgItem(7, "a", model.AlertFiring, false, false)},
			"dashd-db-1-hook-7-7", []string{"a/firing"}, false, false},
		{"newest state of each alert, in first-seen order", []model.OutboxItem{
			msgItem(7, "a", model.AlertFiring, false, false), msgItem(8, "b", model.AlertFiring, false, false),
			msgItem(9, "a", model.AlertResolved, false, false)},
			"dashd-db-1-hook-7-9", []string{"a/resolved", "b/firing"}, false, false},
		{"a reminder only when every item is", []model.OutboxItem{
			msgItem(3, "a", model.AlertFiring, true, false), msgItem(4, "b", model.AlertFiring, false, false)},
			"dashd-db-1-hook-3-4", []string{"a/firing", "b/firing"}, false, false},
		{"all reminders", []model.OutboxItem{
			msgItem(3, "a", model.AlertFiring, true, false), msgItem(4, "b", model.AlertFiring, true, false)},
			"dashd-db-1-hook-3-4", []string{"a/firing", "b/firing"}, true, false},
		{"test", []model.OutboxItem{msgItem(5, "dashd:test:hook", model.AlertFiring, false, true)},
			"dashd-db-1-hook-5-5", []string{"dashd:test:hook/firing"}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := message(testHost, "https://dash.example.org", "hook", tt.items, msgTime)
			var got []string
			for _, a := range m.Alerts {
				got = append(got, a.Key+"/"+string(a.State))
			}
			if m.ID != tt.id || !slices.Equal(got, tt.alerts) || m.Reminder != tt.reminder || m.Test != tt.test ||
				m.Host != testHost || m.Channel != "hook" || !m.Time.Equal(msgTime) {
				t.Errorf("message = %+v; want id %s, alerts %v, reminder %v, test %v", m, tt.id, tt.alerts, tt.reminder, tt.test)
			}
			again := message(testHost, "https://dash.example.org", "hook", tt.items, msgTime.Add(time.Hour))
			if again.ID != m.ID {
				t.Errorf("id %s on a retry, was %s", again.ID, m.ID)
			}
		})
	}
}

// TestMessage_Golden: the message a grouped batch makes, as JSON.
func TestMessage_Golden(t *testing.T) {
	items := []model.OutboxItem{
		msgItem(7, "check:web", model.AlertFiring, false, false),
		msgItem(8, "check:api", model.AlertFiring, false, false),
		msgItem(9, "check:web", model.AlertResolved, false, false),
	}
	items[2].Alert.EndsAt = msgTime
	b, err := json.MarshalIndent(message(testHost, "https://dash.example.org", "hook", items, msgTime), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "message_grouped.json", append(b, '\n'))
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		n        int
		min, max time.Duration
	}{
		{0, 800 * time.Millisecond, 1200 * time.Millisecond},
		{1, 800 * time.Millisecond, 1200 * time.Millisecond},
		{2, 1600 * time.Millisecond, 2400 * time.Millisecond},
		{5, 12800 * time.Millisecond, 19200 * time.Millisecond},
		{100, 4 * time.Minute, 6 * time.Minute},
	}
	for _, tt := range tests {
		for range 50 {
			if d := backoff(tt.n); d < tt.min || d > tt.max {
				t.Fatalf("backoff(%d) = %s, want within [%s, %s]", tt.n, d, tt.min, tt.max)
			}
		}
	}
}

// TestLimitDefaults: a channel or alerts section built without the config
// defaults (timeout 0, max_age 0) still delivers, instead of timing out
// every attempt at once or failing every item as too old.
func TestLimitDefaults(t *testing.T) {
	if got := channelTimeout(config.Channel{}); got != config.DefaultChannelTimeout {
		t.Errorf("channelTimeout(zero) = %s", got)
	}
	if got := channelTimeout(config.Channel{Timeout: config.Duration(time.Second)}); got != time.Second {
		t.Errorf("channelTimeout(1s) = %s", got)
	}
	if got := maxAge(config.Alerts{}); got != 24*time.Hour {
		t.Errorf("maxAge(zero) = %s", got)
	}
	if got := maxAge(config.Alerts{MaxAge: config.Duration(time.Hour)}); got != time.Hour {
		t.Errorf("maxAge(1h) = %s", got)
	}
}
