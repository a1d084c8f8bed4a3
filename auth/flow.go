package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Bounds of a sign-in flow cookie.
const (
	// FlowTTL is how long a browser has between leaving for the provider
	// and coming back: a flow cookie older than that is refused.
	FlowTTL = 10 * time.Minute
	// maxFlowCookie bounds the cookie value DecodeFlow reads.
	maxFlowCookie = 2048
	// maxNext bounds Flow.Next.
	maxNext = 512
)

// Flow is one OIDC sign-in in progress: what the browser must bring back
// from the provider. The server keeps it in a short-lived cookie
// (HttpOnly, SameSite=Lax: the provider's redirect back is a top-level
// GET, which Lax lets through; Secure under TLS; Max-Age FlowTTL) as
// OIDC.EncodeFlow makes it, signed with a key only this process knows, and
// deletes that cookie at the callback whatever the outcome.
type Flow struct {
	// State ties the provider's redirect to this browser (CSRF).
	State string `json:"s"`
	// Nonce ties the ID token to this sign-in (replay).
	Nonce string `json:"n"`
	// Verifier is the PKCE code verifier: a stolen code is useless
	// without it.
	Verifier string `json:"v"`
	// Created is when Start made the flow.
	Created time.Time `json:"c"`
	// Next is where to send the browser after signing in. The server sets
	// it before EncodeFlow and must only ever set a local path (starting
	// with one "/"): it is signed, not checked.
	Next string `json:"x,omitempty"`
}

// newFlow makes a flow with fresh random state and nonce.
func newFlow(now time.Time, verifier string) Flow {
	return Flow{State: randomToken(), Nonce: randomToken(), Verifier: verifier, Created: now}
}

// randomToken is 256 random bits in base64url. crypto/rand.Read never
// fails (since Go 1.24 it crashes the program rather than return an
// error).
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// encodeFlow is f as a cookie value: base64url(JSON) "." base64url(HMAC).
func encodeFlow(key []byte, f Flow) string {
	if len(f.Next) > maxNext {
		f.Next = ""
	}
	b, _ := json.Marshal(f) // strings and a time: cannot fail
	payload := base64.RawURLEncoding.EncodeToString(b)
	return payload + "." + base64.RawURLEncoding.EncodeToString(flowMAC(key, payload))
}

// decodeFlow checks the signature and age of a cookie value made by
// encodeFlow.
func decodeFlow(key []byte, v string, now time.Time) (Flow, error) {
	if v == "" {
		return Flow{}, fmt.Errorf("auth: %w: no flow cookie (cookies blocked, or the sign-in took over %s)", ErrFlow, FlowTTL)
	}
	if len(v) > maxFlowCookie {
		return Flow{}, fmt.Errorf("auth: %w: flow cookie of %d bytes", ErrFlow, len(v))
	}
	payload, sig, ok := strings.Cut(v, ".")
	mac, err := base64.RawURLEncoding.DecodeString(sig)
	if !ok || err != nil || !hmac.Equal(mac, flowMAC(key, payload)) {
		return Flow{}, fmt.Errorf("auth: %w: flow cookie not signed by this dashd (forged, or dashd restarted)", ErrFlow)
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return Flow{}, fmt.Errorf("auth: %w: flow cookie: %v", ErrFlow, err)
	}
	var f Flow
	if err := json.Unmarshal(b, &f); err != nil {
		return Flow{}, fmt.Errorf("auth: %w: flow cookie: %v", ErrFlow, err)
	}
	if age := now.Sub(f.Created); age > FlowTTL || age < -time.Minute {
		return Flow{}, fmt.Errorf("auth: %w: the sign-in started %s ago, at most %s allowed", ErrFlow, age.Round(time.Second), FlowTTL)
	}
	if f.State == "" || f.Nonce == "" || f.Verifier == "" {
		return Flow{}, fmt.Errorf("auth: %w: incomplete flow", ErrFlow)
	}
	return f, nil
}

func flowMAC(key []byte, payload string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("dashd oidc flow\x00"))
	m.Write([]byte(payload))
	return m.Sum(nil)
}
