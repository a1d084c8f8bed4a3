package main

// Accounting of `dashd-bench alerts`: what the stored events say a channel
// routed every check must hear of, against what the receiver accepted.

import (
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dashd/dashd/model"
)

// alertChange is one change of a check's alert: it fired (at its start) or
// resolved (at its end). check names the alert: the check's name for its
// state alert, with " flapping" for its flapping alert.
type alertChange struct {
	check, state string
	at           time.Time
}

// alertIdent names an alert as alertChange does.
func alertIdent(a model.Alert) string {
	if a.Labels["flapping"] == "true" {
		return a.Name + " flapping"
	}
	return a.Name
}

func (c alertChange) key() string {
	return c.check + " " + c.state + " " + c.at.UTC().Format(time.RFC3339Nano)
}

func (c alertChange) String() string { return c.key() }

// alertChangesDue replays the stored check events as the alerter should: a
// check going down (or degraded) fires its alert unless it fires already
// (a restart's "unknown -> down" continues it); a check coming up
// resolves a firing alert, also when it is its first result after a
// restart. A check starting (To degraded) or stopping (To up) flapping
// does the same to its flapping alert. The changes come in event order.
func alertChangesDue(events []model.Event) []alertChange {
	firing := map[string]bool{}
	var out []alertChange
	for _, e := range events {
		switch e.Kind {
		case model.EventCheck:
		case model.EventFlapping:
			e.Check += " flapping"
		default:
			continue
		}
		switch e.To {
		case model.StateDown, model.StateDegraded:
			if !firing[e.Check] {
				firing[e.Check] = true
				out = append(out, alertChange{e.Check, string(model.AlertFiring), e.Time})
			}
		case model.StateUp:
			if firing[e.Check] {
				delete(firing, e.Check)
				out = append(out, alertChange{e.Check, string(model.AlertResolved), e.Time})
			}
		}
	}
	return out
}

// carriedChange is a change a message tells of: an alert's own (firing at
// its start, resolved at its end) or, for a resolved alert, the firing it
// implies (a message that only says "resolved" still told of the problem;
// with grouping, an alert that fired and resolved within group_wait is sent
// resolved only).
type carriedChange struct {
	alertChange
	implied bool
}

// alertCarried lists the changes a message tells of, an implied firing
// before its resolution.
func alertCarried(m alertHookMessage) []carriedChange {
	var out []carriedChange
	for _, a := range m.Alerts {
		id := alertIdent(a)
		if a.State == model.AlertResolved {
			out = append(out, carriedChange{alertChange{id, string(model.AlertFiring), a.StartsAt}, true},
				carriedChange{alertChange{id, string(model.AlertResolved), a.EndsAt}, false})
			continue
		}
		out = append(out, carriedChange{alertChange{id, string(model.AlertFiring), a.StartsAt}, false})
	}
	return out
}

// alertDeliveries is one channel's deliveries against its stored events.
type alertDeliveries struct {
	messages  int // accepted messages, reminders and tests left out
	alerts    int // alerts they carried
	reminders int
	due       int
	missed    []alertChange // due, never delivered
	refired   []alertChange // fired without a new problem (not due)
	// dupMessages counts accepted messages that told nothing new: an
	// Idempotency-Key accepted before, or only changes delivered before.
	dupMessages int
	// dupAlerts counts alert changes delivered again.
	dupAlerts int
	// first is when each change first arrived.
	first map[string]time.Time
	// disorder lists messages whose item range does not follow the one
	// before, and checks whose changes arrived out of event order.
	disorder []string
}

func countAlertDeliveries(events []model.Event, reqs []alertHookRecord) alertDeliveries {
	due := alertChangesDue(events)
	dc := alertDeliveries{due: len(due), first: map[string]time.Time{}}
	isDue := map[string]bool{}
	for _, c := range due {
		isDue[c.key()] = true
	}
	keys := map[string]bool{}
	var lastItem uint64
	arrived := map[string][]string{} // by check: changes in arrival order
	for _, r := range reqs {
		if r.msg.Test {
			continue
		}
		if r.msg.Reminder {
			dc.reminders++
			continue
		}
		dc.messages++
		dc.alerts += len(r.msg.Alerts)
		seenKey := keys[r.key]
		keys[r.key] = true
		if first, last, ok := alertItemRange(r.msg.ID); !ok || first <= lastItem {
			if !seenKey {
				dc.disorder = append(dc.disorder, r.msg.ID+" after item "+strconv.FormatUint(lastItem, 10))
			}
		} else {
			lastItem = last
		}
		news := false
		for _, c := range alertCarried(r.msg) {
			k := c.key()
			if _, ok := dc.first[k]; ok {
				if !c.implied {
					dc.dupAlerts++
				}
				continue
			}
			dc.first[k] = r.at
			arrived[c.check] = append(arrived[c.check], k)
			if c.implied {
				continue
			}
			news = true
			if !isDue[k] {
				dc.refired = append(dc.refired, c.alertChange)
			}
		}
		if seenKey || !news {
			dc.dupMessages++
		}
	}
	wantOrder := map[string][]string{}
	for _, c := range due {
		if _, ok := dc.first[c.key()]; !ok {
			dc.missed = append(dc.missed, c)
			continue
		}
		wantOrder[c.check] = append(wantOrder[c.check], c.key())
	}
	for check, want := range wantOrder {
		var got []string
		for _, k := range arrived[check] {
			if isDue[k] {
				got = append(got, k)
			}
		}
		if !slices.Equal(got, want) {
			dc.disorder = append(dc.disorder, check+": changes arrived out of event order")
		}
	}
	sort.Strings(dc.disorder)
	return dc
}

// alertItemRange reads the item IDs a message id names
// ("dashd-HOST-CHANNEL-FIRST-LAST"; host and channel may contain dashes).
func alertItemRange(id string) (first, last uint64, ok bool) {
	parts := strings.Split(id, "-")
	if len(parts) < 4 {
		return 0, 0, false
	}
	f, err1 := strconv.ParseUint(parts[len(parts)-2], 10, 64)
	l, err2 := strconv.ParseUint(parts[len(parts)-1], 10, 64)
	return f, l, err1 == nil && err2 == nil && f <= l
}

// alertQuantile returns the q-quantile (0..1) of d by the nearest rank; 0 for
// none.
func alertQuantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}
