package auth

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/dashd/dashd/config"
)

// maxBadTokens bounds the cache of tokens known to match nothing.
const maxBadTokens = 1024

// Tokens authenticates API tokens (Authorization: Bearer) against the
// hashes of auth.tokens. Verifying a presented token means hashing it
// once per configured token (tens of milliseconds each), far too slow for
// every request of a Prometheus scrape, so the outcome is cached by the
// SHA-256 of the presented token: a token that verified maps to its
// entry, one that matched nothing is remembered as bad (up to
// maxBadTokens, then the bad cache starts over). Neither cache holds a
// token, only digests; the good one holds at most one entry per
// configured token. Failed attempts count against the client's address
// in the shared Throttle.
//
// Build a new Tokens on every configuration load (the caches then start
// empty, so a token removed from the configuration stops working at
// once). It is safe for concurrent use.
type Tokens struct {
	tokens   []config.Token
	gate     *Gate
	throttle *Throttle

	mu   sync.Mutex
	good map[[sha256.Size]byte]int // digest -> index in tokens
	bad  map[[sha256.Size]byte]struct{}
}

// NewTokens checks every token's hash (an unusable one is an error naming
// the token) and returns an authenticator for them.
func NewTokens(tokens []config.Token, gate *Gate, throttle *Throttle) (*Tokens, error) {
	for i, t := range tokens {
		if err := checkHash(t.Hash); err != nil {
			return nil, fmt.Errorf("auth: tokens[%d] %q: hash: %w", i, t.Name, err)
		}
	}
	return &Tokens{tokens: append([]config.Token(nil), tokens...), gate: gate, throttle: throttle,
		good: map[[sha256.Size]byte]int{}, bad: map[[sha256.Size]byte]struct{}{}}, nil
}

// Authenticate returns the Principal of bearer (Via ViaToken, Name the
// token's name, Scope its scope), presented by a client at addr. It
// answers ErrBadCredentials for a token that matches none, a
// *ThrottledError when addr failed too often lately (a token already known
// to be good is still accepted: it proves itself without any hashing),
// ErrBusy or ctx's error when verification could not run.
func (t *Tokens) Authenticate(ctx context.Context, bearer string, addr netip.Addr, now time.Time) (Principal, error) {
	if bearer == "" || len(bearer) > MaxSecretLen {
		t.throttle.Failed(addr, "", now)
		return Principal{}, fmt.Errorf("auth: token: %w", ErrBadCredentials)
	}
	d := sha256.Sum256([]byte(bearer))
	t.mu.Lock()
	i, good := t.good[d]
	_, bad := t.bad[d]
	t.mu.Unlock()
	if good {
		return t.principal(i), nil
	}
	if w := t.throttle.Check(addr, "", now); w > 0 {
		return Principal{}, &ThrottledError{Wait: w}
	}
	if bad {
		t.throttle.Failed(addr, "", now)
		return Principal{}, fmt.Errorf("auth: token: %w", ErrBadCredentials)
	}
	found := -1
	err := t.gate.Do(ctx, func() {
		for j, tok := range t.tokens {
			if ok, _ := Verify(tok.Hash, []byte(bearer)); ok {
				found = j
				return
			}
		}
	})
	if err != nil {
		return Principal{}, err
	}
	t.mu.Lock()
	if found >= 0 {
		t.good[d] = found
	} else {
		if len(t.bad) >= maxBadTokens {
			clear(t.bad)
		}
		t.bad[d] = struct{}{}
	}
	t.mu.Unlock()
	if found < 0 {
		t.throttle.Failed(addr, "", now)
		return Principal{}, fmt.Errorf("auth: token: %w", ErrBadCredentials)
	}
	return t.principal(found), nil
}

func (t *Tokens) principal(i int) Principal {
	return Principal{Name: t.tokens[i].Name, Scope: t.tokens[i].Scope, Via: ViaToken}
}
