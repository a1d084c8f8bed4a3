package auth

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/dashd/dashd/config"
)

// Local signs in the users of the configuration (auth.users) by name and
// password. Build a new one on every configuration load; it is safe for
// concurrent use.
type Local struct {
	users    map[string]config.User
	dummy    string // verified for unknown names: see NewLocal
	gate     *Gate
	throttle *Throttle
}

// NewLocal checks every user's hash (a hash Verify cannot use is an error
// naming the user: the configuration must not load) and prepares the
// hash an unknown name is verified against: one made like the first
// user's, so that an unknown name and a wrong password cost the same
// (when users' hashes differ in cost, names may be told apart by timing;
// `dashd passwd` makes them all alike). gate and throttle are shared with
// Tokens and should outlive reloads (a reload must not reset the counts).
func NewLocal(users []config.User, gate *Gate, throttle *Throttle) (*Local, error) {
	l := &Local{users: make(map[string]config.User, len(users)), gate: gate, throttle: throttle}
	for i, u := range users {
		if err := checkHash(u.PasswordHash); err != nil {
			return nil, fmt.Errorf("auth: users[%d] %q: password_hash: %w", i, u.Name, err)
		}
		l.users[u.Name] = u
	}
	if len(users) == 0 {
		// Nobody to tell apart by timing, and no dummy hash to make: a
		// daemon without users does not pay argon2id's memory at start.
		return l, nil
	}
	d, err := DummyHash(users[0].PasswordHash)
	if err != nil {
		return nil, err
	}
	l.dummy = d
	return l, nil
}

// Login checks name and password for a client at addr. It answers:
//   - the user's Principal (Via ViaPassword), to start a session with;
//   - an error wrapping ErrBadCredentials for an unknown name or a wrong
//     password, after the same work for both;
//   - a *ThrottledError (ErrThrottled) when addr or name failed too often
//     lately: nothing was verified;
//   - ErrBusy when too many sign-ins are being verified, or ctx's error.
//
// Every failure counts against both addr and name.
func (l *Local) Login(ctx context.Context, addr netip.Addr, name string, password []byte, now time.Time) (Principal, error) {
	if w := l.throttle.Check(addr, name, now); w > 0 {
		return Principal{}, &ThrottledError{Wait: w}
	}
	if len(password) > MaxSecretLen || len(name) > 4*MaxNameLen || name == "" {
		l.throttle.Failed(addr, name, now)
		return Principal{}, fmt.Errorf("auth: sign-in: %w", ErrBadCredentials)
	}
	var (
		u     config.User
		ok    bool
		match bool
		wait  time.Duration
		verr  error
	)
	err := l.gate.Do(ctx, func() {
		// Attempts that queued behind others of the same burst see the
		// failures counted meanwhile.
		if wait = l.throttle.Check(addr, name, now); wait > 0 {
			return
		}
		u, ok = l.users[name]
		hash := l.dummy
		if ok {
			hash = u.PasswordHash
		}
		if hash == "" { // no users at all
			l.throttle.Failed(addr, name, now)
			return
		}
		match, verr = Verify(hash, password)
		match = match && ok
		if !match && (verr == nil || errors.Is(verr, ErrSecretTooLong)) {
			// Counted before the gate is released: the next attempt of
			// the burst must see it.
			l.throttle.Failed(addr, name, now)
		}
	})
	switch {
	case err != nil:
		return Principal{}, err
	case wait > 0:
		return Principal{}, &ThrottledError{Wait: wait}
	case verr != nil && !errors.Is(verr, ErrSecretTooLong):
		// NewLocal checked every hash; this is a bug, not the user's fault.
		return Principal{}, fmt.Errorf("auth: sign-in %q: %w", name, verr)
	case !match:
		return Principal{}, fmt.Errorf("auth: sign-in: %w", ErrBadCredentials)
	}
	l.throttle.Succeeded(addr, name)
	return Principal{Name: u.Name, Role: u.Role, Via: ViaPassword}, nil
}

// checkHash reports whether Verify can use hash, without the cost of
// hashing anything.
func checkHash(hash string) error {
	switch {
	case strings.HasPrefix(hash, "$argon2id$"):
		if _, _, err := parseArgon(hash); err != nil {
			return fmt.Errorf("%w: %v", ErrBadHash, err)
		}
		return nil
	case strings.HasPrefix(hash, "$2a$"), strings.HasPrefix(hash, "$2b$"), strings.HasPrefix(hash, "$2y$"):
		cost, err := bcrypt.Cost([]byte(hash))
		if err != nil {
			return fmt.Errorf("%w: %v", ErrBadHash, err)
		}
		if cost > maxBcryptCost {
			return fmt.Errorf("%w: bcrypt cost %d, at most %d", ErrBadHash, cost, maxBcryptCost)
		}
		if len(hash) != 60 {
			return fmt.Errorf("%w: a bcrypt hash is 60 characters, got %d", ErrBadHash, len(hash))
		}
		return nil
	}
	return fmt.Errorf("%w: neither argon2id nor bcrypt: print one with `dashd passwd`", ErrBadHash)
}
