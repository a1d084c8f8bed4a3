package fleet

import (
	"fmt"
	"strings"

	"github.com/dashd/dashd/config"
)

// Kind is what a fleet message carries, the last token of its subject.
type Kind string

// The message kinds.
const (
	KindSample Kind = "sample"
	KindResult Kind = "result"
	KindEvent  Kind = "event"
	KindHello  Kind = "hello"
)

// SubjectPrefix starts every fleet subject.
const SubjectPrefix = "dashd"

// StreamSubjects is what the fleet stream takes: every host's kinds.
const StreamSubjects = SubjectPrefix + ".*.*"

// Subject is the subject of host's messages of kind k.
func Subject(host string, k Kind) string { return SubjectPrefix + "." + host + "." + string(k) }

// HostSubjects is the pattern an agent for host may publish to.
func HostSubjects(host string) string { return SubjectPrefix + "." + host + ".>" }

// HistorySubject is where host's agent answers range requests for its
// raw history (request/reply). It has four tokens, so the stream
// (dashd.*.*) does not take it; it is under the host's prefix, so no
// other agent may publish to it.
func HistorySubject(host string) string { return SubjectPrefix + "." + host + ".rpc.history" }

// InboxPrefix is host's own reply inbox prefix: an agent may subscribe
// only under it, so it never hears another agent's acknowledgements.
func InboxPrefix(host string) string { return "_INBOX_" + host }

// HubInboxPrefix is the reply inbox prefix of a hub that connects to NATS
// by URL. No agent can have it: InboxPrefix of a fleet host name is
// "_INBOX_" and a letter or digit (config.FleetHostRule), and an agent
// may subscribe only under its own, so no agent (not even one named
// "hub") hears what the hubs fetch.
const HubInboxPrefix = "_INBOX_-hub"

// ParseSubject splits a fleet subject into its host and kind, refusing
// anything else.
func ParseSubject(subject string) (string, Kind, error) {
	parts := strings.Split(subject, ".")
	if len(parts) != 3 || parts[0] != SubjectPrefix {
		return "", "", fmt.Errorf("fleet: subject %q is not %s.<host>.<kind>", subject, SubjectPrefix)
	}
	if !config.ValidFleetHost(parts[1]) {
		return "", "", fmt.Errorf("fleet: subject %q: %s", subject, config.FleetHostRule)
	}
	switch k := Kind(parts[2]); k {
	case KindSample, KindResult, KindEvent, KindHello:
		return parts[1], k, nil
	}
	return "", "", fmt.Errorf("fleet: subject %q: unknown kind %q", subject, parts[2])
}
