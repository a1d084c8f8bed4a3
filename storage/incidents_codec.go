package storage

import (
	"encoding/json"
	"fmt"

	"github.com/dashd/dashd/model"
)

// incidentRecord is the stored form of a model.Incident: JSON with short
// field names, like the alerting records (see alertcodec.go) and for the
// same reasons: few records, written at the rate of outages, fields can
// be added without a schema version, encoding cannot fail. The ID is the
// bbolt key, not repeated in the value. Times are Unix nanoseconds.
type incidentRecord struct {
	Title      string   `json:"t"`
	State      string   `json:"s"`
	Started    int64    `json:"st"`
	Updated    int64    `json:"up,omitempty"`
	Acked      int64    `json:"a,omitempty"`
	AckedBy    string   `json:"ab,omitempty"`
	Resolved   int64    `json:"r,omitempty"`
	ResolvedBy string   `json:"rb,omitempty"`
	Summary    string   `json:"sum,omitempty"`
	Held       bool     `json:"h,omitempty"`
	Checks     []string `json:"c,omitempty"`
	Rules      []string `json:"ru,omitempty"`
	Failing    []string `json:"f,omitempty"`
	// Entries is the number of entries written so far (the newest seq).
	Entries uint64 `json:"n,omitempty"`
}

func encodeIncident(i model.Incident) []byte {
	return mustJSON(incidentRecord{Title: i.Title, State: string(i.State), Started: nsOf(i.Started),
		Updated: nsOf(i.Updated), Acked: nsOf(i.Acked), AckedBy: i.AckedBy, Resolved: nsOf(i.Resolved),
		ResolvedBy: i.ResolvedBy, Summary: i.Summary, Held: i.Held, Checks: i.Checks, Rules: i.Rules,
		Failing: i.Failing, Entries: i.Entries})
}

func decodeIncident(id uint64, v []byte) (model.Incident, error) {
	var r incidentRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return model.Incident{}, fmt.Errorf("incident %d: %w", id, err)
	}
	st := model.IncidentState(r.State)
	if st != model.IncidentOpen && st != model.IncidentResolved || r.Started == 0 {
		return model.Incident{}, fmt.Errorf("incident %d: state %q, started %d", id, r.State, r.Started)
	}
	return model.Incident{ID: id, Title: r.Title, State: st, Started: nsTime(r.Started), Updated: nsTime(r.Updated),
		Acked: nsTime(r.Acked), AckedBy: r.AckedBy, Resolved: nsTime(r.Resolved), ResolvedBy: r.ResolvedBy,
		Summary: r.Summary, Held: r.Held, Checks: nonNil(r.Checks), Rules: r.Rules, Failing: nonNil(r.Failing),
		Entries: r.Entries}, nil
}

// nonNil makes an empty list encode as [] in the API rather than null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// entryRecord is the stored form of a model.IncidentEntry; the incident
// and the sequence number are its key.
type entryRecord struct {
	Time    int64  `json:"t"`
	Kind    string `json:"k"`
	Check   string `json:"c,omitempty"`
	Rule    string `json:"ru,omitempty"`
	From    uint8  `json:"f,omitempty"`
	To      uint8  `json:"to,omitempty"`
	User    string `json:"u,omitempty"`
	Address string `json:"a,omitempty"`
	Text    string `json:"x,omitempty"`
	Public  bool   `json:"p,omitempty"`
	Origin  string `json:"o,omitempty"`
	Action  string `json:"id,omitempty"`
}

func encodeEntry(e model.IncidentEntry) []byte {
	return mustJSON(entryRecord{Time: nsOf(e.Time), Kind: string(e.Kind), Check: e.Check, Rule: e.Rule,
		From: uint8(e.From), To: uint8(e.To), User: e.User, Address: e.Address, Text: e.Text, Public: e.Public,
		Origin: e.Origin, Action: e.Action})
}

func decodeEntry(incident, seq uint64, v []byte) (model.IncidentEntry, error) {
	var r entryRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return model.IncidentEntry{}, fmt.Errorf("incident %d entry %d: %w", incident, seq, err)
	}
	return model.IncidentEntry{Incident: incident, Seq: seq, Time: nsTime(r.Time), Kind: model.EntryKind(r.Kind),
		Check: r.Check, Rule: r.Rule, From: model.State(r.From), To: model.State(r.To), User: r.User,
		Address: r.Address, Text: r.Text, Public: r.Public, Origin: r.Origin, Action: r.Action}, nil
}

// entryKey is an entry's key: the incident's ID, then its sequence
// number, so one incident's entries are one range in order.
func entryKey(incident, seq uint64) []byte {
	k := make([]byte, 16)
	putBEUint64(k, incident)
	putBEUint64(k[8:], seq)
	return k
}
