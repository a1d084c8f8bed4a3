package channel

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestPermanentAndRetryAfter(t *testing.T) {
	base := errors.New("HTTP 400")
	if Permanent(nil) != nil {
		t.Error("Permanent(nil) is not nil")
	}
	wrapped := fmt.Errorf("webhook x: %w", Permanent(base))
	if !IsPermanent(wrapped) || !errors.Is(wrapped, base) || wrapped.Error() != "webhook x: HTTP 400" {
		t.Errorf("wrapped permanent error: %v, IsPermanent %v", wrapped, IsPermanent(wrapped))
	}
	if IsPermanent(base) || IsPermanent(nil) {
		t.Error("a plain error is permanent")
	}
	ra := fmt.Errorf("x: %w", withRetryAfter(base, 3*time.Second))
	if d, ok := RetryAfter(ra); !ok || d != 3*time.Second || IsPermanent(ra) {
		t.Errorf("RetryAfter = %v %v", d, ok)
	}
	if d, ok := RetryAfter(withRetryAfter(base, 48*time.Hour)); !ok || d != maxRetryAfter {
		t.Errorf("a two-day wait gives %v %v, want it capped at %v", d, ok, maxRetryAfter)
	}
	if _, ok := RetryAfter(withRetryAfter(base, 0)); ok {
		t.Error("a zero wait is carried")
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"30", 30 * time.Second},
		{" 1.5 ", 1500 * time.Millisecond},
		{"0", 0},
		{"-5", 0},
		{"NaN", 0},
		{"Inf", maxRetryAfter},
		{"999999999", maxRetryAfter},
		{now.Add(2 * time.Minute).Format(http.TimeFormat), 2 * time.Minute},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"soon", 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestScrubber(t *testing.T) {
	s := newScrubber("abc", "tok-12345", "tok-12345-longer", "quo\"te")
	tests := []struct{ in, want string }{
		{"token tok-12345-longer and tok-12345", "token *** and ***"},
		{"abc stays: too short to hide", "abc stays: too short to hide"},
		{`quoted "quo\"te"`, `quoted "***"`},
		{"https://u:pw@h/x?token=zz", "https://u:***@h/x?token=***"},
	}
	for _, tt := range tests {
		if got := s.text(tt.in); got != tt.want {
			t.Errorf("text(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	base := context.DeadlineExceeded
	err := s.wrap(fmt.Errorf("POST tok-12345: %w", base))
	if err.Error() != "POST ***: context deadline exceeded" || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("wrap = %v", err)
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"runes fit", truncateRunes("héllo", 5, "…"), "héllo"},
		{"runes cut", truncateRunes("héllo wörld", 6, "…"), "héllo…"},
		{"runes marker only", truncateRunes("héllo", 1, "……"), "…"},
		{"utf16 counts surrogates", truncateUTF16("a😀b😀c", 5, "…"), "a😀b…"}, {"utf16 no split surrogate", truncateUTF16("a😀b😀c", 3, "…"), "a…"},
		{"utf16 fits", truncateUTF16("a😀", 3, "…"), "a😀"},
		{"bytes on a character boundary", truncateBytes("aéé", 4, "."), "aé."},
		{"one line", oneLine("a\r\nb\tc\x00d"), "a  b cd"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
	if got := shown([]byte("a\n\n b\x00\x01 " + strings.Repeat("x", 1000))); len(got) > maxShown || strings.ContainsAny(got, "\n\x00\x01") || !strings.HasPrefix(got, "a b x") {
		t.Errorf("shown = %q", got)
	}
}

func TestSend_CanceledIsRetried(t *testing.T) {
	rc := newReceiver(t, nil)
	s := mustSender(t, "      type: webhook\n      url: "+rc.URL+"\n", testOptions())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.Send(ctx, oneAlert())
	if err == nil || IsPermanent(err) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Send with a canceled context = %v, want a retried context.Canceled", err)
	}
}

func TestTruncate_TinyLimits(t *testing.T) {
	for _, limit := range []int{-3, 0, 1, 2} {
		for _, s := range []string{"", "x", "héllo wörld"} {
			if got := truncateRunes(s, limit, truncatedMarker); len([]rune(got)) > max(limit, 0) {
				t.Errorf("truncateRunes(%q, %d) = %q", s, limit, got)
			}
			if got := truncateUTF16(s, limit, truncatedMarker); utf16Len(got) > max(limit, 0) {
				t.Errorf("truncateUTF16(%q, %d) = %q", s, limit, got)
			}
			if got := truncateBytes(s, limit, "..."); len(got) > max(limit, 0) {
				t.Errorf("truncateBytes(%q, %d) = %q", s, limit, got)
			}
		}
	}
}
