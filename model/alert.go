package model

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"
)

// AlertState is whether an alert's problem is going on.
type AlertState string

// Alert states.
const (
	AlertFiring   AlertState = "firing"
	AlertResolved AlertState = "resolved"
)

// Alert sources: what raised it.
const (
	AlertSourceCheck = "check" // a check's state
	AlertSourceRule  = "rule"  // a host metric rule
	AlertSourceDashd = "dashd" // dashd about itself
	AlertSourceHost  = "host"  // a host of the fleet is unreachable
)

// Alert is one problem dashd tells people about, as of one change. Its
// Key stays the same for the life of the problem (and across problems of
// the same thing): "check:web", "rule:disk-full:/var", "dashd:storage".
type Alert struct {
	Key    string `json:"key"`
	Source string `json:"source"`
	// Name is the check's, the rule's or dashd's own alert's name.
	Name string `json:"name"`
	// Labels say where: host, check, group, type, rule, mountpoint,
	// interface, severity; Alertmanager receives them as they are.
	Labels   map[string]string `json:"labels"`
	Severity string            `json:"severity"`
	State    AlertState        `json:"state"`
	// Summary is the one line people read first ("web is down"); Reason
	// the detail ("HTTP 503", "92.4% used, above 90% for 5m").
	Summary  string    `json:"summary"`
	Reason   string    `json:"reason,omitempty"`
	StartsAt time.Time `json:"starts_at"`
	// EndsAt is when it resolved; zero while firing.
	EndsAt time.Time `json:"ends_at,omitzero"`
	// URL links to the dashd page of the problem (from alerts.external_url);
	// empty without one.
	URL string `json:"url,omitempty"`
}

// Fingerprint identifies the alert's labels, as Alertmanager's does for
// deduplication: the same problem always has the same fingerprint.
func (a Alert) Fingerprint() string {
	keys := make([]string, 0, len(a.Labels))
	for k := range a.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s\x00%s\x00", k, a.Labels[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// AlertMessage is what one delivery sends to one channel: one alert or
// several changes gathered within alerts.group_wait.
type AlertMessage struct {
	// ID is stable across retries of the same delivery: receivers drop a
	// duplicate by it (Idempotency-Key, email Message-ID).
	ID      string  `json:"id"`
	Channel string  `json:"channel"`
	Host    string  `json:"host"`
	Alerts  []Alert `json:"alerts"`
	// Reminder marks a repeat of problems that are still going on.
	Reminder bool `json:"reminder,omitempty"`
	// Test marks the message of "send test message".
	Test bool `json:"test,omitempty"`
	// ExternalURL is dashd's own address, for a link to the alerts page.
	ExternalURL string    `json:"external_url,omitempty"`
	Time        time.Time `json:"time"`
}

// Counts returns how many of the message's alerts fire and how many
// resolved.
func (m AlertMessage) Counts() (firing, resolved int) {
	for _, a := range m.Alerts {
		if a.State == AlertFiring {
			firing++
		} else {
			resolved++
		}
	}
	return firing, resolved
}

// Title is the message's subject line: what, how many, where.
//
//	[FIRING] web is down (db-1)
//	[FIRING:5] 5 problems on db-1: web is down, api is down, ...
//	[RESOLVED] web recovered (db-1)
func (m AlertMessage) Title() string {
	if m.Test {
		return "[TEST] dashd test message from " + m.Host
	}
	firing, resolved := m.Counts()
	tag := "FIRING"
	if firing == 0 {
		tag = "RESOLVED"
	}
	if m.Reminder {
		tag = "STILL " + tag
	}
	if len(m.Alerts) == 1 {
		return fmt.Sprintf("[%s] %s (%s)", tag, m.Alerts[0].Summary, m.Host)
	}
	var b strings.Builder
	if firing > 0 {
		fmt.Fprintf(&b, "[%s:%d] %d problems on %s", tag, firing, firing, m.Host)
		if resolved > 0 {
			fmt.Fprintf(&b, ", %d resolved", resolved)
		}
	} else {
		fmt.Fprintf(&b, "[%s:%d] %d problems resolved on %s", tag, resolved, resolved, m.Host)
	}
	b.WriteString(": ")
	for i, a := range m.Alerts {
		if i == 3 {
			b.WriteString(", ...")
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(a.Summary)
	}
	return b.String()
}

// Text is the message as plain text: the title, then one block per alert
// saying what, where, since when, why, and the link back to dashd.
func (m AlertMessage) Text() string {
	var b strings.Builder
	b.WriteString(m.Title())
	b.WriteString("\n")
	if m.Test {
		b.WriteString("\nThis is a test message: the channel works.\n")
	}
	for _, a := range m.Alerts {
		b.WriteString("\n")
		b.WriteString(strings.ToUpper(string(a.State)))
		b.WriteString(" ")
		b.WriteString(a.Severity)
		b.WriteString(": ")
		b.WriteString(a.Summary)
		b.WriteString("\n")
		if a.Reason != "" {
			b.WriteString("  reason: " + a.Reason + "\n")
		}
		var where []string
		for _, k := range []string{"host", "check", "group", "type", "rule", "mountpoint", "interface"} {
			if v := a.Labels[k]; v != "" {
				where = append(where, k+"="+v)
			}
		}
		if len(where) > 0 {
			b.WriteString("  where: " + strings.Join(where, " ") + "\n")
		}
		b.WriteString("  since: " + a.StartsAt.UTC().Format(time.RFC3339) + "\n")
		if !a.EndsAt.IsZero() {
			b.WriteString("  ended: " + a.EndsAt.UTC().Format(time.RFC3339) + "\n")
		}
		if a.URL != "" {
			b.WriteString("  " + a.URL + "\n")
		}
	}
	return b.String()
}
