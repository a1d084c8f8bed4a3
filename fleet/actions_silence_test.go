package fleet

import (
	"encoding/binary"
	"fmt"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/storage"
)

// corruptSilence makes the data file at path hold an undecodable silence
// record with id.
func corruptSilence(t *testing.T, path string, id uint64) {
	t.Helper()
	db, err := storage.Open(path, storage.Options{}) // creates the buckets
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	key := binary.BigEndian.AppendUint64(nil, id)
	if err := raw.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("silences"))
		if b == nil {
			return fmt.Errorf("no silences bucket")
		}
		return b.Put(key, []byte("not a silence"))
	}); err != nil {
		t.Fatal(err)
	}
}

// TestActions_CorruptSilenceDoesNotBlock: another hub expires hub b's
// own silence, whose record on b is corrupt: the expiry is refused (with
// a warning) instead of being retried for ever, and the chat message
// after it is stored.
func TestActions_CorruptSilenceDoesNotBlock(t *testing.T) {
	_, b, emb := twoSharedHubsWith(t, func(path string) { corruptSilence(t, path, 1) })
	js := testJetStream(t, emb)
	exp, err := SilenceExpireAction("c", model.Silence{ID: 1, Origin: "b", OriginID: 1}, "carol", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	publishAs(t, js, exp, exp.ID)
	chat, _ := ChatAction("c", model.ChatMessage{ID: 1, Room: "ops", Author: "carol", Text: "after the expiry", Time: time.Now()})
	publishAs(t, js, chat, chat.ID)
	eventually(t, 20*time.Second, "the chat after the expiry on b", func() (bool, string) {
		return slices.Contains(chatTexts(t, b.store, "ops"), "after the expiry"), fmt.Sprintf("%+v", b.acts.Stats())
	})
	if st := b.acts.Stats(); st.Refused != 1 {
		t.Errorf("hub b: %+v, want the expiry of the corrupt silence refused", st)
	}
}
