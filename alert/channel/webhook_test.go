package channel

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/internal/golden"
	"github.com/dashd/dashd/model"
)

func TestWebhook_DefaultBody(t *testing.T) {
	tests := []struct {
		name   string
		msg    model.AlertMessage
		golden string
	}{
		{"one firing", oneAlert(), "webhook_one.json"},
		{"firing and resolved", mixedAlerts(), "webhook_mixed.json"},
		{"test without alerts", model.AlertMessage{ID: "t-1", Channel: "ch", Host: "db-1", Test: true, Time: t0}, "webhook_test_empty.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t, nil)
			s := mustSender(t, "      type: webhook\n      url: "+rc.URL+"/hook/in?x=1\n", testOptions())
			if err := send(t, s, tt.msg); err != nil {
				t.Fatalf("Send: %v", err)
			}
			r := rc.only(t)
			if r.Method != http.MethodPost || r.Path != "/hook/in" || r.RawQuery != "x=1" {
				t.Errorf("request %s %s?%s, want POST /hook/in?x=1", r.Method, r.Path, r.RawQuery)
			}
			checkHeader(t, r.Header, "Content-Type", "application/json")
			checkHeader(t, r.Header, "User-Agent", "dashd/1.2.3")
			checkHeader(t, r.Header, "Idempotency-Key", tt.msg.ID)
			checkHeader(t, r.Header, SignatureHeader, "")
			golden.Assert(t, tt.golden, indentJSON(t, r.Body))
		})
	}
}

// verifySignature is what a receiver does with a signed request (the
// package documentation shows the same): recompute the HMAC over the
// timestamp and the raw body, compare in constant time, and refuse stale
// timestamps.
func verifySignature(secret []byte, h http.Header, body []byte, now time.Time) bool {
	ts := h.Get("X-Dashd-Timestamp")
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(h.Get("X-Dashd-Signature"))) {
		return false
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	return err == nil && now.Sub(time.Unix(sec, 0)).Abs() < 5*time.Minute
}

func TestWebhook_Signature(t *testing.T) {
	secret := "whsec-0123456789abcdef"
	var verified, tampered bool
	rc := newReceiver(t, func(w http.ResponseWriter, last request) {
		verified = verifySignature([]byte(secret), last.Header, last.Body, time.Now())
		tampered = verifySignature([]byte(secret), last.Header, append(last.Body, ' '), time.Now())
		if !verified {
			http.Error(w, "bad signature", http.StatusUnauthorized)
		}
	})
	o := testOptions()
	o.Now = nil // real time: the receiver checks freshness
	s := mustSender(t, "      type: webhook\n      url: "+rc.URL+"\n      secret: "+secret+"\n", o)
	if err := send(t, s, oneAlert()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if !verified || tampered {
		t.Fatalf("verified %v (want true), tampered body verified %v (want false)", verified, tampered)
	}
	r := rc.only(t)
	if got, want := r.Header.Get(SignatureHeader), Sign([]byte(secret), r.Header.Get(TimestampHeader), r.Body); got != want {
		t.Errorf("signature %q, Sign gives %q", got, want)
	}

	// A known vector, computed with openssl:
	// printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac key
	if got, want := Sign([]byte("key"), "1700000000", []byte(`{"a":1}`)), "sha256=a438e398bfafc57e4396bb7fc2304422f0f768e965d073ca313cb52e22e6ad03"; got != want {
		t.Errorf("Sign = %q, want %q", got, want)
	}
}

func TestWebhook_Template(t *testing.T) {
	rc := newReceiver(t, nil)
	s := mustSender(t, `      type: webhook
      url: `+rc.URL+`/put
      method: put
      content_type: text/plain; charset=utf-8
      headers:
        X-Team: ops
        Authorization: Bearer tok-123456
      body_template: |-
        {{.Title}} | {{len .Alerts}} alerts{{range .Alerts}} | {{upper .Severity}} {{json .Summary}} {{rfc3339 .StartsAt}}{{end}}
`, testOptions())
	if err := send(t, s, mixedAlerts()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	r := rc.only(t)
	if r.Method != http.MethodPut || r.Path != "/put" {
		t.Errorf("request %s %s, want PUT /put", r.Method, r.Path)
	}
	checkHeader(t, r.Header, "Content-Type", "text/plain; charset=utf-8")
	checkHeader(t, r.Header, "X-Team", "ops")
	checkHeader(t, r.Header, "Authorization", "Bearer tok-123456")
	want := `[FIRING:1] 1 problems on db-1, 1 resolved: web is down, /var 92.4% used | 2 alerts | CRITICAL "web is down" 2026-03-14T09:21:53Z | WARNING "/var 92.4% used" 2026-03-14T08:26:53Z`
	if string(r.Body) != want {
		t.Errorf("body\n got %s\nwant %s", r.Body, want)
	}
}

func TestWebhook_TemplateFailsAtSend(t *testing.T) {
	big := oneAlert()
	big.Alerts[0].Reason = strings.Repeat("x", maxTemplateBody+1)
	tests := []struct {
		name, tmpl string
		msg        model.AlertMessage
		want       string
	}{
		{"index out of range", `{{(index .Alerts 0).Name}}`, model.AlertMessage{ID: "x", Host: "h", Time: t0}, "index out of range"},
		{"output too large", `{{range .Alerts}}{{.Reason}}{{end}}`, big, "more than 1048576 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t, nil)
			s := mustSender(t, "      type: webhook\n      url: "+rc.URL+"\n      body_template: '"+tt.tmpl+"'\n", testOptions())
			err := send(t, s, tt.msg)
			if err == nil || !IsPermanent(err) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Send = %v (permanent %v), want a permanent error containing %q", err, IsPermanent(err), tt.want)
			}
			if n := len(rc.requests()); n != 0 {
				t.Errorf("receiver got %d requests, want none", n)
			}
		})
	}
}
