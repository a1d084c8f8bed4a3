package storage

import (
	"encoding/json"
	"fmt"
)

// sessionRecord is the stored form of a Session: JSON with short field
// names, like the alerting records (see alertcodec.go), and for the same
// reasons: few records, fields can be added, encoding cannot fail. The key
// is the bbolt key, not repeated in the value. Strings that are not UTF-8
// are stored with U+FFFD in place of the bad bytes.
type sessionRecord struct {
	User      string   `json:"u"`
	Role      string   `json:"r,omitempty"`
	Method    string   `json:"m,omitempty"`
	Groups    []string `json:"g,omitempty"`
	Created   int64    `json:"c"`
	LastSeen  int64    `json:"l,omitempty"`
	Expires   int64    `json:"e"`
	Addr      string   `json:"a,omitempty"`
	UserAgent string   `json:"ua,omitempty"`
}

func encodeSession(s Session) []byte {
	return mustJSON(sessionRecord{User: s.User, Role: s.Role, Method: s.Method, Groups: s.Groups,
		Created: nsOf(s.Created), LastSeen: nsOf(s.LastSeen), Expires: nsOf(s.Expires),
		Addr: s.Addr, UserAgent: s.UserAgent})
}

func decodeSession(key string, v []byte) (Session, error) {
	var r sessionRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return Session{}, fmt.Errorf("session record: %w", err)
	}
	if r.User == "" || r.Expires == 0 {
		return Session{}, fmt.Errorf("session record: no user or expiry")
	}
	return Session{Key: key, User: r.User, Role: r.Role, Method: r.Method, Groups: r.Groups,
		Created: nsTime(r.Created), LastSeen: nsTime(r.LastSeen), Expires: nsTime(r.Expires),
		Addr: r.Addr, UserAgent: r.UserAgent}, nil
}
