package main

// Why an alert the fleet bench waited for was not delivered: what the
// webhook receiver got since the event, whether the hub's alerter fires it
// at all, and what its channels hold. Printed under the report, so a run
// that misses an alert says where it stopped.

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/dashd/dashd/model"
)

// alertDiagnosis describes the path of the alert match selects, from the
// hub's alerter to the receiver, since t0.
func alertDiagnosis(hub *alertDaemon, hook *alertHook, t0 time.Time, match func(model.Alert) bool) string {
	var parts []string
	var firing []model.Alert
	var v struct {
		Alerts []model.Alert `json:"alerts"`
	}
	if err := hub.getJSON("/api/v1/alerts", &v); err != nil {
		parts = append(parts, "hub alerts: "+err.Error())
	} else {
		firing = v.Alerts
		i := slices.IndexFunc(firing, match)
		if i < 0 {
			parts = append(parts, fmt.Sprintf("the hub's alerter does not fire it (%d alerts fire)", len(firing)))
		} else {
			parts = append(parts, fmt.Sprintf("the hub fires it (key %s, since %s)", firing[i].Key, firing[i].StartsAt.Format(time.TimeOnly)))
		}
	}
	if chs, err := hub.channels(); err != nil {
		parts = append(parts, "hub channels: "+err.Error())
	} else {
		for _, name := range slices.Sorted(maps.Keys(chs)) {
			c := chs[name]
			s := fmt.Sprintf("channel %s: %d pending", name, c.Pending)
			if c.LastError != "" {
				s += ", last error " + c.LastError
			}
			parts = append(parts, s)
		}
	}
	hook.mu.Lock()
	reqs := slices.Clone(hook.reqs)
	hook.mu.Unlock()
	n, bad, alerts := 0, 0, 0
	for _, r := range reqs {
		if r.at.Before(t0) {
			continue
		}
		n++
		if r.status >= 300 {
			bad++
		}
		alerts += len(r.msg.Alerts)
	}
	parts = append(parts, fmt.Sprintf("receiver: %d requests since (%d refused), carrying %d alerts", n, bad, alerts))
	return strings.Join(parts, "; ")
}
