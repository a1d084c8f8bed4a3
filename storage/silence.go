package storage

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"time"

	"github.com/dashd/dashd/model"
	bolt "go.etcd.io/bbolt"
)

// maxMatchers bounds the globs of each kind in one silence.
const maxMatchers = 64

// AddSilence stores a silence and returns it with its ID and Created (now)
// once committed. A zero Start means now; End must come after Start;
// matchers are globs as in path.Match (checked here) and any Expired
// given is ignored (ExpireSilence ends a silence early). Silences are not
// held: on a failed commit the error wraps ErrWriteFailed.
func (db *DB) AddSilence(ctx context.Context, s model.Silence) (model.Silence, error) {
	now := db.now()
	if s.Start.IsZero() {
		s.Start = now
	}
	if p := silenceProblem(s); p != "" {
		return s, fmt.Errorf("storage: add silence: %w: %s", ErrInvalid, p)
	}
	s.ID, s.Created, s.Expired = 0, now, time.Time{}
	s.Checks, s.Groups, s.Rules = cloneStrings(s.Checks), cloneStrings(s.Groups), cloneStrings(s.Rules)
	id, err := db.sync(ctx, request{kind: reqSilence, alert: &alertReq{silence: s}})
	s.ID = id
	if err != nil {
		s.Created = time.Time{}
	}
	return s, err
}

// silenceProblem says what is wrong with a new silence ("" if nothing).
func silenceProblem(s model.Silence) string {
	switch {
	case !nsOK(s.Start) || !nsOK(s.End):
		return fmt.Sprintf("time out of range (years %d-%d)", nsMinYear, nsMaxYear)
	case !s.End.After(s.Start):
		return fmt.Sprintf("end %s is not after start %s", s.End.Format(time.RFC3339), s.Start.Format(time.RFC3339))
	case len(s.Author) > maxNameLen || len(s.Comment) > maxTextLen || len(s.Origin) > maxNameLen:
		return "author, comment or origin too long"
	case (s.Origin == "") != (s.OriginID == 0):
		return "origin and origin ID go together"
	}
	for _, m := range []struct {
		what  string
		globs []string
	}{{"checks", s.Checks}, {"groups", s.Groups}, {"rules", s.Rules}} {
		if len(m.globs) > maxMatchers {
			return fmt.Sprintf("%d %s matchers, at most %d", len(m.globs), m.what, maxMatchers)
		}
		for _, g := range m.globs {
			if len(g) > maxNameLen {
				return fmt.Sprintf("%s matcher %q too long", m.what, trunc(g))
			}
			if _, err := path.Match(g, ""); err != nil {
				return fmt.Sprintf("%s matcher %q: %v", m.what, trunc(g), err)
			}
		}
	}
	return ""
}

func cloneStrings(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return append([]string(nil), s...)
}

// ExpireSilence ends silence id at at (zero: now) and returns once that is
// committed. A silence expired already keeps the earlier time, so calling
// it again is harmless. An unknown id gives an error wrapping ErrNotFound;
// a failed commit one wrapping ErrWriteFailed.
func (db *DB) ExpireSilence(ctx context.Context, id uint64, at time.Time) error {
	if at.IsZero() {
		at = db.now()
	}
	if id == 0 || !nsOK(at) {
		return fmt.Errorf("storage: expire silence %d: %w: no id or time out of range", id, ErrInvalid)
	}
	_, err := db.sync(ctx, request{kind: reqExpireSilence, alert: &alertReq{silence: model.Silence{ID: id, Expired: at}}})
	return err
}

// applyExpireSilence sets the Expired time of silence id. An unknown or
// undecodable silence is refused without failing the transaction.
func (w *writer) applyExpireSilence(tx *bolt.Tx, id uint64, at time.Time) (refused, err error) {
	b := tx.Bucket(bSilences)
	k := u64Key(id)
	v := b.Get(k)
	if v == nil {
		return fmt.Errorf("storage: expire silence %d: %w", id, ErrNotFound), nil
	}
	s, derr := decodeSilence(id, v)
	if derr != nil {
		return fmt.Errorf("storage: expire silence %d: %w: %v", id, ErrCorrupt, derr), nil
	}
	if !s.Expired.IsZero() && !at.Before(s.Expired) {
		return nil, nil
	}
	s.Expired = at
	return nil, b.Put(k, encodeSilence(s))
}

// Silence returns the silence with id (ok false when none has it).
func (db *DB) Silence(id uint64) (s model.Silence, ok bool, err error) {
	err = db.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bSilences).Get(u64Key(id))
		if v == nil {
			return nil
		}
		var derr error
		if s, derr = decodeSilence(id, v); derr != nil {
			return fmt.Errorf("%w: %v", ErrCorrupt, derr)
		}
		ok = true
		return nil
	})
	if err != nil {
		return model.Silence{}, false, fmt.Errorf("storage: silence %d: %w", id, err)
	}
	return s, ok, nil
}

// SilenceFrom returns the copy of the silence that hub origin shared as
// its silence originID (ok false when none is stored): how a hub finds
// the silence another hub's action names. Silences are few (retention
// deletes the ended ones), so it reads them all.
func (db *DB) SilenceFrom(origin string, originID uint64) (s model.Silence, ok bool, err error) {
	if origin == "" || originID == 0 {
		return model.Silence{}, false, nil
	}
	err = db.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bSilences).ForEach(func(k, v []byte) error {
			c, derr := decodeSilence(beUint64(k), v)
			if derr == nil && c.Origin == origin && c.OriginID == originID && !ok {
				s, ok = c, true
			}
			return nil
		})
	})
	if err != nil {
		return model.Silence{}, false, fmt.Errorf("storage: silence %d of hub %s: %w", originID, origin, err)
	}
	return s, ok, nil
}

// Silences returns every silence that had not ended before since (by End,
// or by Expired if it was ended early; a zero since returns all kept),
// newest first. One that cannot be decoded is logged and skipped.
func (db *DB) Silences(since time.Time) ([]model.Silence, error) {
	var out []model.Silence
	err := db.view(func(tx *bolt.Tx) error {
		return newestFirst(tx.Bucket(bSilences), 0, func(id uint64, v []byte) (bool, error) {
			s, err := decodeSilence(id, v)
			if err != nil {
				db.log.Error("storage: corrupt silence skipped", "id", id, "err", err)
				return true, nil
			}
			if !silenceEnd(s).Before(since) {
				out = append(out, s)
			}
			return true, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("storage: silences: %w", err)
	}
	return out, nil
}

// deleteOldSilences deletes the silences that ended (or were expired)
// before cutoff (ms). Silences are few and not in end order, so it looks
// at all of them.
func deleteOldSilences(b *bolt.Bucket, cutoff int64, left *int) (bool, error) {
	var old [][]byte
	err := b.ForEach(func(k, v []byte) error {
		s, err := decodeSilence(0, v)
		if err == nil && silenceEnd(s).UnixMilli() < cutoff {
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
