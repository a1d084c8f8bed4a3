package storage

import (
	"fmt"

	"github.com/dashd/dashd/model"
	bolt "go.etcd.io/bbolt"
)

// defaultDeliveries is Deliveries' limit when it is given none.
const defaultDeliveries = 50

// Outbox returns up to limit (<= 0: all) of the channel's pending items,
// oldest (lowest ID) first: the order the channel must deliver them in.
// An item that cannot be decoded is logged and skipped, so one damaged
// record does not stop its channel.
func (db *DB) Outbox(channel string, limit int) ([]model.OutboxItem, error) {
	var out []model.OutboxItem
	err := db.view(func(tx *bolt.Tx) error {
		cb := tx.Bucket(bOutbox).Bucket([]byte(channel))
		if cb == nil {
			return nil
		}
		c := cb.Cursor()
		for k, v := c.First(); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Next() {
			if it, ok := db.item(k, v); ok {
				out = append(out, it)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: outbox of %q: %w", channel, err)
	}
	return out, nil
}

// item decodes an item stored under an 8-byte ID key (the tail of k), and
// logs and skips one that cannot be decoded.
func (db *DB) item(k, v []byte) (model.OutboxItem, bool) {
	if len(k) < 8 || v == nil {
		return model.OutboxItem{}, false
	}
	id := beUint64(k[len(k)-8:])
	it, err := decodeItem(id, v)
	if err != nil {
		db.log.Error("storage: corrupt outbox item skipped", "id", id, "err", err)
		return it, false
	}
	return it, true
}

// OutboxStats returns the delivery health of every channel that has items
// (pending, or finished and not yet past retention), by channel name. It
// reads one small record per channel and the channel's oldest pending
// item, never every item.
func (db *DB) OutboxStats() ([]model.OutboxStat, error) {
	var out []model.OutboxStat
	err := db.view(func(tx *bolt.Tx) error {
		ob := tx.Bucket(bOutbox)
		return tx.Bucket(bOutboxStats).ForEach(func(k, _ []byte) error {
			name := string(k)
			rec := db.channelRecord(tx, name)
			st := model.OutboxStat{Channel: name, Pending: int(rec.Pending), LastSuccess: nsTime(rec.LastSuccess),
				LastFailure: nsTime(rec.LastFailure), LastError: rec.LastError, Delivered: rec.Delivered, Failed: rec.Failed}
			if cb := ob.Bucket(k); cb != nil {
				c := cb.Cursor()
				for k, v := c.First(); k != nil; k, v = c.Next() {
					if it, ok := db.item(k, v); ok {
						st.Oldest = it.Created
						break
					}
				}
			}
			out = append(out, st)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("storage: outbox stats: %w", err)
	}
	return out, nil
}

// PendingCount returns how many items wait for delivery, over every
// channel (from the channels' records, without scanning items).
func (db *DB) PendingCount() (int, error) {
	n := 0
	err := db.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bOutboxStats).ForEach(func(k, _ []byte) error {
			n += int(db.channelRecord(tx, string(k)).Pending)
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("storage: outbox pending count: %w", err)
	}
	return n, nil
}

// Deliveries returns up to limit (<= 0: 50) of the items that finished
// most recently (delivered or failed), newest first, across channels.
func (db *DB) Deliveries(limit int) ([]model.OutboxItem, error) {
	if limit <= 0 {
		limit = defaultDeliveries
	}
	var out []model.OutboxItem
	err := db.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bOutboxDone).Cursor()
		for k, v := c.Last(); k != nil && len(out) < limit; k, v = c.Prev() {
			if it, ok := db.item(k, v); ok {
				out = append(out, it)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: deliveries: %w", err)
	}
	return out, nil
}
