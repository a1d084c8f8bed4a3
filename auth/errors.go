package auth

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors. Callers test for them with errors.Is; the errors
// returned wrap them with detail fit for a log line or, where the text
// says so, for the user.
var (
	// ErrBadCredentials is returned by Local.Login for an unknown user
	// and for a wrong password alike (the same answer and timing), and by
	// Tokens.Authenticate for a token that matches none. The server
	// answers 401.
	ErrBadCredentials = errors.New("wrong user name or password")

	// ErrThrottled is returned (wrapped in a *ThrottledError that says how
	// long to wait) when too many attempts failed lately from the client's
	// address or for the user name. The server answers 429 with
	// Retry-After.
	ErrThrottled = errors.New("too many failed attempts")

	// ErrBusy is returned when too many password or token verifications
	// are already running or waiting; each holds 19 MiB for tens of
	// milliseconds, so they are bounded. The server answers 503.
	ErrBusy = errors.New("too many sign-ins at once")

	// ErrNoRole is returned when a user is known (to a proxy or an OIDC
	// provider) but none of their groups maps to a role and no default
	// role is configured. The server answers 403.
	ErrNoRole = errors.New("no role for this user")

	// ErrBadName is returned when a user name from a header or an ID token
	// is empty, longer than MaxNameLen bytes, not UTF-8 or holds control
	// characters.
	ErrBadName = errors.New("unusable user name")

	// ErrNoIdentity is returned by FromProxy when the request carries no
	// identity to believe: it does not come from a trusted proxy, or the
	// proxy named nobody. The request is anonymous.
	ErrNoIdentity = errors.New("no identity from a trusted proxy")

	// ErrBadHash is returned by Verify for a hash that is neither a
	// well-formed argon2id PHC string nor a bcrypt hash, or whose cost
	// parameters are beyond what dashd accepts.
	ErrBadHash = errors.New("not a usable password hash")

	// ErrSecretTooLong is returned for a password or token longer than
	// MaxSecretLen bytes.
	ErrSecretTooLong = errors.New("secret too long")

	// ErrFlow is returned by OIDC.DecodeFlow and OIDC.Finish when the
	// sign-in flow is not the one this browser started: a forged, expired
	// or missing flow cookie, or a state that does not match it. The
	// server answers 400 and offers to sign in again.
	ErrFlow = errors.New("sign-in flow not recognised")

	// ErrProvider is returned by OIDC.Finish when the provider refused
	// the sign-in or its answer does not verify (a replayed code, a bad
	// ID token, a wrong nonce).
	ErrProvider = errors.New("identity provider sign-in failed")
)

// ThrottledError says how long to wait before the next attempt. It
// matches ErrThrottled with errors.Is.
type ThrottledError struct {
	Wait time.Duration
}

// Error says when to try again, in whole seconds (at least 1).
func (e *ThrottledError) Error() string {
	return fmt.Sprintf("%v: try again in %d s", ErrThrottled, RetryAfter(e.Wait))
}

// Is makes errors.Is(err, ErrThrottled) true.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// RetryAfter is a wait in whole seconds, rounded up and at least 1: the
// value of a Retry-After header.
func RetryAfter(wait time.Duration) int {
	return max(1, int((wait+time.Second-1)/time.Second))
}
