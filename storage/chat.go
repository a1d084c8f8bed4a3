package storage

import (
	"bytes"
	"container/heap"
	"fmt"

	"github.com/dashd/dashd/model"
	bolt "go.etcd.io/bbolt"
)

// Chat budget (see the package doc, # Chat budget).
const (
	// defaultChatMaxBytes is Options.ChatMaxBytes when it is zero: about
	// 60,000 messages of 500 characters.
	defaultChatMaxBytes = 32 << 20

	// minChatMaxBytes is the smallest budget: four of the largest
	// messages, so the newest message always fits.
	minChatMaxBytes = 4 * (maxTextLen + 2*maxNameLen)

	// chatTrimBatch bounds the deletions a trim makes beyond what the
	// budget strictly requires (it goes on down to 15/16 of the budget),
	// so the walk over the rooms that finds the oldest message is paid
	// once per many messages, and a transaction stays short.
	chatTrimBatch = 2048
)

// kChatUsage is the meta record holding the chat total: 8 bytes of the
// bytes counted against the budget, then 8 bytes of the chat bucket's
// sequence when the total was written (see syncChatUsage).
var kChatUsage = []byte("chat_bytes")

// chatRecordSize is what one stored message counts against the budget: its
// key and its encoded value (time, author, text).
func chatRecordSize(k, v []byte) uint64 { return uint64(len(k) + len(v)) }

// chatUsage reads the stored chat total (0 when the record is missing).
func chatUsage(tx *bolt.Tx) (total, seq uint64, ok bool) {
	v := tx.Bucket(bMeta).Get(kChatUsage)
	if len(v) != 16 {
		return 0, 0, false
	}
	return beUint64(v), beUint64(v[8:]), true
}

// putChatUsage stores total together with the chat sequence it is valid for.
func putChatUsage(tx *bolt.Tx, total uint64) error {
	v := make([]byte, 16)
	putBEUint64(v, total)
	putBEUint64(v[8:], tx.Bucket(bChat).Sequence())
	return tx.Bucket(bMeta).Put(kChatUsage, v)
}

// syncChatUsage runs at Open: a file without the chat total (written before
// the budget existed) or whose chat sequence moved since the total was
// written (an older dashd added messages) is counted once by a full scan.
// Deletions an older dashd made leave the total too high, which only makes
// the budget trim earlier than needed, never too late.
func syncChatUsage(tx *bolt.Tx) error {
	chat := tx.Bucket(bChat)
	if _, seq, ok := chatUsage(tx); ok && seq == chat.Sequence() {
		return nil
	}
	var total uint64
	err := chat.ForEach(func(name, v []byte) error {
		if v != nil {
			return nil
		}
		return chat.Bucket(name).ForEach(func(k, v []byte) error {
			total += chatRecordSize(k, v)
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("count chat: %w", err)
	}
	return putChatUsage(tx, total)
}

// applyChat stores m in its room (created on first use) and keeps the chat
// total under the budget by trimming the oldest messages in the same
// transaction.
func (w *writer) applyChat(tx *bolt.Tx, m model.ChatMessage) (uint64, error) {
	chat := tx.Bucket(bChat)
	id, err := chat.NextSequence()
	if err != nil {
		return 0, err
	}
	room, err := chat.CreateBucketIfNotExists([]byte(m.Room))
	if err != nil {
		return 0, err
	}
	room.FillPercent = 1
	k, v := u64Key(id), encodeChat(m)
	if err := room.Put(k, v); err != nil {
		return 0, err
	}
	total, _, _ := chatUsage(tx)
	total += chatRecordSize(k, v)
	if budget := uint64(w.db.opts.ChatMaxBytes); total > budget {
		if total, err = trimChat(chat, total, budget, id); err != nil {
			return 0, fmt.Errorf("chat budget: %w", err)
		}
	}
	return id, putChatUsage(tx, total)
}

// roomCursor is the oldest remaining message of one room during a trim.
type roomCursor struct {
	name []byte
	c    *bolt.Cursor
	id   uint64
	size uint64
}

// roomHeap orders rooms by their oldest message: chat IDs come from one
// sequence shared by every room, so the lowest ID is the oldest message.
type roomHeap []*roomCursor

func (h roomHeap) Len() int           { return len(h) }
func (h roomHeap) Less(i, j int) bool { return h[i].id < h[j].id }
func (h roomHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *roomHeap) Push(x any)        { *h = append(*h, x.(*roomCursor)) }
func (h *roomHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return x
}

// trimChat deletes the oldest messages across all rooms until total is at
// most budget, then goes on down to budget - budget/16 deleting at most
// chatTrimBatch more. It never deletes keep (the message just written, the
// newest) and deletes the rooms it empties. It returns the new total.
func trimChat(chat *bolt.Bucket, total, budget, keep uint64) (uint64, error) {
	low := budget - budget/16
	var h roomHeap
	err := chat.ForEach(func(name, v []byte) error {
		if v != nil {
			return nil
		}
		c := chat.Bucket(name).Cursor()
		if k, v := c.First(); len(k) == 8 {
			h = append(h, &roomCursor{name: bytes.Clone(name), c: c, id: beUint64(k), size: chatRecordSize(k, v)})
		}
		return nil
	})
	if err != nil {
		return total, err
	}
	heap.Init(&h)
	var emptied [][]byte
	extra := 0
	for h.Len() > 0 && (total > budget || (total > low && extra < chatTrimBatch)) {
		rc := h[0]
		if rc.id == keep {
			break // everything older is gone already
		}
		if total <= budget {
			extra++
		}
		k := u64Key(rc.id)
		if err := rc.c.Delete(); err != nil {
			return total, err
		}
		total -= min(total, rc.size)
		// Not Next: after a Delete, Next can skip a key (bbolt bug, see
		// deleteWhile). Seeking the deleted key lands on its successor.
		if nk, nv := rc.c.Seek(k); len(nk) == 8 {
			rc.id, rc.size = beUint64(nk), chatRecordSize(nk, nv)
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
			emptied = append(emptied, rc.name)
		}
	}
	for _, name := range emptied {
		if err := chat.DeleteBucket(name); err != nil {
			return total, fmt.Errorf("delete empty room %q: %w", trunc(string(name)), err)
		}
	}
	return total, nil
}

// deleteOldChat is the chat step of a retention pass: it deletes messages
// older than cutoff (ms) from every room, deletes the rooms it empties, and
// takes what it deleted off the chat total.
func deleteOldChat(tx *bolt.Tx, cutoff int64, left *int) (bool, error) {
	var freed uint64
	more, err := eachSub(tx.Bucket(bChat), func(b *bolt.Bucket) (bool, error) {
		return deleteWhile(b, left, oldRecord(cutoff), func(k, v []byte) { freed += chatRecordSize(k, v) })
	})
	if err != nil || freed == 0 {
		return more, err
	}
	total, _, _ := chatUsage(tx)
	return more, putChatUsage(tx, total-min(total, freed))
}

// ChatRooms returns the names of the rooms that hold messages, sorted
// bytewise. A room exists in storage exactly while it holds a message: the
// chat budget and retention delete the rooms they empty. The server uses
// it to bound the number of rooms.
func (db *DB) ChatRooms() ([]string, error) {
	var out []string
	err := db.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bChat).ForEach(func(name, v []byte) error {
			if v == nil {
				out = append(out, string(name))
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("storage: chat rooms: %w", err)
	}
	return out, nil
}

// ChatBytes returns the bytes of chat stored, as counted against
// Options.ChatMaxBytes (keys and encoded messages; the pages holding them
// take somewhat more of the file), for metrics and the budget's display.
func (db *DB) ChatBytes() (int64, error) {
	var total uint64
	err := db.view(func(tx *bolt.Tx) error {
		total, _, _ = chatUsage(tx)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("storage: chat bytes: %w", err)
	}
	return int64(total), nil
}
