package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/storage"
)

// Bounds of the session store.
const (
	// idLen is the length of a session id: 32 random bytes (256 bits) in
	// unpadded base64url.
	idLen = 43
	// maxUserAgent bounds the user agent kept with a session.
	maxUserAgent = 256
	// maxAddr bounds the client address kept with a session.
	maxAddr = 64
	// maxPending bounds the last-seen times waiting to be written.
	maxPending = 1 << 16
	// deleteBatch is the most sessions one storage write deletes.
	deleteBatch = 4096
)

// Session is a signed-in browser session.
type Session struct {
	// Key names the session everywhere but in the cookie: the hex SHA-256
	// of the session id. It is what storage keeps, what Principal.Session
	// and Watch carry, and what an admin page may show and revoke; it
	// cannot be turned back into a cookie.
	Key string
	// Principal is the signed-in user (Via ViaSession, Session = Key).
	Principal Principal
	// Method is how the user signed in: ViaPassword or ViaOIDC.
	Method string
	// Created is the sign-in; LastSeen the last use, to within a minute.
	Created  time.Time
	LastSeen time.Time
	// Expires is when the session ends unless used again: the earlier of
	// LastSeen + idle and Created + absolute (config.Session).
	Expires time.Time
	// Addr and UserAgent are the client's at sign-in.
	Addr      string
	UserAgent string
}

// SessionOptions configures NewSessions. Zero fields take defaults.
type SessionOptions struct {
	// Limits are auth.session's idle and absolute expiry (defaults: those
	// of config.DefaultAuth). SetLimits changes them on a reload.
	Limits config.Session
	// MaxPerUser bounds a user's sessions: signing in once more ends the
	// session used longest ago (default 32).
	MaxPerUser int
	// TouchEvery is how stale a session's last-seen time may get before a
	// request records it again (default 1 min): requests read sessions,
	// they do not write one each.
	TouchEvery time.Duration
	// SweepInterval is how often Run writes the recorded last-seen times
	// and ends expired sessions (default 1 min).
	SweepInterval time.Duration
	// Clock is the time of Create and of Run's sweeps (default time.Now).
	Clock func() time.Time
	// Logger gets storage errors (default slog.Default()).
	Logger *slog.Logger
}

// Sessions are server-side browser sessions kept in storage, so they
// survive a restart: a random 256-bit id in the cookie, stored by its
// SHA-256 (the database never holds a cookie), with idle and absolute
// expiry.
//
// Reads cost no write: Lookup records a session's last use in memory at
// most once per TouchEvery, and Run writes those times in one batch per
// SweepInterval (a crash forgets at most that much of them: the session
// may then end that much sooner). Run also ends sessions that expired,
// and everything that ends a session (expiry, logout, sign out everywhere,
// a reload's Prune, MaxPerUser) calls the Watch functions with its key, so
// the server closes that session's streams.
//
// Sessions is safe for concurrent use.
type Sessions struct {
	db   *storage.DB
	opts SessionOptions
	log  *slog.Logger

	// createMu makes Create's "store, then bound the user's sessions" one
	// step per sign-in.
	createMu sync.Mutex

	mu       sync.Mutex // guards the fields below; never held during I/O or a Watch call
	limits   config.Session
	pending  map[string]touch
	watchers map[int]func(key string)
	nextW    int
}

// touch is a last use not yet written.
type touch struct {
	lastSeen, expires time.Time
}

// NewSessions returns the sessions kept in db. Start Run for the batched
// writes and the expiry sweep.
func NewSessions(db *storage.DB, opts SessionOptions) *Sessions {
	d := config.DefaultAuth().Session
	if opts.Limits.Idle <= 0 {
		opts.Limits.Idle = d.Idle
	}
	if opts.Limits.Absolute <= 0 {
		opts.Limits.Absolute = d.Absolute
	}
	if opts.MaxPerUser <= 0 {
		opts.MaxPerUser = 32
	}
	if opts.TouchEvery <= 0 {
		opts.TouchEvery = time.Minute
	}
	if opts.SweepInterval <= 0 {
		opts.SweepInterval = time.Minute
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Sessions{db: db, opts: opts, log: opts.Logger, limits: opts.Limits,
		pending: map[string]touch{}, watchers: map[int]func(string){}}
}

// SetLimits applies a reloaded auth.session: every session, new or
// existing, ends by the new idle and absolute limits from now on.
func (s *Sessions) SetLimits(l config.Session) {
	if l.Idle <= 0 || l.Absolute <= 0 {
		return
	}
	s.mu.Lock()
	s.limits = l
	s.mu.Unlock()
}

// SessionKey is the key of the session whose cookie holds id: its
// SHA-256 in hex.
func SessionKey(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:])
}

// Create starts a session for p (a Principal from Local.Login or
// OIDC.Finish) signing in from addr with user agent ua (both kept, bounded,
// for the sessions list). It returns the id to put in the cookie (only
// this once: storage keeps its hash) and the session. The server must
// call it at every sign-in and put the new id in the cookie (a new id at
// each sign-in: no session fixation), and Delete the session the browser
// had before, if any. When the user then has more than MaxPerUser
// sessions, the ones used longest ago end.
func (s *Sessions) Create(ctx context.Context, p Principal, addr, ua string) (string, Session, error) {
	if p.Name == "" || config.RoleRank(p.Role) == 0 {
		return "", Session{}, fmt.Errorf("auth: create session: no user or no role (%q, %q)", p.Name, p.Role)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", Session{}, fmt.Errorf("auth: create session: %w", err)
	}
	id := base64.RawURLEncoding.EncodeToString(raw)
	now := s.opts.Clock()
	limits := s.currentLimits()
	rec := storage.Session{Key: SessionKey(id), User: p.Name, Role: p.Role, Method: p.Via, Groups: cleanGroups(p.Groups),
		Created: now, LastSeen: now, Addr: boundText(addr, maxAddr), UserAgent: boundText(ua, maxUserAgent)}
	rec.Expires = expiry(rec, limits)

	s.createMu.Lock()
	defer s.createMu.Unlock()
	if err := s.db.PutSession(ctx, rec); err != nil {
		return "", Session{}, fmt.Errorf("auth: create session for %q: %w", p.Name, err)
	}
	if err := s.boundUser(ctx, p.Name, rec.Key); err != nil {
		s.log.Error("auth: bound sessions per user", "user", p.Name, "err", err)
	}
	return id, s.fromRecord(rec, limits), nil
}

// boundUser ends the sessions of user used longest ago (never keep) until
// MaxPerUser are left.
func (s *Sessions) boundUser(ctx context.Context, user, keep string) error {
	list, err := s.db.Sessions(user)
	if err != nil || len(list) <= s.opts.MaxPerUser {
		return err
	}
	s.mu.Lock()
	for i := range list {
		list[i].LastSeen = s.lastSeenLocked(list[i])
	}
	s.mu.Unlock()
	slices.SortFunc(list, func(a, b storage.Session) int { return a.LastSeen.Compare(b.LastSeen) })
	var end []string
	for _, r := range list[:len(list)-s.opts.MaxPerUser] {
		if r.Key != keep {
			end = append(end, r.Key)
		}
	}
	return s.end(ctx, end)
}

// Lookup returns the session whose cookie holds id, if it exists and has
// not expired at now. An expired session is deleted (and Watch told). A
// storage error is logged and answers false: no session, sign in again.
func (s *Sessions) Lookup(ctx context.Context, id string, now time.Time) (Session, bool) {
	if !validID(id) {
		return Session{}, false
	}
	key := SessionKey(id)
	rec, ok, err := s.db.GetSession(key)
	if err != nil {
		s.log.Error("auth: look up session", "err", err)
		return Session{}, false
	}
	if !ok {
		return Session{}, false
	}
	s.mu.Lock()
	limits := s.limits
	rec.LastSeen = s.lastSeenLocked(rec)
	s.mu.Unlock()
	if !now.Before(expiry(rec, limits)) {
		if err := s.end(ctx, []string{key}); err != nil {
			s.log.Error("auth: end expired session", "user", rec.User, "err", err)
		}
		return Session{}, false
	}
	if now.Sub(rec.LastSeen) >= s.opts.TouchEvery {
		rec.LastSeen = now
		s.mu.Lock()
		if _, queued := s.pending[key]; queued || len(s.pending) < maxPending {
			s.pending[key] = touch{lastSeen: now, expires: expiry(rec, limits)}
		}
		s.mu.Unlock()
	}
	return s.fromRecord(rec, limits), true
}

// Delete ends the session whose cookie holds id (logout). An unknown id
// is not an error.
func (s *Sessions) Delete(ctx context.Context, id string) error {
	if !validID(id) {
		return nil
	}
	return s.Revoke(ctx, SessionKey(id))
}

// Revoke ends the session with this key (Session.Key: an admin ending
// someone's session, a user ending one of theirs from the list).
func (s *Sessions) Revoke(ctx context.Context, key string) error {
	if err := s.end(ctx, []string{key}); err != nil {
		return fmt.Errorf("auth: end session: %w", err)
	}
	return nil
}

// DeleteUser ends every session of user ("sign out everywhere") and
// returns how many there were.
func (s *Sessions) DeleteUser(ctx context.Context, user string) (int, error) {
	list, err := s.db.Sessions(user)
	if err != nil {
		return 0, fmt.Errorf("auth: sign out %q everywhere: %w", user, err)
	}
	keys := make([]string, len(list))
	for i, r := range list {
		keys[i] = r.Key
	}
	if err := s.end(ctx, keys); err != nil {
		return 0, fmt.Errorf("auth: sign out %q everywhere: %w", user, err)
	}
	return len(keys), nil
}

// List returns the live sessions of user ("" for everyone), the most
// recently created first: for a "your sessions" page or an admin's.
func (s *Sessions) List(user string) ([]Session, error) {
	list, err := s.db.Sessions(user)
	if err != nil {
		return nil, fmt.Errorf("auth: list sessions: %w", err)
	}
	now := s.opts.Clock()
	s.mu.Lock()
	limits := s.limits
	out := make([]Session, 0, len(list))
	for _, r := range list {
		r.LastSeen = s.lastSeenLocked(r)
		if now.Before(expiry(r, limits)) {
			out = append(out, s.fromRecord(r, limits))
		}
	}
	s.mu.Unlock()
	return out, nil
}

func (s *Sessions) currentLimits() config.Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limits
}

// lastSeenLocked is r's last use, counting the one not yet written;
// s.mu is held.
func (s *Sessions) lastSeenLocked(r storage.Session) time.Time {
	last := r.LastSeen
	if last.IsZero() {
		last = r.Created
	}
	if t, ok := s.pending[r.Key]; ok && t.lastSeen.After(last) {
		last = t.lastSeen
	}
	return last
}

func (s *Sessions) fromRecord(r storage.Session, limits config.Session) Session {
	return Session{
		Key: r.Key,
		Principal: Principal{Name: r.User, Role: r.Role, Via: ViaSession, Session: r.Key,
			Groups: slices.Clone(r.Groups)},
		Method: r.Method, Created: r.Created, LastSeen: r.LastSeen, Expires: expiry(r, limits),
		Addr: r.Addr, UserAgent: r.UserAgent,
	}
}

// expiry is when r ends unless used again: the earlier of its last use
// plus idle and its creation plus absolute.
func expiry(r storage.Session, l config.Session) time.Time {
	last := r.LastSeen
	if last.IsZero() || last.Before(r.Created) {
		last = r.Created
	}
	idle := last.Add(l.Idle.D())
	abs := r.Created.Add(l.Absolute.D())
	if abs.Before(idle) {
		return abs
	}
	return idle
}

// validID reports whether id can be a session id (idLen characters of
// base64url), before anything is hashed or read.
func validID(id string) bool {
	if len(id) != idLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
