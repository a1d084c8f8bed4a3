package storage

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func testSession(key, user string, created time.Time) Session {
	return Session{Key: key, User: user, Role: "operator", Method: "password", Groups: []string{"ops", "dev"},
		Created: created, LastSeen: created, Expires: created.Add(12 * time.Hour), Addr: "192.0.2.7", UserAgent: "Firefox"}
}

func sessionKeys(ss []Session) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Key)
	}
	return out
}

func TestSessions_PutGetListDelete(t *testing.T) {
	db, _ := openTest(t, testOptions(newClock(base)))
	runWriter(t, db)
	ctx := ctxT(t)

	a1 := testSession("k-a1", "alice", base)
	a2 := testSession("k-a2", "alice", base.Add(time.Minute))
	b1 := testSession("k-b1", "bob", base.Add(2*time.Minute))
	for _, s := range []Session{a1, a2, b1} {
		if err := db.PutSession(ctx, s); err != nil {
			t.Fatalf("PutSession(%s): %v", s.Key, err)
		}
	}

	got, ok, err := db.GetSession("k-a1")
	if err != nil || !ok {
		t.Fatalf("GetSession = %v, %v", ok, err)
	}
	if !got.Created.Equal(a1.Created) || !got.Expires.Equal(a1.Expires) || got.User != "alice" || got.Role != "operator" ||
		got.Method != "password" || !slices.Equal(got.Groups, a1.Groups) || got.Addr != a1.Addr || got.UserAgent != a1.UserAgent {
		t.Fatalf("GetSession = %+v, want %+v", got, a1)
	}
	if _, ok, err := db.GetSession("k-none"); ok || err != nil {
		t.Fatalf("GetSession(unknown) = %v, %v", ok, err)
	}

	tests := []struct {
		user string
		want []string
	}{
		{"", []string{"k-b1", "k-a2", "k-a1"}},
		{"alice", []string{"k-a2", "k-a1"}},
		{"bob", []string{"k-b1"}},
		{"carol", nil},
	}
	for _, tt := range tests {
		ss, err := db.Sessions(tt.user)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(sessionKeys(ss), tt.want) {
			t.Errorf("Sessions(%q) = %v, want %v (newest first)", tt.user, sessionKeys(ss), tt.want)
		}
	}

	n, err := db.DeleteSessions(ctx, "k-a1", "k-b1", "k-none")
	if err != nil || n != 2 {
		t.Fatalf("DeleteSessions = %d, %v; want 2 (the unknown key skipped)", n, err)
	}
	if ss, _ := db.Sessions(""); !slices.Equal(sessionKeys(ss), []string{"k-a2"}) {
		t.Fatalf("after delete: %v", sessionKeys(ss))
	}
}

func TestSessions_UpdateNeverResurrects(t *testing.T) {
	db, _ := openTest(t, testOptions(newClock(base)))
	runWriter(t, db)
	ctx := ctxT(t)

	if err := db.PutSession(ctx, testSession("k1", "alice", base)); err != nil {
		t.Fatal(err)
	}
	if err := db.PutSession(ctx, testSession("k2", "alice", base)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DeleteSessions(ctx, "k2"); err != nil {
		t.Fatal(err)
	}
	seen := base.Add(10 * time.Minute)
	err := db.UpdateSessions(ctx, []SessionUpdate{
		{Key: "k1", LastSeen: seen, Expires: seen.Add(12 * time.Hour), Role: "viewer"},
		{Key: "k2", LastSeen: seen, Expires: seen.Add(12 * time.Hour)},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, ok, _ := db.GetSession("k1")
	if !ok || !got.LastSeen.Equal(seen) || !got.Expires.Equal(seen.Add(12*time.Hour)) || got.Role != "viewer" || !got.Created.Equal(base) {
		t.Fatalf("updated session = %+v", got)
	}
	// Zero fields keep their values.
	if err := db.UpdateSessions(ctx, []SessionUpdate{{Key: "k1", Role: "admin"}}); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := db.GetSession("k1"); got.Role != "admin" || !got.LastSeen.Equal(seen) {
		t.Fatalf("partial update = %+v", got)
	}
	if _, ok, _ := db.GetSession("k2"); ok {
		t.Fatal("an update recreated a deleted session")
	}
}

func TestSessions_SurviveReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dashd.db")
	db, err := Open(path, testOptions(newClock(base)))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { done <- db.Run(ctx) }()
	if err := db.PutSession(ctxT(t), testSession("k1", "alice", base)); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = Open(path, testOptions(newClock(base)))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, ok, err := db.GetSession("k1")
	if err != nil || !ok || got.User != "alice" {
		t.Fatalf("after reopen: %+v, %v, %v", got, ok, err)
	}
}

func TestSessions_Invalid(t *testing.T) {
	db, _ := openTest(t, testOptions(newClock(base)))
	runWriter(t, db)
	ctx := ctxT(t)
	ok := testSession("k", "alice", base)
	tests := []struct {
		name string
		edit func(*Session)
	}{
		{"no key", func(s *Session) { s.Key = "" }},
		{"long key", func(s *Session) { s.Key = strings.Repeat("k", maxSessionKey+1) }},
		{"no user", func(s *Session) { s.User = "" }},
		{"long user", func(s *Session) { s.User = strings.Repeat("u", maxNameLen+1) }},
		{"long role", func(s *Session) { s.Role = strings.Repeat("r", maxSessionWord+1) }},
		{"too many groups", func(s *Session) { s.Groups = make([]string, maxSessionGroups+1) }},
		{"too big", func(s *Session) { s.UserAgent = strings.Repeat("x", maxSessionBytes) }},
		{"no expiry", func(s *Session) { s.Expires = time.Time{} }},
		{"time out of range", func(s *Session) { s.Created = time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ok
			s.Groups = slices.Clone(ok.Groups)
			tt.edit(&s)
			if err := db.PutSession(ctx, s); !errors.Is(err, ErrInvalid) {
				t.Fatalf("PutSession = %v, want ErrInvalid", err)
			}
		})
	}
	if _, err := db.DeleteSessions(ctx, ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("DeleteSessions(\"\") = %v", err)
	}
	if err := db.UpdateSessions(ctx, []SessionUpdate{{Key: ""}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("UpdateSessions(no key) = %v", err)
	}
	if ss, _ := db.Sessions(""); len(ss) != 0 {
		t.Fatalf("invalid sessions stored: %v", sessionKeys(ss))
	}
}

func TestSessions_Retention(t *testing.T) {
	clk := newClock(base)
	db, _ := openTest(t, testOptions(clk))
	runWriter(t, db)
	ctx := ctxT(t)

	tests := []struct {
		key     string
		expires time.Duration // from base
		kept    bool          // at base + 10h
	}{
		{"long-gone", time.Hour, false},
		{"just-beyond-grace", 10*time.Hour - sessionGrace - time.Millisecond, false},
		{"within-grace", 10*time.Hour - sessionGrace/2, true},
		{"live", 12 * time.Hour, true},
	}
	for _, tt := range tests {
		s := testSession(tt.key, "alice", base)
		s.Expires = base.Add(tt.expires)
		if err := db.PutSession(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	// A record that cannot be decoded goes too.
	if err := db.update(func(tx *bolt.Tx) error { return tx.Bucket(bSessions).Put([]byte("garbage"), []byte("{")) }); err != nil {
		t.Fatal(err)
	}
	clk.Set(base.Add(10 * time.Hour))
	more, err := db.retentionStep(retentionBudget)
	if err != nil || more {
		t.Fatalf("retentionStep = %v, %v", more, err)
	}
	var want []string
	for _, tt := range tests {
		if tt.kept {
			want = append(want, tt.key)
		}
	}
	got, _ := db.Sessions("")
	gotKeys := sessionKeys(got)
	slices.Sort(gotKeys)
	slices.Sort(want)
	if !slices.Equal(gotKeys, want) {
		t.Fatalf("after retention: %v, want %v", gotKeys, want)
	}
	var raw int
	_ = db.view(func(tx *bolt.Tx) error { raw = tx.Bucket(bSessions).Stats().KeyN; return nil })
	if raw != len(want) {
		t.Fatalf("%d keys in the bucket, want %d (the undecodable record deleted)", raw, len(want))
	}
}

func TestSessions_BatchBound(t *testing.T) {
	db, _ := openTest(t, testOptions(newClock(base)))
	runWriter(t, db)
	keys := make([]string, maxSessionBatch+1)
	for i := range keys {
		keys[i] = fmt.Sprint("k", i)
	}
	if _, err := db.DeleteSessions(ctxT(t), keys...); !errors.Is(err, ErrInvalid) {
		t.Fatalf("DeleteSessions over the bound = %v", err)
	}
}
