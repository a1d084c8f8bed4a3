package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/dashd/dashd/alert"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/storage"
)

// Silencer makes and ends silences on this hub so that they hold back
// what they match here (the alert.Alerter, not a wrapper that shares
// again): the other hubs' silences go through it.
type Silencer interface {
	AddSilence(ctx context.Context, s model.Silence) (model.Silence, error)
	ExpireSilence(ctx context.Context, id uint64, by, addr string) error
}

// SilenceIndex finds a silence by its ID here or by where it was made
// (the storage.DB).
type SilenceIndex interface {
	Silence(id uint64) (model.Silence, bool, error)
	SilenceFrom(origin string, originID uint64) (model.Silence, bool, error)
}

// silenceWire is a silence made on one hub. Origin and ID name it on
// every hub: the hub where it was made and its ID there.
type silenceWire struct {
	Origin  string    `json:"origin"`
	ID      uint64    `json:"id"`
	Checks  []string  `json:"checks,omitempty"`
	Groups  []string  `json:"groups,omitempty"`
	Rules   []string  `json:"rules,omitempty"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Author  string    `json:"author"`
	Comment string    `json:"comment"`
}

// silenceExpireWire is a silence ended by hand on one hub (By, at Time);
// the silence may have been made on any hub.
type silenceExpireWire struct {
	Origin string    `json:"origin"`
	ID     uint64    `json:"id"`
	By     string    `json:"by"`
	Time   time.Time `json:"time"`
}

// silenceKey is where s was made and its ID there: hub's own silences are
// its own, a copy names its origin.
func silenceKey(hub string, s model.Silence) (string, uint64) {
	if s.Origin != "" {
		return s.Origin, s.OriginID
	}
	return hub, s.ID
}

// SilenceAction is the message that shares s, a silence made on hub and
// stored there, with the other hubs.
func SilenceAction(hub string, s model.Silence) (Message, error) {
	origin, id := silenceKey(hub, s)
	data, err := json.Marshal(silenceWire{Origin: origin, ID: id, Checks: s.Checks, Groups: s.Groups, Rules: s.Rules,
		Start: s.Start, End: s.End, Author: s.Author, Comment: s.Comment})
	if err != nil {
		return Message{}, fmt.Errorf("fleet: encode silence: %w", err)
	}
	return Message{Subject: ActionSubject(hub, ActionSilence), ID: hub + ":silence:" + origin + ":" + strconv.FormatUint(id, 36),
		Data: data}, nil
}

// SilenceExpireAction is the message that shares the expiry of s (made on
// any hub) by by at at, done on hub, with the other hubs.
func SilenceExpireAction(hub string, s model.Silence, by string, at time.Time) (Message, error) {
	origin, id := silenceKey(hub, s)
	data, err := json.Marshal(silenceExpireWire{Origin: origin, ID: id, By: by, Time: at})
	if err != nil {
		return Message{}, fmt.Errorf("fleet: encode silence expiry: %w", err)
	}
	return Message{Subject: ActionSubject(hub, ActionSilenceExpire),
		ID: hub + ":silence-expire:" + origin + ":" + strconv.FormatUint(id, 36), Data: data}, nil
}

// validSilenceRef refuses a silence reference without an origin hub name
// or an ID.
func validSilenceRef(origin string, id uint64) error {
	if !config.ValidFleetHost(origin) || id == 0 {
		return fmt.Errorf("%w: silence without a hub and an ID", ErrBadMessage)
	}
	return nil
}

// ShareSilence hands s, a silence made here and stored, to the other
// hubs; a failure is logged and returned (s stays in force here).
func (a *Actions) ShareSilence(s model.Silence) error {
	msg, err := SilenceAction(a.name, s)
	if err == nil {
		err = a.enqueue(msg)
	}
	if err != nil {
		a.log.Warn("silence not shared with the other hubs", "silence", s.ID, "err", err)
	}
	return err
}

// ShareSilenceExpiry hands the expiry of s by by at at, done here and
// stored, to the other hubs; a failure is logged and returned.
func (a *Actions) ShareSilenceExpiry(s model.Silence, by string, at time.Time) error {
	msg, err := SilenceExpireAction(a.name, s, by, at)
	if err == nil {
		err = a.enqueue(msg)
	}
	if err != nil {
		a.log.Warn("silence expiry not shared with the other hubs", "silence", s.ID, "err", err)
	}
	return err
}

// via is the address another hub's action is recorded with here (the
// audit log shows where it came from).
func via(hub string) string { return "hub " + hub }

// handleSilence stores a copy of another hub's silence (once: a copy of
// the same origin and ID already stored is a redelivery) through the
// Silencer, so it holds back what it matches here.
func (a *Actions) handleSilence(ctx context.Context, from string, data []byte) (fate, error) {
	var w silenceWire
	if err := decodeJSON("silence", data, &w); err != nil {
		return refused, err
	}
	if err := validSilenceRef(w.Origin, w.ID); err != nil {
		return refused, err
	}
	if len(w.Author) > maxChatAuthor || !utf8.ValidString(w.Author) || !utf8.ValidString(w.Comment) {
		return refused, fmt.Errorf("%w: silence author over %d bytes or text not UTF-8", ErrBadMessage, maxChatAuthor)
	}
	if a.silences == nil || a.o.SilenceIndex == nil {
		return later, nil
	}
	if w.Origin == a.name {
		a.duplicates.Add(1) // this hub's own, come back: it has it
		return done, nil
	}
	if _, ok, err := a.o.SilenceIndex.SilenceFrom(w.Origin, w.ID); err != nil || ok {
		if ok {
			a.duplicates.Add(1)
			return done, nil
		}
		return done, fmt.Errorf("find silence %d of hub %s: %w", w.ID, w.Origin, err)
	}
	s, err := a.silences.AddSilence(ctx, model.Silence{Checks: w.Checks, Groups: w.Groups, Rules: w.Rules, Start: w.Start,
		End: w.End, Author: w.Author, Comment: w.Comment, Address: via(from), Origin: w.Origin, OriginID: w.ID})
	switch {
	case errors.Is(err, alert.ErrBadSilence):
		// Ended already (a hub catching up), or what this hub cannot
		// hold: nothing to hold back here.
		a.moot.Add(1)
		a.log.Info("silence from another hub not kept here", "hub", from, "origin", w.Origin, "id", w.ID, "err", err)
		return done, nil
	case err != nil:
		return done, fmt.Errorf("store silence %d of hub %s: %w", w.ID, w.Origin, err)
	}
	a.stored.Add(1)
	a.log.Debug("silence from another hub", "hub", from, "origin", w.Origin, "origin_id", w.ID, "id", s.ID)
	return done, nil
}

// handleSilenceExpire ends this hub's copy of (or its own) silence that
// another hub expired. A silence not here yet (its own message still on
// its way from a third hub) comes again; one expired already is done.
func (a *Actions) handleSilenceExpire(ctx context.Context, from string, data []byte) (fate, error) {
	var w silenceExpireWire
	if err := decodeJSON("silence expiry", data, &w); err != nil {
		return refused, err
	}
	if err := validSilenceRef(w.Origin, w.ID); err != nil {
		return refused, err
	}
	if len(w.By) > maxChatAuthor || !utf8.ValidString(w.By) {
		return refused, fmt.Errorf("%w: silence expiry by over %d bytes or not UTF-8", ErrBadMessage, maxChatAuthor)
	}
	if a.silences == nil || a.o.SilenceIndex == nil {
		return later, nil
	}
	var (
		s   model.Silence
		ok  bool
		err error
	)
	if w.Origin == a.name {
		s, ok, err = a.o.SilenceIndex.Silence(w.ID)
		ok = ok && s.Origin == ""
	} else {
		s, ok, err = a.o.SilenceIndex.SilenceFrom(w.Origin, w.ID)
	}
	switch {
	case errors.Is(err, storage.ErrCorrupt):
		// Retrying cannot mend the record: refused (with a warning),
		// so it does not hold back the actions after it.
		return refused, fmt.Errorf("find silence %d of hub %s: %w", w.ID, w.Origin, err)
	case err != nil:
		return done, fmt.Errorf("find silence %d of hub %s: %w", w.ID, w.Origin, err)
	case !ok:
		return later, nil
	case !s.Expired.IsZero():
		a.duplicates.Add(1)
		return done, nil
	}
	by := w.By
	if by == "" {
		by = "someone on hub " + from
	}
	if err := a.silences.ExpireSilence(ctx, s.ID, by, via(from)); err != nil {
		if errors.Is(err, storage.ErrCorrupt) {
			return refused, fmt.Errorf("expire silence %d (%d of hub %s): %w", s.ID, w.ID, w.Origin, err)
		}
		return done, fmt.Errorf("expire silence %d (%d of hub %s): %w", s.ID, w.ID, w.Origin, err)
	}
	a.stored.Add(1)
	return done, nil
}
