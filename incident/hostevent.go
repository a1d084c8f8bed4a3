package incident

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/dashd/dashd/model"
)

// ruleAlertPrefix starts the key of a host metric rule's alert
// ("rule:disk-full:/var"): the only alerts an agent sends to its hub.
const ruleAlertPrefix = model.AlertSourceRule + ":"

// HostEvent follows an event of a fleet host, as the hub's own are
// followed, under a subject that names the host, so it never meets this
// dashd's own check or rule of the same name:
//
//   - an agent's check going down, degraded, up or flapping opens, joins,
//     reopens and recovers incidents with the subject "<check>@<host>"
//     (check names in the configuration cannot hold an "@"; the alert is
//     keyed the same way, "check:<check>@<host>");
//   - an agent's host metric rule firing or resolving (an event of kind
//     alert keyed "rule:<rule>[:<instance>]", down while it fires, up
//     when it resolved) does the same with the rule subject
//     "rule:<rule>[:<instance>]@<host>", the key of the hub's alert for
//     it, so its deliveries and acknowledgement meet the incident. The
//     incident it opens is titled "<host>: <summary>". A repeat of the
//     alert's last change (a redelivered message) adds nothing.
//
// The agents' events reach the hub through the fleet's ingester, not the
// flow: it calls HostEvent once the event is stored (beside the
// alerter's HostEvent). Other events are ignored.
func (m *Manager) HostEvent(ctx context.Context, host string, e model.Event) error {
	if host == "" || e.Check == "" {
		return nil
	}
	switch {
	case e.Kind == model.EventCheck || e.Kind == model.EventFlapping:
		e.Check = RemoteCheck(e.Check, host)
		return m.do(ctx, func(ctx context.Context) error {
			if !m.newHostEvent(e) {
				return nil // a redelivery: followed already
			}
			m.handle(ctx, e)
			return nil
		})
	case e.Kind == model.EventAlert && strings.HasPrefix(e.Check, ruleAlertPrefix) &&
		(e.To == model.StateDown || e.To == model.StateUp):
		key := RemoteRule(e.Check, host)
		title := ""
		if e.Reason != "" {
			title = host + ": " + e.Reason
		}
		return m.do(ctx, func(ctx context.Context) error {
			if m.failing(key) == (e.To == model.StateDown) {
				return nil // a repeat: it fires already, or never did
			}
			m.ruleChanged(ctx, key, title, e)
			return nil
		})
	}
	return nil
}

// maxHostSeen bounds hostSeen: a fleet of 1,000 hosts with 20 checks each
// is 20,000 subjects (times 2 with flapping); past the bound it starts
// over, at worst following one redelivery per subject again.
const maxHostSeen = 100_000

// seenEvent is what newHostEvent remembers of a subject's last event.
type seenEvent struct {
	at time.Time
	to model.State
}

// newHostEvent reports whether e (a fleet host's check or flapping event,
// its Check already the subject) differs from the last one followed for
// its subject: a repeat is the same time AND the same state (the ingester
// redelivered a batch it stored but did not acknowledge), whose state
// entry would show twice. Time order is not trusted: an agent whose clock
// stepped back sends a recovery older than the failure it ends, and that
// recovery must still be followed.
func (m *Manager) newHostEvent(e model.Event) bool {
	key := string(e.Kind) + "\x00" + e.Check
	if last, ok := m.hostSeen[key]; ok && last.to == e.To && last.at.Equal(e.Time) {
		return false
	}
	if len(m.hostSeen) >= maxHostSeen {
		clear(m.hostSeen)
	}
	m.hostSeen[key] = seenEvent{at: e.Time, to: e.To}
	return true
}

// failing reports whether name fails in an open incident.
func (m *Manager) failing(name string) bool {
	for _, inc := range m.openList() {
		if slices.Contains(inc.Failing, name) {
			return true
		}
	}
	return false
}

// RemoteCheck is the subject of check on fleet host host: "<check>@<host>".
func RemoteCheck(check, host string) string { return check + "@" + host }

// RemoteRule is the subject of an agent's rule alert (its agent-side key,
// "rule:<rule>[:<instance>]") on fleet host host: "<key>@<host>", the key
// the hub's alerter gives the alert.
func RemoteRule(key, host string) string { return key + "@" + host }
