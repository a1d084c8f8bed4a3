package auth

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/storage"
)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// ended collects the keys Watch reports.
type ended struct {
	mu   sync.Mutex
	keys []string
}

func (e *ended) add(k string) {
	e.mu.Lock()
	e.keys = append(e.keys, k)
	e.mu.Unlock()
}

func (e *ended) get() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.keys)
}

func newSessions(t testing.TB, db *storage.DB, clk *clock, opts SessionOptions) (*Sessions, *ended) {
	t.Helper()
	opts.Clock = clk.Now
	opts.Logger = quiet()
	if opts.Limits.Idle == 0 {
		opts.Limits = limits(time.Hour, 3*time.Hour)
	}
	s := NewSessions(db, opts)
	e := &ended{}
	stop := s.Watch(e.add)
	t.Cleanup(stop)
	return s, e
}

var alice = Principal{Name: "alice", Role: config.RoleOperator, Via: ViaPassword}

func TestSessions_CreateLookup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dashd.db")
	db := openDB(t, path, nil)
	clk := &clock{t: t0}
	s, _ := newSessions(t, db, clk, SessionOptions{})
	ctx := ctxT(t)

	id, sess, err := s.Create(ctx, Principal{Name: "alice", Role: config.RoleOperator, Via: ViaOIDC, Groups: []string{"ops"}},
		"192.0.2.1", "Mozilla/5.0\n(X11)"+strings.Repeat("x", 1000))
	if err != nil {
		t.Fatal(err)
	}
	if !validID(id) || sess.Key != SessionKey(id) || sess.Key == id {
		t.Fatalf("Create = %q, key %q", id, sess.Key)
	}
	if len(sess.UserAgent) > maxUserAgent || strings.Contains(sess.UserAgent, "\n") {
		t.Fatalf("user agent kept as %q", sess.UserAgent)
	}
	got, ok := s.Lookup(ctx, id, t0.Add(time.Minute))
	want := Principal{Name: "alice", Role: config.RoleOperator, Via: ViaSession, Session: sess.Key, Groups: []string{"ops"}}
	if !ok || got.Principal.Name != want.Name || got.Principal.Role != want.Role || got.Principal.Via != want.Via ||
		got.Principal.Session != want.Session || !slices.Equal(got.Principal.Groups, want.Groups) || got.Method != ViaOIDC ||
		got.Addr != "192.0.2.1" || !got.Created.Equal(t0) || !got.Expires.Equal(t0.Add(time.Minute+time.Hour)) {
		t.Fatalf("Lookup = %+v, %v", got, ok)
	}

	// Ids that are not session ids, or no longer are, find nothing.
	for _, bad := range []string{"", "short", id[:42] + "!", strings.Repeat("A", 43), id + "A", sess.Key} {
		if _, ok := s.Lookup(ctx, bad, t0); ok {
			t.Errorf("Lookup(%q) found a session", bad)
		}
	}

	// The database holds the hash of the id, never the id.
	if err := db.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(id)) {
		t.Fatal("the session id (the cookie) is in the database file")
	}
	if !bytes.Contains(raw, []byte(sess.Key)) {
		t.Fatal("the session key is not in the database file: the check above proves nothing")
	}
}

func TestSessions_Expiry(t *testing.T) {
	// idle 1h, absolute 3h; uses at the given offsets from the sign-in,
	// each expected to find the session or not.
	type use struct {
		at   time.Duration
		live bool
	}
	tests := []struct {
		name string
		uses []use
	}{
		{"idle limit", []use{{59 * time.Minute, true}, {2*time.Hour + time.Minute, false}}},
		{"unused past idle", []use{{time.Hour, false}}},
		{"use extends idle", []use{{50 * time.Minute, true}, {100 * time.Minute, true}, {150 * time.Minute, true}}},
		{"absolute limit despite use", []use{{50 * time.Minute, true}, {100 * time.Minute, true}, {150 * time.Minute, true}, {3 * time.Hour, false}}},
		// Last use is recorded to within TouchEvery (1 min).
		{"a use within a minute of the last is not recorded", []use{{30 * time.Second, true}, {time.Hour, false}}},
		{"a use a minute after the last is", []use{{time.Minute, true}, {time.Hour + 59*time.Second, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openDB(t, "", nil)
			clk := &clock{t: t0}
			s, e := newSessions(t, db, clk, SessionOptions{})
			ctx := ctxT(t)
			id, sess, err := s.Create(ctx, alice, "192.0.2.1", "ua")
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range tt.uses {
				if _, ok := s.Lookup(ctx, id, t0.Add(u.at)); ok != u.live {
					t.Fatalf("Lookup at +%s = %v, want %v", u.at, ok, u.live)
				}
			}
			last := tt.uses[len(tt.uses)-1]
			if !last.live {
				if got := e.get(); !slices.Equal(got, []string{sess.Key}) {
					t.Fatalf("Watch saw %v, want the expired session", got)
				}
				if _, ok, _ := db.GetSession(sess.Key); ok {
					t.Fatal("the expired session is still stored")
				}
			}
		})
	}
}

// waitFor polls cond for up to 30 s (a noisy machine).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// runSessions runs s.Run until cleanup.
func runSessions(t *testing.T, s *Sessions) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

func TestSessions_LastSeenBatched(t *testing.T) {
	db := openDB(t, "", nil)
	clk := &clock{t: t0}
	s, _ := newSessions(t, db, clk, SessionOptions{SweepInterval: time.Hour})
	ctx := ctxT(t)
	id, sess, err := s.Create(ctx, alice, "", "")
	if err != nil {
		t.Fatal(err)
	}
	// Many requests: none writes.
	for i := range 50 {
		if _, ok := s.Lookup(ctx, id, t0.Add(2*time.Minute+time.Duration(i)*time.Second)); !ok {
			t.Fatal("session lost")
		}
	}
	stored, _, _ := db.GetSession(sess.Key)
	if !stored.LastSeen.Equal(t0) {
		t.Fatalf("a request wrote last seen %s", stored.LastSeen)
	}
	// Run writes the one recorded use (the first past the minute) at once.
	runSessions(t, s)
	waitFor(t, "last seen written", func() bool {
		st, _, _ := db.GetSession(sess.Key)
		return st.LastSeen.Equal(t0.Add(2 * time.Minute))
	})
	st, _, _ := db.GetSession(sess.Key)
	if !st.Expires.Equal(t0.Add(2*time.Minute + time.Hour)) {
		t.Fatalf("stored Expires = %s, want last seen + idle", st.Expires)
	}
}

func TestSessions_RunEndsExpired(t *testing.T) {
	db := openDB(t, "", nil)
	clk := &clock{t: t0}
	s, e := newSessions(t, db, clk, SessionOptions{SweepInterval: 10 * time.Millisecond})
	ctx := ctxT(t)
	_, old, err := s.Create(ctx, alice, "", "")
	if err != nil {
		t.Fatal(err)
	}
	clk.Set(t0.Add(30 * time.Minute))
	_, young, err := s.Create(ctx, alice, "", "")
	if err != nil {
		t.Fatal(err)
	}
	clk.Set(t0.Add(time.Hour)) // old is idle for an hour; young for 30 min
	runSessions(t, s)
	waitFor(t, "the sweep", func() bool { return len(e.get()) > 0 })
	if got := e.get(); !slices.Equal(got, []string{old.Key}) {
		t.Fatalf("Watch saw %v, want only %s", got, old.Key)
	}
	list, err := s.List("alice")
	if err != nil || len(list) != 1 || list[0].Key != young.Key {
		t.Fatalf("List = %v, %v", list, err)
	}
}

func TestSessions_SurviveRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dashd.db")
	clk := &clock{t: t0}
	var id string
	t.Run("first run", func(t *testing.T) {
		db := openDB(t, path, nil)
		s, _ := newSessions(t, db, clk, SessionOptions{})
		var err error
		if id, _, err = s.Create(ctxT(t), alice, "", ""); err != nil {
			t.Fatal(err)
		}
	})
	db := openDB(t, path, nil)
	s, _ := newSessions(t, db, clk, SessionOptions{})
	if got, ok := s.Lookup(ctxT(t), id, t0.Add(time.Minute)); !ok || got.Principal.Name != "alice" {
		t.Fatalf("after a restart: %+v, %v", got, ok)
	}
}

func TestSessions_LogoutAndSignOutEverywhere(t *testing.T) {
	db := openDB(t, "", nil)
	clk := &clock{t: t0}
	s, e := newSessions(t, db, clk, SessionOptions{})
	ctx := ctxT(t)
	a1, s1, _ := s.Create(ctx, alice, "", "")
	a2, s2, _ := s.Create(ctx, alice, "", "")
	a3, s3, _ := s.Create(ctx, alice, "", "")
	b1, _, _ := s.Create(ctx, Principal{Name: "bob", Role: config.RoleViewer, Via: ViaPassword}, "", "")

	if err := s.Delete(ctx, a1); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Lookup(ctx, a1, t0); ok {
		t.Fatal("logged out session still found")
	}
	if _, ok := s.Lookup(ctx, a2, t0); !ok {
		t.Fatal("logout ended another session")
	}
	n, err := s.DeleteUser(ctx, "alice")
	if err != nil || n != 2 {
		t.Fatalf("DeleteUser = %d, %v; want 2", n, err)
	}
	for _, id := range []string{a2, a3} {
		if _, ok := s.Lookup(ctx, id, t0); ok {
			t.Fatal("a session survived sign out everywhere")
		}
	}
	if _, ok := s.Lookup(ctx, b1, t0); !ok {
		t.Fatal("sign out everywhere ended another user's session")
	}
	got := e.get()
	slices.Sort(got)
	want := []string{s1.Key, s2.Key, s3.Key}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("Watch saw %v, want %v", got, want)
	}
}

func TestSessions_MaxPerUser(t *testing.T) {
	db := openDB(t, "", nil)
	clk := &clock{t: t0}
	s, e := newSessions(t, db, clk, SessionOptions{MaxPerUser: 3})
	ctx := ctxT(t)
	var ids []string
	var keys []string
	for i := range 4 {
		clk.Set(t0.Add(time.Duration(i) * time.Minute))
		id, sess, err := s.Create(ctx, alice, "", "")
		if err != nil {
			t.Fatal(err)
		}
		ids, keys = append(ids, id), append(keys, sess.Key)
	}
	if got := e.get(); !slices.Equal(got, keys[:1]) {
		t.Fatalf("Watch saw %v, want the oldest session %s", got, keys[0])
	}
	if _, ok := s.Lookup(ctx, ids[0], t0.Add(5*time.Minute)); ok {
		t.Fatal("the oldest session survived")
	}
	list, _ := s.List("alice")
	if len(list) != 3 {
		t.Fatalf("%d sessions, bound is 3", len(list))
	}
}

func TestSessions_Prune(t *testing.T) {
	bobP := Principal{Name: "bob", Role: config.RoleOperator, Via: ViaPassword}
	carolP := Principal{Name: "carol", Role: config.RoleOperator, Via: ViaOIDC, Groups: []string{"ops"}}
	local := config.DefaultAuth()
	local.Mode = config.AuthLocal
	local.Users = []config.User{{Name: "alice", Role: config.RoleAdmin}, {Name: "carol", Role: config.RoleAdmin}}
	oidcCfg := config.DefaultAuth()
	oidcCfg.Mode = config.AuthOIDC
	oidcCfg.OIDC.DefaultRole = ""
	oidcCfg.OIDC.Roles = config.RoleGroups{Viewer: []string{"ops"}}

	tests := []struct {
		name        string
		cfg         config.Auth
		wantRoles   map[string]string // user -> role after; absent: signed out
		wantEnded   int
		wantChanged int
	}{
		{"local: removed user out, role change applied, oidc session out", local,
			map[string]string{"alice": config.RoleAdmin}, 2, 1},
		{"oidc: groups remapped", oidcCfg,
			map[string]string{"carol": config.RoleViewer}, 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openDB(t, "", nil)
			clk := &clock{t: t0}
			s, e := newSessions(t, db, clk, SessionOptions{})
			ctx := ctxT(t)
			ids := map[string]string{}
			for _, p := range []Principal{alice, bobP, carolP} {
				id, _, err := s.Create(ctx, p, "", "")
				if err != nil {
					t.Fatal(err)
				}
				ids[p.Name] = id
			}
			n, changed, err := s.Prune(ctx, KeepFor(tt.cfg))
			if err != nil || n != tt.wantEnded || changed != tt.wantChanged {
				t.Fatalf("Prune = %d ended, %d changed, %v; want %d, %d", n, changed, err, tt.wantEnded, tt.wantChanged)
			}
			for user, id := range ids {
				got, ok := s.Lookup(ctx, id, t0.Add(time.Minute))
				wantRole, kept := tt.wantRoles[user]
				if ok != kept || ok && got.Principal.Role != wantRole {
					t.Errorf("%s after Prune: %v role %q; want kept %v role %q", user, ok, got.Principal.Role, kept, wantRole)
				}
			}
			if len(e.get()) != tt.wantEnded {
				t.Errorf("Watch saw %d ended sessions, want %d", len(e.get()), tt.wantEnded)
			}
		})
	}
}

func TestSessions_SetLimits(t *testing.T) {
	db := openDB(t, "", nil)
	clk := &clock{t: t0}
	s, _ := newSessions(t, db, clk, SessionOptions{})
	ctx := ctxT(t)
	id, _, _ := s.Create(ctx, alice, "", "")
	s.SetLimits(limits(10*time.Minute, time.Hour))
	if _, ok := s.Lookup(ctx, id, t0.Add(11*time.Minute)); ok {
		t.Fatal("a shorter idle limit from a reload did not apply to an existing session")
	}
}

func TestSessions_CreateRefusesNoRole(t *testing.T) {
	db := openDB(t, "", nil)
	s, _ := newSessions(t, db, &clock{t: t0}, SessionOptions{})
	for _, p := range []Principal{{Name: "x", Via: ViaPassword}, {Role: config.RoleAdmin, Via: ViaPassword}} {
		if _, _, err := s.Create(ctxT(t), p, "", ""); err == nil {
			t.Errorf("Create(%+v) succeeded", p)
		}
	}
}

func BenchmarkSessions_Lookup(b *testing.B) {
	db := openDB(b, "", nil)
	s := NewSessions(db, SessionOptions{Logger: quiet(), Clock: func() time.Time { return t0 }})
	id, _, err := s.Create(context.Background(), alice, "", "")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		if _, ok := s.Lookup(ctx, id, t0.Add(time.Minute)); !ok {
			b.Fatal("lost")
		}
	}
}
