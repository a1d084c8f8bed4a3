package storage

import (
	"bytes"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// retentionBudget bounds the deletions of one retention transaction so
// ingest never waits long for the bbolt writer lock.
const retentionBudget = 5000

// RunRetention runs a full retention pass now, in bounded transactions, and
// returns when nothing old is left. It must not be called while Run runs
// (Run schedules its own passes); tools and tests use it.
func (db *DB) RunRetention() error {
	for {
		more, err := db.retentionStep(retentionBudget)
		if err != nil || !more {
			return err
		}
	}
}

// retentionStep deletes at most budget old records in one transaction and
// reports whether more are left. Only the writer goroutine calls it (it
// forgets dead series in the writer's state).
func (db *DB) retentionStep(budget int) (more bool, err error) {
	now := db.now().UnixMilli()
	ret := db.opts.Retention
	cut := func(d time.Duration) int64 { return now - d.Milliseconds() }
	left := budget
	err = db.update(func(tx *bolt.Tx) error {
		type step func() (bool, error)
		steps := []step{
			func() (bool, error) { return deleteChunks(tx.Bucket(bRaw), rawChunkMs, cut(ret.Raw), &left) },
			func() (bool, error) {
				return deleteChunks(tx.Bucket(bMinute), tierMinute.chunkMs, cut(ret.Minute), &left)
			},
			func() (bool, error) { return deleteChunks(tx.Bucket(bHour), tierHour.chunkMs, cut(ret.Hour), &left) },
			func() (bool, error) {
				return eachSub(tx.Bucket(bResults), func(b *bolt.Bucket) (bool, error) {
					return deleteChunks(b, resultsChunkMs, cut(ret.Results), &left)
				})
			},
			func() (bool, error) {
				return eachSub(tx.Bucket(bUptime), func(ub *bolt.Bucket) (bool, error) {
					m1, err := deleteChunks(ub.Bucket(bUptimeHourly), hourMs, cut(ret.Results), &left)
					if err != nil || m1 {
						return m1, err
					}
					return deleteChunks(ub.Bucket(bUptimeDaily), dayMs, cut(ret.Hour), &left)
				})
			},
			func() (bool, error) { return deleteRecords(tx.Bucket(bEvents), cut(ret.Events), &left) },
			func() (bool, error) {
				return deleteRecords(tx.Bucket(bNotifications), cut(ret.Notifications), &left)
			},
			func() (bool, error) { return deleteReads(tx.Bucket(bReads), cut(ret.Notifications), &left) },
			// Finished outbox items, ended silences and idle channels follow
			// events; pending items never go by age (the alerter gives them
			// up through MarkOutbox).
			func() (bool, error) {
				cutoff := cut(ret.Events)
				return deleteWhile(tx.Bucket(bOutboxDone), &left, func(k, _ []byte) bool {
					return len(k) == 16 && getTime(k) < cutoff
				}, nil)
			},
			func() (bool, error) { return deleteOldSilences(tx.Bucket(bSilences), cut(ret.Events), &left) },
			func() (bool, error) { return deleteIdleChannels(tx, cut(ret.Events), &left) },
			func() (bool, error) { return deleteExpiredSessions(tx.Bucket(bSessions), now, &left) },
			// Resolved incidents follow events; open ones never go.
			func() (bool, error) { return deleteOldIncidents(tx, cut(ret.Events), &left) },
			func() (bool, error) { return deleteOldChat(tx, cut(ret.Chat), &left) },
			func() (bool, error) {
				longest := max(ret.Raw, ret.Minute, ret.Hour)
				return db.w.forgetSeries(tx, cut(longest), &left)
			},
		}
		for _, s := range steps {
			m, err := s()
			if err != nil {
				return err
			}
			if m {
				more = true
				return nil
			}
		}
		return nil
	})
	if err != nil {
		// forgetSeries may have edited the writer's map inside the failed
		// transaction: reload it from the file.
		if lerr := db.view(db.w.load); lerr != nil {
			db.log.Error("storage: reload series heads", "err", lerr)
		}
		return false, fmt.Errorf("storage: retention: %w", err)
	}
	if n := budget - left; n > 0 {
		db.log.Debug("storage: retention step", "deleted", n, "more", more)
	}
	return more, nil
}

// deleteChunks deletes, from the start of b, the chunks (keys beginning with
// an 8-byte window start) whose window of width ends at or before cutoff: a
// chunk goes only when every point it can hold is older than the cutoff.
func deleteChunks(b *bolt.Bucket, width, cutoff int64, left *int) (bool, error) {
	if b == nil {
		return false, nil
	}
	return deleteWhile(b, left, func(k, _ []byte) bool {
		return len(k) >= 8 && getTime(k)+width <= cutoff
	}, nil)
}

// deleteRecords deletes, from the start of b (keyed by ascending IDs),
// records whose leading nanosecond time is before cutoff (milliseconds).
func deleteRecords(b *bolt.Bucket, cutoff int64, left *int) (bool, error) {
	return deleteWhile(b, left, oldRecord(cutoff), nil)
}

// oldRecord says whether a record (event, notification, chat message) is
// older than cutoff (ms) by its leading nanosecond time.
func oldRecord(cutoff int64) func(k, v []byte) bool {
	return func(_, v []byte) bool {
		t, ok := recordTime(v)
		return ok && t/int64(time.Millisecond) < cutoff
	}
}

// deleteWhile deletes keys from the start of b while old says so, calling
// deleted (if not nil) with each key and value just before it goes.
func deleteWhile(b *bolt.Bucket, left *int, old func(k, v []byte) bool, deleted func(k, v []byte)) (bool, error) {
	c := b.Cursor()
	for k, v := c.First(); k != nil; {
		if v == nil || !old(k, v) { // nil value: a nested bucket, never ours to drop here
			return false, nil
		}
		if *left <= 0 {
			return true, nil
		}
		if deleted != nil {
			deleted(k, v)
		}
		k = bytes.Clone(k)
		if err := c.Delete(); err != nil {
			return false, err
		}
		*left--
		// Not c.Next(): after a Delete on a page modified earlier in the
		// transaction, Next skips every other key (bbolt bug). Seek to the
		// deleted key lands on its successor.
		k, v = c.Seek(k)
	}
	return false, nil
}

// deleteReads drops the read marks of sessions not seen since cutoff.
func deleteReads(b *bolt.Bucket, cutoff int64, left *int) (bool, error) {
	var stale [][]byte
	err := b.ForEach(func(k, v []byte) error {
		if len(v) == 16 && int64(beUint64(v[8:]))/int64(time.Millisecond) < cutoff {
			stale = append(stale, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	for _, k := range stale {
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

// eachSub runs fn on every nested bucket of parent and deletes the nested
// buckets fn left empty (a check or room that no longer exists).
func eachSub(parent *bolt.Bucket, fn func(*bolt.Bucket) (bool, error)) (bool, error) {
	var names, empty [][]byte
	if err := parent.ForEach(func(k, v []byte) error {
		if v == nil {
			names = append(names, bytes.Clone(k))
		}
		return nil
	}); err != nil {
		return false, err
	}
	for _, name := range names {
		b := parent.Bucket(name)
		more, err := fn(b)
		if err != nil {
			return false, fmt.Errorf("%s: %w", name, err)
		}
		if more {
			return true, nil
		}
		if isEmpty(b) {
			empty = append(empty, name)
		}
	}
	for _, name := range empty {
		if err := parent.DeleteBucket(name); err != nil {
			return false, err
		}
	}
	return false, nil
}

// isEmpty reports whether b has no keys, counting nested buckets as empty
// when they are empty themselves.
func isEmpty(b *bolt.Bucket) bool {
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if v != nil {
			return false
		}
		if sub := b.Bucket(k); sub != nil && !isEmpty(sub) {
			return false
		}
	}
	return true
}

// forgetSeries removes series whose newest point is older than every tier's
// retention: their data is gone, so their name and head go too.
func (w *writer) forgetSeries(tx *bolt.Tx, cutoff int64, left *int) (bool, error) {
	reg, heads := tx.Bucket(bSeries), tx.Bucket(bHeads)
	for name, st := range w.series {
		if st.head.lastT == noTime || st.head.lastT >= cutoff || st.unfolded {
			continue // unfolded: the log still refers to it; it goes after the fold
		}
		if *left <= 0 {
			return true, nil
		}
		if err := reg.Delete([]byte(name)); err != nil {
			return false, err
		}
		if err := heads.Delete(u32Key(st.id)); err != nil {
			return false, err
		}
		delete(w.series, name)
		delete(w.byID, st.id)
		*left--
	}
	return false, nil
}
