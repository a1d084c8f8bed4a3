package storage

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Bounds on a stored session. A session is written at sign-in from what
// an identity provider or a browser sent, so every field has one.
const (
	maxSessionKey    = 128
	maxSessionWord   = 64 // role, method
	maxSessionGroups = 256
	maxSessionBytes  = 64 << 10 // all strings of one session together
	// maxSessionBatch bounds the keys or updates of one write.
	maxSessionBatch = 4096
)

// Session is a signed-in browser session as stored. Storage knows nothing
// of cookies or policy: package auth decides the key (a hash of the
// cookie, never the cookie itself), the role and when it expires.
type Session struct {
	// Key identifies the session (auth: the hex SHA-256 of the cookie).
	Key string
	// User, Role and Method (how the user signed in: "password", "oidc")
	// and the Groups the user had then.
	User   string
	Role   string
	Method string
	Groups []string
	// Created is the sign-in; LastSeen the last use auth recorded.
	Created  time.Time
	LastSeen time.Time
	// Expires is when the session ends unless it is used again, as auth
	// computed it at the last write; retention deletes sessions an hour
	// past it (see the package doc, # Retention). Required.
	Expires time.Time
	// Addr and UserAgent are the client's at sign-in, for the sessions
	// list a user or an admin reads.
	Addr      string
	UserAgent string
}

// SessionUpdate changes one stored session; zero fields leave its value as
// it is. An update never creates a session: one deleted meanwhile (logout,
// retention) stays deleted.
type SessionUpdate struct {
	Key      string
	LastSeen time.Time
	Expires  time.Time
	Role     string
}

// sessionReq carries what the session writes need.
type sessionReq struct {
	put     Session         // reqSessionPut
	updates []SessionUpdate // reqSessionUpdate
	keys    []string        // reqSessionDelete
}

// PutSession stores s (a new session, or a whole replacement of the one
// with its key) and returns once committed. Sessions are not held: on a
// failed commit the error wraps ErrWriteFailed, and the caller refuses the
// sign-in. Nor are failed session writes counted in WriteHealth.Dropped
// (it has no kind for them): each one is answered to its caller, which
// refuses the sign-in or logs. A missing key, user or Expires, a time out
// of range, or a field beyond its bound gives ErrInvalid.
func (db *DB) PutSession(ctx context.Context, s Session) error {
	if p := sessionProblem(s); p != "" {
		return fmt.Errorf("storage: put session: %w: %s", ErrInvalid, p)
	}
	s.Groups = cloneStrings(s.Groups)
	_, err := db.sync(ctx, request{kind: reqSessionPut, sess: &sessionReq{put: s}})
	return err
}

// UpdateSessions applies updates to the sessions that still exist, in one
// transaction, and returns once committed; keys that are not stored are
// skipped. It is how auth records last-seen times in batches.
func (db *DB) UpdateSessions(ctx context.Context, updates []SessionUpdate) error {
	if len(updates) == 0 {
		return nil
	}
	if len(updates) > maxSessionBatch {
		return fmt.Errorf("storage: update sessions: %w: %d updates, at most %d", ErrInvalid, len(updates), maxSessionBatch)
	}
	for _, u := range updates {
		if !validSessionKey(u.Key) || !nsOK(u.LastSeen) || !nsOK(u.Expires) || len(u.Role) > maxSessionWord {
			return fmt.Errorf("storage: update sessions: %w: key %q, a time out of range or role too long", ErrInvalid, trunc(u.Key))
		}
	}
	_, err := db.sync(ctx, request{kind: reqSessionUpdate, sess: &sessionReq{updates: slices.Clone(updates)}})
	return err
}

// DeleteSessions deletes the sessions with these keys and returns how many
// existed, once committed. Unknown keys are skipped.
func (db *DB) DeleteSessions(ctx context.Context, keys ...string) (int, error) {
	if len(keys) == 0 {
		return 0, nil
	}
	if len(keys) > maxSessionBatch {
		return 0, fmt.Errorf("storage: delete sessions: %w: %d keys, at most %d", ErrInvalid, len(keys), maxSessionBatch)
	}
	for _, k := range keys {
		if !validSessionKey(k) {
			return 0, fmt.Errorf("storage: delete sessions: %w: key %q", ErrInvalid, trunc(k))
		}
	}
	n, err := db.sync(ctx, request{kind: reqSessionDelete, sess: &sessionReq{keys: slices.Clone(keys)}})
	return int(n), err
}

// GetSession returns the session stored under key; ok is false when there
// is none. A record that cannot be decoded is logged and reported as
// missing (the user signs in again).
func (db *DB) GetSession(key string) (s Session, ok bool, err error) {
	if !validSessionKey(key) {
		return Session{}, false, nil
	}
	err = db.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bSessions).Get([]byte(key))
		if v == nil {
			return nil
		}
		var derr error
		s, derr = decodeSession(key, v)
		if derr != nil {
			db.log.Error("storage: corrupt session skipped", "err", derr)
			return nil
		}
		ok = true
		return nil
	})
	if err != nil {
		return Session{}, false, fmt.Errorf("storage: get session: %w", err)
	}
	return s, ok, nil
}

// Sessions returns the stored sessions of user ("" for every user), the
// most recently created first. Sessions are few (auth bounds them per
// user), so it reads them all; one that cannot be decoded is logged and
// skipped.
func (db *DB) Sessions(user string) ([]Session, error) {
	var out []Session
	err := db.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bSessions).ForEach(func(k, v []byte) error {
			s, err := decodeSession(string(k), v)
			if err != nil {
				db.log.Error("storage: corrupt session skipped", "err", err)
				return nil
			}
			if user == "" || s.User == user {
				out = append(out, s)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("storage: sessions: %w", err)
	}
	slices.SortFunc(out, func(a, b Session) int {
		return cmp.Or(b.Created.Compare(a.Created), cmp.Compare(a.Key, b.Key))
	})
	return out, nil
}

// applySession writes one session request inside tx and returns the
// number of sessions deleted (reqSessionDelete).
func applySession(tx *bolt.Tx, kind reqKind, r *sessionReq) (uint64, error) {
	b := tx.Bucket(bSessions)
	switch kind {
	case reqSessionPut:
		return 0, b.Put([]byte(r.put.Key), encodeSession(r.put))
	case reqSessionUpdate:
		for _, u := range r.updates {
			k := []byte(u.Key)
			v := b.Get(k)
			if v == nil {
				continue
			}
			s, err := decodeSession(u.Key, v)
			if err != nil {
				continue // retention or the next sign-in replaces it
			}
			if !u.LastSeen.IsZero() {
				s.LastSeen = u.LastSeen
			}
			if !u.Expires.IsZero() {
				s.Expires = u.Expires
			}
			if u.Role != "" {
				s.Role = u.Role
			}
			if err := b.Put(k, encodeSession(s)); err != nil {
				return 0, err
			}
		}
		return 0, nil
	case reqSessionDelete:
		var n uint64
		for _, key := range r.keys {
			k := []byte(key)
			if b.Get(k) == nil {
				continue
			}
			if err := b.Delete(k); err != nil {
				return 0, err
			}
			n++
		}
		return n, nil
	}
	return 0, fmt.Errorf("storage: session request of kind %s", kind)
}

// sessionGrace is how long past its Expires a session stays stored:
// auth records last-seen times in batches, so the stored Expires of a
// session in use may lag the real one by a minute or two.
const sessionGrace = time.Hour

// deleteExpiredSessions deletes the sessions whose Expires is more than
// sessionGrace before now (ms), and those that cannot be decoded.
func deleteExpiredSessions(b *bolt.Bucket, now int64, left *int) (bool, error) {
	cutoff := now - sessionGrace.Milliseconds()
	var old [][]byte
	err := b.ForEach(func(k, v []byte) error {
		s, err := decodeSession(string(k), v)
		if err != nil || s.Expires.UnixMilli() < cutoff {
			old = append(old, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	for _, k := range old {
		if *left <= 0 {
			return true, nil
		}
		if err := b.Delete(k); err != nil {
			return false, err
		}
		*left--
	}
	return false, nil
}

// sessionProblem says what is wrong with a session to store ("" if
// nothing).
func sessionProblem(s Session) string {
	size := len(s.Key) + len(s.User) + len(s.Role) + len(s.Method) + len(s.Addr) + len(s.UserAgent)
	for _, g := range s.Groups {
		size += len(g)
	}
	switch {
	case !validSessionKey(s.Key):
		return fmt.Sprintf("key %q: want 1 to %d bytes", trunc(s.Key), maxSessionKey)
	case s.User == "" || len(s.User) > maxNameLen:
		return "empty or too long user name"
	case len(s.Role) > maxSessionWord || len(s.Method) > maxSessionWord:
		return "role or method too long"
	case len(s.Groups) > maxSessionGroups:
		return fmt.Sprintf("%d groups, at most %d", len(s.Groups), maxSessionGroups)
	case size > maxSessionBytes:
		return fmt.Sprintf("%d bytes, at most %d", size, maxSessionBytes)
	case s.Expires.IsZero():
		return "no expiry"
	case !nsOK(s.Created) || !nsOK(s.LastSeen) || !nsOK(s.Expires):
		return fmt.Sprintf("time out of range (years %d-%d)", nsMinYear, nsMaxYear)
	}
	return ""
}

func validSessionKey(k string) bool { return k != "" && len(k) <= maxSessionKey }
