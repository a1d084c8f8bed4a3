package storage

import (
	"time"

	"github.com/dashd/dashd/model"
	bolt "go.etcd.io/bbolt"
)

// pendingFill is the fill of a channel's pending bucket: keys only grow (one
// sequence) and go from the front, so pages are packed (bbolt's default
// of a half leaves half of every page empty), with room for a retry's
// error text.
const pendingFill = 0.9

// doneKey is an item's key in the outbox_done bucket: when it finished,
// then its ID, so the bucket is in finishing order (Deliveries reads its
// end, retention deletes a prefix).
func doneKey(done time.Time, id uint64) []byte {
	k := make([]byte, 16)
	putTime(k, done.UnixMilli())
	putBEUint64(k[8:], id)
	return k
}

// applyAlertChange stores r's event (if it has one), the alerts' states and
// the outbox items, and counts the items in their channels' records. It
// returns the event's ID (0 without one) and sets the items' IDs in r.
func (w *writer) applyAlertChange(tx *bolt.Tx, r *request) (uint64, error) {
	a := r.alert
	var eventID uint64
	if a.withEvent {
		id, err := putSeq(tx.Bucket(bEvents), encodeEvent(r.event))
		if err != nil {
			return 0, err
		}
		eventID = id
	}
	if err := putAlertStates(tx.Bucket(bAlerts), a.change.Alerts); err != nil {
		return 0, err
	}
	ob := tx.Bucket(bOutbox)
	recs := map[string]*channelRecord{}
	var order []string
	for i := range a.change.Outbox {
		it := &a.change.Outbox[i]
		if a.withEvent {
			it.EventID = eventID
		}
		rec := recs[it.Channel]
		if rec == nil {
			// Read before the first Put: a missing or damaged record is
			// recounted from the bucket as it was.
			c := w.db.channelRecord(tx, it.Channel)
			rec = &c
			recs[it.Channel] = rec
			order = append(order, it.Channel)
		}
		// One sequence for every channel: IDs increase per channel and
		// are unique across channels (Deliveries lists several).
		id, err := ob.NextSequence()
		if err != nil {
			return 0, err
		}
		it.ID = id
		cb, err := ob.CreateBucketIfNotExists([]byte(it.Channel))
		if err != nil {
			return 0, err
		}
		cb.FillPercent = pendingFill
		if err := cb.Put(u64Key(id), encodeItem(*it)); err != nil {
			return 0, err
		}
		rec.Pending++
		rec.LastAdded = max(rec.LastAdded, nsOf(it.Created))
	}
	stats := tx.Bucket(bOutboxStats)
	for _, ch := range order {
		if err := stats.Put([]byte(ch), recs[ch].encode()); err != nil {
			return 0, err
		}
	}
	return eventID, nil
}

// applyMarkOutbox applies one MarkOutbox call: see there.
func (w *writer) applyMarkOutbox(tx *bolt.Tx, m outboxMark) error {
	cb := tx.Bucket(bOutbox).Bucket([]byte(m.channel))
	if cb == nil {
		return nil // nothing was ever queued for it
	}
	now := w.db.now()
	done := m.u.Done
	if done.IsZero() {
		done = now
	}
	cb.FillPercent = pendingFill
	finished := m.u.State != model.OutboxPending
	doneB := tx.Bucket(bOutboxDone)
	doneB.FillPercent = 0.9 // keys grow with time, bar clock steps
	rec := w.db.channelRecord(tx, m.channel)
	n := uint64(0)
	for _, id := range m.ids {
		k := u64Key(id)
		v := cb.Get(k)
		if v == nil {
			continue
		}
		it, err := decodeItem(id, v)
		if err != nil {
			// Outbox never returned it (it skips what it cannot decode),
			// so nobody asks for it; leave it for someone to look at.
			w.db.log.Error("storage: corrupt outbox item left in place", "channel", m.channel, "id", id, "err", err)
			continue
		}
		n++
		it.Attempts = m.u.Attempts
		it.LastError = m.u.LastError
		if m.u.MessageID != "" {
			it.MessageID = m.u.MessageID
		}
		if !finished {
			it.NextAttempt = m.u.NextAttempt
			if err := cb.Put(k, encodeItem(it)); err != nil {
				return err
			}
			continue
		}
		it.State, it.Done, it.NextAttempt = m.u.State, done, time.Time{}
		if err := cb.Delete(k); err != nil {
			return err
		}
		if err := doneB.Put(doneKey(done, id), encodeItem(it)); err != nil {
			return err
		}
		rec.Pending -= min(rec.Pending, 1)
	}
	if n == 0 {
		return nil
	}
	switch m.u.State {
	case model.OutboxDelivered:
		rec.Delivered += n
		rec.LastSuccess = max(rec.LastSuccess, nsOf(done))
	case model.OutboxFailed:
		rec.Failed += n
		rec.LastFailure, rec.LastError = nsOf(done), m.u.LastError
	default:
		if m.u.LastError != "" {
			rec.LastFailure, rec.LastError = nsOf(now), m.u.LastError
		}
	}
	return tx.Bucket(bOutboxStats).Put([]byte(m.channel), rec.encode())
}

// channelRecord reads a channel's record. A missing or damaged one (it is
// never missing while the channel has items, unless the file was edited)
// is rebuilt: its pending count from the channel's bucket, its counters
// from zero.
func (db *DB) channelRecord(tx *bolt.Tx, channel string) channelRecord {
	v := tx.Bucket(bOutboxStats).Get([]byte(channel))
	if v != nil {
		rec, err := decodeChannelRecord(v)
		if err == nil {
			return rec
		}
		db.log.Error("storage: corrupt outbox channel record rebuilt", "channel", channel, "err", err)
	}
	var rec channelRecord
	if cb := tx.Bucket(bOutbox).Bucket([]byte(channel)); cb != nil {
		c := cb.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			rec.Pending++
		}
	}
	return rec
}

// deleteIdleChannels deletes the record and the (empty) pending bucket of
// every channel with nothing pending and no activity since cutoff (ms): a
// channel removed from the configuration leaves OutboxStats once its last
// deliveries are past retention.
func deleteIdleChannels(tx *bolt.Tx, cutoff int64, left *int) (bool, error) {
	stats, ob := tx.Bucket(bOutboxStats), tx.Bucket(bOutbox)
	var idle [][]byte
	err := stats.ForEach(func(k, v []byte) error {
		rec, err := decodeChannelRecord(v)
		if err == nil && rec.Pending == 0 && rec.lastActive()/int64(time.Millisecond) < cutoff {
			if cb := ob.Bucket(k); cb == nil || isEmpty(cb) {
				idle = append(idle, append([]byte(nil), k...))
			}
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	for _, k := range idle {
		if *left <= 0 {
			return true, nil
		}
		if err := stats.Delete(k); err != nil {
			return false, err
		}
		if ob.Bucket(k) != nil {
			if err := ob.DeleteBucket(k); err != nil {
				return false, err
			}
		}
		*left--
	}
	return false, nil
}
