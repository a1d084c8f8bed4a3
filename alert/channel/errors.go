package channel

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/dashd/dashd/config"
)

// permanentError marks a failure that retrying the same message cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as a failure that retrying cannot fix: the
// destination refused the message itself or the channel's configuration
// (HTTP 4xx other than 408, 425 and 429, a redirect, a recipient refused
// with SMTP 5xx, a command exiting 64-78 but 75). The caller gives the
// message up and shows the error instead of retrying it. Permanent(nil) is
// nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err (or an error it wraps) was marked
// Permanent. Every other error, timeouts and refused connections included,
// is worth retrying with backoff.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// maxRetryAfter caps the wait a destination may ask for: a hostile or
// confused server must not park a channel for days.
const maxRetryAfter = time.Hour

// retryAfterError carries the wait a destination asked for (HTTP 429 or
// 503 with Retry-After, Telegram's retry_after).
type retryAfterError struct {
	err  error
	wait time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// withRetryAfter attaches a wait to err; a wait of 0 or less attaches none.
func withRetryAfter(err error, wait time.Duration) error {
	if err == nil || wait <= 0 {
		return err
	}
	return &retryAfterError{err: err, wait: min(wait, maxRetryAfter)}
}

// RetryAfter returns the wait the destination asked for before the next
// attempt (at most an hour), when err carries one.
func RetryAfter(err error) (time.Duration, bool) {
	var r *retryAfterError
	if errors.As(err, &r) {
		return r.wait, true
	}
	return 0, false
}

// parseRetryAfter reads an HTTP Retry-After value: delay-seconds or an
// HTTP date. Unreadable or past values give 0.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil {
		switch {
		case math.IsNaN(n) || n <= 0:
			return 0
		case n >= maxRetryAfter.Seconds():
			return maxRetryAfter
		}
		return time.Duration(n * float64(time.Second))
	}
	if t, err := time.Parse(time.RFC1123, v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

// scrubber removes a channel's secrets from error texts: the destination
// may echo what it was sent (a token in a URL, an Authorization header),
// and Go's errors quote URLs.
type scrubber []string

// minSecret is the shortest string scrubbed: shorter ones would garble
// every message ("ab" is in many words) while hiding little.
const minSecret = 4

func newScrubber(secrets ...string) scrubber {
	var s scrubber
	for _, v := range secrets {
		if len(v) >= minSecret {
			s = append(s, v)
		}
	}
	// Longest first, so a secret containing another is hidden whole.
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && len(s[j]) > len(s[j-1]); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}

func (s scrubber) text(t string) string {
	for _, v := range s {
		t = strings.ReplaceAll(t, v, config.Redacted)
		if q := strconv.Quote(v); q[1:len(q)-1] != v {
			t = strings.ReplaceAll(t, q[1:len(q)-1], config.Redacted)
		}
	}
	return config.RedactURLs(t)
}

// wrap returns err with its text scrubbed, keeping the chain for
// errors.Is and the markers above. Errors built by this package never wrap
// a *url.Error (whose text quotes the full URL); see httpError.
func (s scrubber) wrap(err error) error {
	if err == nil {
		return nil
	}
	msg := s.text(err.Error())
	if msg == err.Error() {
		return err
	}
	return &scrubbedError{msg: msg, err: err}
}

type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// maxShown bounds how much of a destination's answer an error quotes.
const maxShown = 300

// shown makes text from a destination fit an error message: one line,
// control characters dropped, at most maxShown bytes.
func shown(b []byte) string {
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(b), "?")), " ")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	return truncateBytes(s, maxShown, "...")
}
