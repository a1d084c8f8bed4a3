package storage

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
	bolt "go.etcd.io/bbolt"
)

// chatReq is a chat message of about 500 bytes in room.
func chatReq(i int, room string) request {
	return request{kind: reqChat, chat: model.ChatMessage{Time: base.Add(time.Duration(i) * time.Millisecond), Room: room, Author: "flood",
		Text: fmt.Sprintf("%06d %s", i, strings.Repeat("m", 493))}}
}

// writeChat commits n messages round-robin over rooms, batch per commit,
// and calls after (if not nil) after each commit with the messages so far.
func writeChat(t testing.TB, db *DB, from, n, batch int, rooms []string, after func(written int)) {
	t.Helper()
	for i := from; i < from+n; i += batch {
		var reqs []request
		for j := i; j < min(i+batch, from+n); j++ {
			reqs = append(reqs, chatReq(j, rooms[j%len(rooms)]))
		}
		apply(t, db, reqs...)
		if after != nil {
			after(i + len(reqs))
		}
	}
}

// allChat reads every stored message of every room.
func allChat(t testing.TB, db *DB) []model.ChatMessage {
	t.Helper()
	rooms, err := db.ChatRooms()
	if err != nil {
		t.Fatal(err)
	}
	var out []model.ChatMessage
	for _, r := range rooms {
		ms, err := db.ChatLatest(r, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) == 0 {
			t.Errorf("room %q listed by ChatRooms holds no message", r)
		}
		out = append(out, ms...)
	}
	slices.SortFunc(out, func(a, b model.ChatMessage) int { return int(a.ID) - int(b.ID) })
	return out
}

// scanChatBytes counts the chat bytes the slow way, for comparison with the
// running total.
func scanChatBytes(t testing.TB, db *DB) int64 {
	t.Helper()
	var n int64
	err := db.view(func(tx *bolt.Tx) error {
		chat := tx.Bucket(bChat)
		return chat.ForEach(func(name, v []byte) error {
			if v != nil {
				return nil
			}
			return chat.Bucket(name).ForEach(func(k, v []byte) error {
				n += int64(chatRecordSize(k, v))
				return nil
			})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func chatBytes(t testing.TB, db *DB) int64 {
	t.Helper()
	n, err := db.ChatBytes()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestChatBudget_OldestGoFirst(t *testing.T) {
	tests := []struct {
		name    string
		rooms   int
		batch   int
		budgets int // budgets' worth of messages written
	}{
		{"one room, one message per commit", 1, 1, 2},
		{"1000 rooms, 100 messages per commit", 1000, 100, 3},
		{"7 rooms, 33 messages per commit", 7, 33, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testOptions(newClock(base))
			opts.ChatMaxBytes = minChatMaxBytes
			db, _ := openTest(t, opts)
			rooms := make([]string, tt.rooms)
			for i := range rooms {
				rooms[i] = fmt.Sprintf("room-%d", i)
			}
			budget := opts.ChatMaxBytes
			n := tt.budgets * int(budget) / 500
			writeChat(t, db, 0, n, tt.batch, rooms, func(written int) {
				if got := chatBytes(t, db); got > budget {
					t.Fatalf("after %d messages: %d chat bytes, budget %d", written, got, budget)
				}
			})
			total := chatBytes(t, db)
			if scan := scanChatBytes(t, db); scan != total {
				t.Errorf("running total %d, scan %d", total, scan)
			}
			if total < budget/2 {
				t.Errorf("%d chat bytes left of a %d budget: the trim deletes far too much", total, budget)
			}
			// What is left is exactly the newest messages, across rooms.
			msgs := allChat(t, db)
			if len(msgs) == 0 || len(msgs) >= n {
				t.Fatalf("%d of %d messages kept", len(msgs), n)
			}
			last := msgs[len(msgs)-1]
			if !strings.HasPrefix(last.Text, fmt.Sprintf("%06d ", n-1)) {
				t.Errorf("newest kept message %q, want message %d", last.Text[:7], n-1)
			}
			for i, m := range msgs {
				if want := last.ID - uint64(len(msgs)-1-i); m.ID != want {
					t.Fatalf("kept IDs are not the newest %d: position %d has ID %d, want %d", len(msgs), i, m.ID, want)
				}
			}
		})
	}
}

func TestChatBudget_EmptyRoomsDisappear(t *testing.T) {
	opts := testOptions(newClock(base))
	opts.ChatMaxBytes = 512 << 10
	db, _ := openTest(t, opts)
	writeChat(t, db, 0, 10, 10, []string{"old-a", "old-b"}, nil)
	if rooms, err := db.ChatRooms(); err != nil || strings.Join(rooms, ",") != "old-a,old-b" {
		t.Fatalf("ChatRooms = %v, %v", rooms, err)
	}
	writeChat(t, db, 10, 2*int(opts.ChatMaxBytes)/500, 50, []string{"new"}, nil)
	if rooms, err := db.ChatRooms(); err != nil || strings.Join(rooms, ",") != "new" {
		t.Errorf("ChatRooms after the old rooms' messages were trimmed = %v, %v; want [new]", rooms, err)
	}
	if ms, err := db.ChatLatest("old-a", 10); err != nil || len(ms) != 0 {
		t.Errorf("ChatLatest(old-a) = %d messages, %v", len(ms), err)
	}
}

func TestChatBudget_FileStopsGrowing(t *testing.T) {
	opts := testOptions(newClock(base))
	opts.ChatMaxBytes = 1 << 20
	db, _ := openTest(t, opts)
	rooms := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	per := int(opts.ChatMaxBytes) / 500 // messages per budget's worth
	// Warm-up: twice the budget, so trimming has been going on for a while.
	writeChat(t, db, 0, 2*per, 20, rooms, nil)
	warm := usedSize(t, db)
	peak := warm
	writeChat(t, db, 2*per, 10*per, 20, rooms, func(int) { peak = max(peak, usedSize(t, db)) })
	t.Logf("pages in use: %d bytes after the warm-up, peak %d over 10 budgets' worth more; chat %d bytes", warm, peak, chatBytes(t, db))
	if float64(peak) > 1.3*float64(warm) {
		t.Errorf("the file grew from %d to %d bytes in use although chat stays within its budget", warm, peak)
	}
	if peak > 4*opts.ChatMaxBytes {
		t.Errorf("%d bytes in use for a chat budget of %d", peak, opts.ChatMaxBytes)
	}
}

func TestChatBudget_TotalAcrossReopenAndRetention(t *testing.T) {
	clk := newClock(base)
	opts := testOptions(clk)
	opts.Retention.Chat = time.Hour
	db, path := openTest(t, opts)
	writeChat(t, db, 0, 100, 10, []string{"a", "b"}, nil)
	want := scanChatBytes(t, db)
	if got := chatBytes(t, db); got != want || want == 0 {
		t.Fatalf("ChatBytes = %d, scan %d", got, want)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		edit func(tx *bolt.Tx) error // what an older dashd left behind
	}{
		{"kept", func(*bolt.Tx) error { return nil }},
		{"no total (a file from before the budget)", func(tx *bolt.Tx) error { return tx.Bucket(bMeta).Delete(kChatUsage) }},
		{"an older dashd added a message", func(tx *bolt.Tx) error {
			chat := tx.Bucket(bChat)
			id, err := chat.NextSequence()
			if err != nil {
				return err
			}
			return chat.Bucket([]byte("a")).Put(u64Key(id), encodeChat(model.ChatMessage{Time: base, Author: "x", Text: "older"}))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rawBolt(t, path, tt.edit)
			db2, err := Open(path, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer db2.Close()
			if got, scan := chatBytes(t, db2), scanChatBytes(t, db2); got != scan {
				t.Errorf("ChatBytes after reopen = %d, scan %d", got, scan)
			}
		})
	}

	// Retention deletes by age and takes it off the total; empty rooms go.
	db3, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db3.Close()
	clk.Set(base.Add(2 * time.Hour))
	if err := db3.RunRetention(); err != nil {
		t.Fatal(err)
	}
	if got := chatBytes(t, db3); got != 0 {
		t.Errorf("ChatBytes after retention removed every message = %d", got)
	}
	if rooms, err := db3.ChatRooms(); err != nil || len(rooms) != 0 {
		t.Errorf("ChatRooms after retention = %v, %v", rooms, err)
	}
}

func TestChatBudget_Defaults(t *testing.T) {
	tests := []struct {
		in, want int64
	}{{0, defaultChatMaxBytes}, {-5, defaultChatMaxBytes}, {1, minChatMaxBytes}, {64 << 20, 64 << 20}}
	for _, tt := range tests {
		if got := (Options{ChatMaxBytes: tt.in}).withDefaults().ChatMaxBytes; got != tt.want {
			t.Errorf("ChatMaxBytes %d -> %d, want %d", tt.in, got, tt.want)
		}
	}
}

// BenchmarkChatOverBudget measures a chat message committed on its own
// (two fsyncs) while the budget trims: the trim's walk over 100 rooms is
// paid once per chatTrimBatch or 1/16 of the budget.
func BenchmarkChatOverBudget(b *testing.B) {
	opts := testOptions(newClock(base))
	opts.ChatMaxBytes = 1 << 20
	db, _ := openTest(b, opts)
	rooms := make([]string, 100)
	for i := range rooms {
		rooms[i] = fmt.Sprintf("room-%d", i)
	}
	writeChat(b, db, 0, 3*int(opts.ChatMaxBytes)/500, 50, rooms, nil)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		apply(b, db, chatReq(i, rooms[i%len(rooms)]))
	}
}
