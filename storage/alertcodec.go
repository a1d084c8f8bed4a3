package storage

import (
	"encoding/json"
	"time"

	"github.com/dashd/dashd/model"
)

// Alerting records (outbox items, channel records, active alerts,
// silences) are stored as JSON of the record types below, not of the model
// types: their short field names are the on-disk format and stay put when
// the API's JSON changes. JSON because these records are few and written at
// the rate of alerts (a handful a minute, not a tick's hundreds of points)
// and new fields can be added without a schema version; each holds only
// strings, integers, booleans and maps of strings, so encoding never fails.
// Times are Unix nanoseconds (0: the zero time), which is why the writes
// refuse times outside nsMinYear-nsMaxYear. See the package doc, # Values.

// The years a stored time may fall in: int64 nanoseconds since 1970 reach
// from 1677 to 2262.
const (
	nsMinYear = 1700
	nsMaxYear = 2200
)

// nsOK reports whether t can be stored as Unix nanoseconds.
func nsOK(t time.Time) bool {
	return t.IsZero() || (t.Year() >= nsMinYear && t.Year() <= nsMaxYear)
}

// nsOf is t as stored: Unix nanoseconds, 0 for the zero time.
func nsOf(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// nsTime is the inverse of nsOf.
func nsTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// alertRecord is the stored form of a model.Alert.
type alertRecord struct {
	Key      string            `json:"k"`
	Source   string            `json:"src,omitempty"`
	Name     string            `json:"n,omitempty"`
	Labels   map[string]string `json:"l,omitempty"`
	Severity string            `json:"sev,omitempty"`
	State    string            `json:"st,omitempty"`
	Summary  string            `json:"sum,omitempty"`
	Reason   string            `json:"r,omitempty"`
	StartsAt int64             `json:"sa,omitempty"`
	EndsAt   int64             `json:"ea,omitempty"`
	URL      string            `json:"u,omitempty"`
}

func toAlertRecord(a model.Alert) alertRecord {
	return alertRecord{Key: a.Key, Source: a.Source, Name: a.Name, Labels: a.Labels, Severity: a.Severity,
		State: string(a.State), Summary: a.Summary, Reason: a.Reason, StartsAt: nsOf(a.StartsAt),
		EndsAt: nsOf(a.EndsAt), URL: a.URL}
}

func (r alertRecord) alert() model.Alert {
	return model.Alert{Key: r.Key, Source: r.Source, Name: r.Name, Labels: r.Labels, Severity: r.Severity,
		State: model.AlertState(r.State), Summary: r.Summary, Reason: r.Reason, StartsAt: nsTime(r.StartsAt),
		EndsAt: nsTime(r.EndsAt), URL: r.URL}
}

func encodeAlert(a model.Alert) []byte { return mustJSON(toAlertRecord(a)) }

func decodeAlert(v []byte) (model.Alert, error) {
	var r alertRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return model.Alert{}, err
	}
	return r.alert(), nil
}

// itemRecord is the stored form of a model.OutboxItem; its ID is the key.
type itemRecord struct {
	Channel     string      `json:"ch"`
	Created     int64       `json:"c"`
	EventID     uint64      `json:"ev,omitempty"`
	Alert       alertRecord `json:"a"`
	Reminder    bool        `json:"rem,omitempty"`
	Test        bool        `json:"test,omitempty"`
	State       string      `json:"s"`
	Attempts    int         `json:"n,omitempty"`
	NextAttempt int64       `json:"next,omitempty"`
	LastError   string      `json:"err,omitempty"`
	Done        int64       `json:"done,omitempty"`
	MessageID   string      `json:"mid,omitempty"`
}

func encodeItem(it model.OutboxItem) []byte {
	return mustJSON(itemRecord{Channel: it.Channel, Created: nsOf(it.Created), EventID: it.EventID,
		Alert: toAlertRecord(it.Alert), Reminder: it.Reminder, Test: it.Test, State: it.State.String(),
		Attempts: it.Attempts, NextAttempt: nsOf(it.NextAttempt), LastError: it.LastError, Done: nsOf(it.Done),
		MessageID: it.MessageID})
}

func decodeItem(id uint64, v []byte) (model.OutboxItem, error) {
	var r itemRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return model.OutboxItem{}, err
	}
	return model.OutboxItem{ID: id, Channel: r.Channel, Created: nsTime(r.Created), EventID: r.EventID,
		Alert: r.Alert.alert(), Reminder: r.Reminder, Test: r.Test, State: parseOutboxState(r.State),
		Attempts: r.Attempts, NextAttempt: nsTime(r.NextAttempt), LastError: r.LastError, Done: nsTime(r.Done),
		MessageID: r.MessageID}, nil
}

// parseOutboxState is the inverse of OutboxState.String.
func parseOutboxState(s string) model.OutboxState {
	switch s {
	case "delivered":
		return model.OutboxDelivered
	case "failed":
		return model.OutboxFailed
	}
	return model.OutboxPending
}

// channelRecord is a channel's small record in the outbox_stats bucket: its
// pending count and delivery counters, kept up to date by every change and
// mark in the same transaction, so reading a channel's health never scans
// its items.
type channelRecord struct {
	Pending     uint64 `json:"pending"`
	LastAdded   int64  `json:"added,omitempty"`
	LastSuccess int64  `json:"ok,omitempty"`
	LastFailure int64  `json:"fail,omitempty"`
	LastError   string `json:"err,omitempty"`
	Delivered   uint64 `json:"delivered,omitempty"`
	Failed      uint64 `json:"failed,omitempty"`
}

func (c channelRecord) encode() []byte { return mustJSON(c) }

func decodeChannelRecord(v []byte) (channelRecord, error) {
	var c channelRecord
	err := json.Unmarshal(v, &c)
	return c, err
}

// lastActive is the newest time the channel did anything (ns).
func (c channelRecord) lastActive() int64 { return max(c.LastAdded, c.LastSuccess, c.LastFailure) }

// silenceRecord is the stored form of a model.Silence; its ID is the key.
type silenceRecord struct {
	Checks  []string `json:"checks,omitempty"`
	Groups  []string `json:"groups,omitempty"`
	Rules   []string `json:"rules,omitempty"`
	Start   int64    `json:"start"`
	End     int64    `json:"end"`
	Author  string   `json:"author,omitempty"`
	Comment string   `json:"comment,omitempty"`
	Created int64    `json:"created"`
	Expired int64    `json:"expired,omitempty"`
	// Origin and OriginID: a copy of another hub's silence (model.Silence).
	Origin   string `json:"origin,omitempty"`
	OriginID uint64 `json:"origin_id,omitempty"`
}

func encodeSilence(s model.Silence) []byte {
	return mustJSON(silenceRecord{Checks: s.Checks, Groups: s.Groups, Rules: s.Rules, Start: nsOf(s.Start),
		End: nsOf(s.End), Author: s.Author, Comment: s.Comment, Created: nsOf(s.Created), Expired: nsOf(s.Expired),
		Origin: s.Origin, OriginID: s.OriginID})
}

func decodeSilence(id uint64, v []byte) (model.Silence, error) {
	var r silenceRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return model.Silence{}, err
	}
	return model.Silence{ID: id, Checks: r.Checks, Groups: r.Groups, Rules: r.Rules, Start: nsTime(r.Start),
		End: nsTime(r.End), Author: r.Author, Comment: r.Comment, Created: nsTime(r.Created),
		Expired: nsTime(r.Expired), Origin: r.Origin, OriginID: r.OriginID}, nil
}

// silenceEnd is when s stops being in force: its End, or when it was
// expired by hand if that came first.
func silenceEnd(s model.Silence) time.Time {
	if !s.Expired.IsZero() && s.Expired.Before(s.End) {
		return s.Expired
	}
	return s.End
}

// mustJSON encodes the record types above, which hold nothing that
// json.Marshal can refuse (no floats, channels, funcs or custom
// marshalers); a failure is a programming error.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("storage: encode alerting record: " + err.Error())
	}
	return b
}
