package auth

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dashd/dashd/config"
)

func newTokens(t testing.TB, th *Throttle) *Tokens {
	t.Helper()
	if th == nil {
		th = NewThrottle(ThrottleOptions{})
	}
	toks, err := NewTokens([]config.Token{
		{Name: "prometheus", Hash: mustHash(t, "prom-token"), Scope: config.ScopeMetrics},
		{Name: "script", Hash: mustHash(t, "write-token"), Scope: config.ScopeWrite},
	}, DefaultGate(), th)
	if err != nil {
		t.Fatal(err)
	}
	return toks
}

func TestTokens_Authenticate(t *testing.T) {
	toks := newTokens(t, nil)
	ctx := ctxT(t)
	tests := []struct {
		name, bearer string
		want         Principal
		wantErr      error
	}{
		{"metrics token", "prom-token", Principal{Name: "prometheus", Scope: config.ScopeMetrics, Via: ViaToken}, nil},
		{"write token", "write-token", Principal{Name: "script", Scope: config.ScopeWrite, Via: ViaToken}, nil},
		{"metrics token again (cached)", "prom-token", Principal{Name: "prometheus", Scope: config.ScopeMetrics, Via: ViaToken}, nil},
		{"unknown", "guess", Principal{}, ErrBadCredentials},
		{"empty", "", Principal{}, ErrBadCredentials},
		{"too long", string(make([]byte, MaxSecretLen+1)), Principal{}, ErrBadCredentials},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := toks.Authenticate(ctx, tt.bearer, addr("192.0.2.1"), t0.Add(time.Duration(i)*time.Hour))
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("Authenticate error = %v, want %v", err, tt.wantErr)
			}
			if p.Name != tt.want.Name || p.Scope != tt.want.Scope || p.Via != tt.want.Via {
				t.Fatalf("Authenticate = %+v, want %+v", p, tt.want)
			}
		})
	}
	// The principal's scope decides: a metrics token may not read the API.
	p, _ := toks.Authenticate(ctx, "prom-token", addr("192.0.2.1"), t0)
	if p.Can(ReadAPI) || !p.Can(ReadMetrics) {
		t.Fatal("metrics token: wrong permissions")
	}
}

func TestTokens_ThrottlePerAddress(t *testing.T) {
	toks := newTokens(t, nil)
	ctx := ctxT(t)
	bad := addr("192.0.2.66")
	for i := range 3 {
		// A new wrong token each time, and the same one again: both count.
		b := []string{"guess-1", "guess-2", "guess-1"}[i]
		if _, err := toks.Authenticate(ctx, b, bad, t0); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("attempt %d = %v", i, err)
		}
	}
	if _, err := toks.Authenticate(ctx, "guess-3", bad, t0); !errors.Is(err, ErrThrottled) {
		t.Fatalf("fourth wrong token = %v, want ErrThrottled", err)
	}
	// A valid token is refused from the throttled address until it is
	// known to be good...
	if _, err := toks.Authenticate(ctx, "write-token", bad, t0); !errors.Is(err, ErrThrottled) {
		t.Fatalf("unverified token from a throttled address = %v, want ErrThrottled", err)
	}
	// ...and accepted from elsewhere; once verified, it proves itself.
	if _, err := toks.Authenticate(ctx, "write-token", addr("198.51.100.1"), t0); err != nil {
		t.Fatal(err)
	}
	if p, err := toks.Authenticate(ctx, "write-token", bad, t0); err != nil || p.Name != "script" {
		t.Fatalf("known good token from a throttled address = %+v, %v", p, err)
	}
}

func TestNewTokens_RefusesUnusableHash(t *testing.T) {
	_, err := NewTokens([]config.Token{{Name: "x", Hash: "the-token", Scope: config.ScopeRead}}, DefaultGate(), NewThrottle(ThrottleOptions{}))
	if !errors.Is(err, ErrBadHash) {
		t.Fatalf("NewTokens = %v, want ErrBadHash", err)
	}
}

func BenchmarkTokens_Authenticate(b *testing.B) {
	toks := newTokens(b, nil)
	ctx := context.Background()
	if _, err := toks.Authenticate(ctx, "prom-token", addr("192.0.2.1"), t0); err != nil {
		b.Fatal(err)
	}
	b.Run("warm", func(b *testing.B) {
		for b.Loop() {
			if _, err := toks.Authenticate(ctx, "prom-token", addr("192.0.2.1"), t0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			fresh := newTokensNoHash(b, toks)
			if _, err := fresh.Authenticate(ctx, "write-token", addr("192.0.2.1"), t0); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// newTokensNoHash is toks with empty caches (without hashing the tokens
// again).
func newTokensNoHash(b *testing.B, toks *Tokens) *Tokens {
	fresh, err := NewTokens(toks.tokens, toks.gate, NewThrottle(ThrottleOptions{}))
	if err != nil {
		b.Fatal(err)
	}
	return fresh
}
