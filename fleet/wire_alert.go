package fleet

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dashd/dashd/alert/rules"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/model"
)

// Bounds of an agent's rule alert event: far above what the rules write
// ("/var is 92% full", "92.4% used, above 90% for 5m"), far below what
// the hub's storage holds, so that nothing a hub accepts can fail to be
// stored (a message that fails is redelivered, again and again).
const (
	maxAlertSummary = 1024
	maxAlertReason  = 2048
	// maxAlertEventReason bounds the event's own text: summary ": "
	// reason.
	maxAlertEventReason = maxAlertSummary + 2 + maxAlertReason
)

// RuleAlert is what an agent's rule alert event carries beside the event
// (whose Check is the alert's key, "rule:<rule>[:<instance>]", and whose
// To is down while it fires, up when it resolved): what the hub's alert
// needs and the event's text cannot carry.
type RuleAlert struct {
	Severity string `json:"severity"`
	Summary  string `json:"summary"`
	Reason   string `json:"reason,omitempty"`
	// Labels are the rule's own: rule, and mountpoint or interface (the
	// instance). The hub adds host and the hello's labels.
	Labels map[string]string `json:"labels,omitempty"`
}

// eventWire is an event message: the event, and for an alert event its
// alert.
type eventWire struct {
	model.Event
	Alert *RuleAlert `json:"alert,omitempty"`
}

// ruleAlertLabels are the labels a RuleAlert may carry.
var ruleAlertLabels = []string{rules.LabelRule, rules.LabelMountpoint, rules.LabelInterface}

// AlertEventMessage builds the message of an agent's alert event e with
// the alert al the agent attached to it (the agent's rules). Texts past
// the wire's bounds are cut (at a character boundary), never refused: the
// hub hears of the alert. Its Nats-Msg-Id is made of the event's time,
// key and state, so the same transition always gets the same id.
func AlertEventMessage(host string, e model.Event, al model.Alert) (Message, error) {
	w := eventWire{Event: e, Alert: &RuleAlert{Severity: al.Severity, Summary: cut(al.Summary, maxAlertSummary),
		Reason: cut(al.Reason, maxAlertReason)}}
	w.Event.Reason = cut(e.Reason, maxAlertEventReason)
	for _, k := range ruleAlertLabels {
		if v, ok := al.Labels[k]; ok {
			if w.Alert.Labels == nil {
				w.Alert.Labels = map[string]string{}
			}
			w.Alert.Labels[k] = v
		}
	}
	if err := w.Alert.check(w.Event); err != nil {
		return Message{}, fmt.Errorf("fleet: alert event %q: %w", e.Check, err)
	}
	data, err := json.Marshal(w)
	if err != nil {
		return Message{}, fmt.Errorf("fleet: encode alert event %q: %w", e.Check, err)
	}
	h := fnv.New64a()
	h.Write([]byte(e.Check + "\x00" + e.To.String()))
	return Message{Subject: Subject(host, KindEvent), ID: MessageID(host, KindEvent, e.Time, "a"+strconv.FormatUint(h.Sum64(), 36)), Data: data}, nil
}

// check reports what is wrong with a rule alert event (nil if nothing):
// a key made by the rules ("rule:<rule>[:<instance>]", a valid rule
// name, an instance of printable text), a state (down: firing, up:
// resolved), a known severity, bounded texts, and only the rule's own
// labels, agreeing with the key.
func (a *RuleAlert) check(e model.Event) error {
	name, inst, ok := rules.ParseKey(e.Check)
	switch {
	case !ok || !config.ValidRuleName(name) || strings.HasPrefix(name, "dashd."):
		return errors.New(`key is not "rule:<rule>[:<instance>]" with a valid rule name`)
	case !printable(inst):
		return errors.New("instance is not printable text")
	case e.To != model.StateDown && e.To != model.StateUp:
		return fmt.Errorf("state %s: down (firing) or up (resolved) only", e.To)
	case !slices.Contains(config.Severities(), a.Severity):
		return fmt.Errorf("unknown severity %q", cut(a.Severity, 32))
	case a.Summary == "" || len(a.Summary) > maxAlertSummary || !utf8.ValidString(a.Summary):
		return fmt.Errorf("summary empty, not UTF-8 or over %d bytes", maxAlertSummary)
	case len(a.Reason) > maxAlertReason || !utf8.ValidString(a.Reason):
		return fmt.Errorf("reason not UTF-8 or over %d bytes", maxAlertReason)
	case len(e.Reason) > maxAlertEventReason:
		return fmt.Errorf("event text over %d bytes", maxAlertEventReason)
	case len(a.Labels) > 2:
		return fmt.Errorf("%d labels: rule and a mountpoint or an interface at most", len(a.Labels))
	}
	for k, v := range a.Labels {
		switch k {
		case rules.LabelRule:
			if v != name {
				return fmt.Errorf("label rule %q is not the key's rule", cut(v, 64))
			}
		case rules.LabelMountpoint, rules.LabelInterface:
			if inst == "" || v != inst {
				return fmt.Errorf("label %s is not the key's instance", k)
			}
		default:
			return fmt.Errorf("label %q: rule, mountpoint or interface only", cut(k, 64))
		}
	}
	return nil
}

// printable reports whether s is UTF-8 without control characters.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// cut shortens s to at most n bytes at a character boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
