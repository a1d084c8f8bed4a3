package fleetview

import (
	"reflect"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
)

// TestAddEvent: an agent's events stay oldest first as storage keys
// them (millisecond, then id), a redelivered one is kept once, and only
// the newest limit are kept.
func TestAddEvent(t *testing.T) {
	t0 := time.UnixMilli(1_700_000_000_000)
	ev := func(ms int64, id uint64) model.Event {
		return model.Event{ID: id, Time: t0.Add(time.Duration(ms) * time.Millisecond)}
	}
	key := func(evs []model.Event) [][2]int64 {
		var out [][2]int64
		for _, e := range evs {
			out = append(out, [2]int64{e.Time.Sub(t0).Milliseconds(), int64(e.ID)})
		}
		return out
	}
	tests := []struct {
		name  string
		have  []model.Event
		add   model.Event
		limit int
		want  [][2]int64
	}{
		{"newest appended", []model.Event{ev(1, 1), ev(2, 2)}, ev(3, 3), 10, [][2]int64{{1, 1}, {2, 2}, {3, 3}}},
		{"older inserted in place", []model.Event{ev(1, 1), ev(3, 3)}, ev(2, 2), 10, [][2]int64{{1, 1}, {2, 2}, {3, 3}}},
		{"same ms ordered by id", []model.Event{ev(1, 1), ev(1, 3)}, ev(1, 2), 10, [][2]int64{{1, 1}, {1, 2}, {1, 3}}},
		{"redelivery kept once", []model.Event{ev(1, 1), ev(2, 2)}, ev(2, 2), 10, [][2]int64{{1, 1}, {2, 2}}},
		{"oldest dropped past limit", []model.Event{ev(1, 1), ev(2, 2)}, ev(3, 3), 2, [][2]int64{{2, 2}, {3, 3}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := key(addEvent(tt.have, tt.add, tt.limit)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("events %v, want %v", got, tt.want)
			}
		})
	}
}
