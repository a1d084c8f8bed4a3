package channel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// httpType is an HTTP channel type under the shared failure tests: its
// keys pointing at a base URL, and the secrets its errors must never show.
type httpType struct {
	name    string
	keys    func(base string) string
	secrets []string
}

func httpTypes() []httpType {
	return []httpType{
		{"webhook", func(base string) string {
			base = strings.Replace(base, "http://", "http://hookuser:pw-in-url-77@", 1)
			return "      type: webhook\n      url: " + base + "/hook\n      secret: wh-hmac-secret-xyz\n" +
				"      headers:\n        Authorization: Bearer wh-token-abcdef\n"
		}, []string{"pw-in-url-77", "wh-hmac-secret-xyz", "wh-token-abcdef"}},
		{"ntfy", func(base string) string {
			return "      type: ntfy\n      url: " + base + "\n      topic: secret-topic-42\n      token: tk_ntfytoken99\n"
		}, []string{"secret-topic-42", "tk_ntfytoken99"}},
		{"slack", func(base string) string {
			return "      type: slack\n      url: " + base + "/services/T0001/B0001/slackSECRETxyz\n"
		}, []string{"slackSECRETxyz", "T0001/B0001"}},
		{"discord", func(base string) string {
			return "      type: discord\n      url: " + base + "/api/webhooks/1234567890/discordSECRETtoken\n"
		}, []string{"discordSECRETtoken"}},
		{"telegram", func(base string) string {
			return "      type: telegram\n      api_url: " + base + "\n      bot_token: 123456:TGsecretTOKENabc\n      chat_id: 42\n"
		}, []string{"TGsecretTOKENabc"}},
		{"alertmanager", func(base string) string {
			return "      type: alertmanager\n      url: " + base + "\n      username: am-user\n      password: am-pass-secret\n"
		}, []string{"am-pass-secret", "YW0tdXNlcjphbS1wYXNzLXNlY3JldA=="}},
	}
}

// echo answers with status, the given headers, and a body quoting the
// request's path and credentials back, as a careless server might.
func echo(status int, header map[string]string) func(http.ResponseWriter, request) {
	return func(w http.ResponseWriter, got request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, "refused %s auth=%q sig=%q topic=%s body=%.200s", got.Path, got.Header.Get("Authorization"),
			got.Header.Get(SignatureHeader), got.Path, got.Body)
	}
}

func TestHTTPChannels_Failures(t *testing.T) {
	cases := []struct {
		name      string
		status    int
		header    map[string]string
		permanent bool
		wait      time.Duration // 0: none
		contains  string
	}{
		{"500 retried", 500, nil, false, 0, "HTTP 500 Internal Server Error: refused"},
		{"502 retried", 502, nil, false, 0, "HTTP 502"},
		{"503 with Retry-After", 503, map[string]string{"Retry-After": "120"}, false, 2 * time.Minute, "HTTP 503"},
		{"400 permanent", 400, nil, true, 0, "HTTP 400 Bad Request"},
		{"401 permanent", 401, nil, true, 0, "HTTP 401"},
		{"404 permanent", 404, nil, true, 0, "HTTP 404"},
		{"408 retried", 408, nil, false, 0, "HTTP 408"},
		{"425 retried", 425, nil, false, 0, "HTTP 425"},
		{"429 with Retry-After seconds", 429, map[string]string{"Retry-After": "7"}, false, 7 * time.Second, "HTTP 429 Too Many Requests"},
		{"429 with Retry-After date", 429, map[string]string{"Retry-After": fixedNow().Add(90 * time.Second).Format(http.TimeFormat)}, false, 90 * time.Second, "HTTP 429"},
		{"429 without Retry-After", 429, nil, false, 0, "HTTP 429"},
	}
	for _, ty := range httpTypes() {
		for _, tc := range cases {
			t.Run(ty.name+"/"+tc.name, func(t *testing.T) {
				rc := newReceiver(t, echo(tc.status, tc.header))
				s := mustSender(t, ty.keys(rc.URL), testOptions())
				err := send(t, s, oneAlert())
				if err == nil {
					t.Fatal("Send succeeded, want an error")
				}
				if IsPermanent(err) != tc.permanent {
					t.Errorf("IsPermanent = %v, want %v (%v)", IsPermanent(err), tc.permanent, err)
				}
				wait, ok := RetryAfter(err)
				if ok != (tc.wait > 0) || wait != tc.wait {
					t.Errorf("RetryAfter = %v, %v; want %v", wait, ok, tc.wait)
				}
				msg := err.Error()
				if !strings.Contains(msg, tc.contains) || !strings.HasPrefix(msg, ty.name+" ch: POST ") {
					t.Errorf("error %q, want prefix %q and %q in it", msg, ty.name+" ch: POST ", tc.contains)
				}
				for _, sec := range ty.secrets {
					if strings.Contains(msg, sec) {
						t.Errorf("error shows secret %q: %s", sec, msg)
					}
				}
				if n := len(rc.requests()); n != 1 {
					t.Errorf("receiver got %d requests, want 1", n)
				}
			})
		}
	}
}

func TestHTTPChannels_Unreachable(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Reading the body lets the server notice the client leave.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(20 * time.Second):
		}
	}))
	t.Cleanup(slow.Close)
	for _, ty := range httpTypes() {
		t.Run(ty.name+"/connection refused", func(t *testing.T) {
			s := mustSender(t, ty.keys("http://"+closedPort(t)), testOptions())
			err := send(t, s, oneAlert())
			if err == nil || IsPermanent(err) || !strings.Contains(err.Error(), "connection refused") {
				t.Fatalf("Send = %v (permanent %v), want a retried connection refused", err, IsPermanent(err))
			}
			for _, sec := range ty.secrets {
				if strings.Contains(err.Error(), sec) {
					t.Errorf("error shows secret %q: %s", sec, err)
				}
			}
		})
		t.Run(ty.name+"/timeout", func(t *testing.T) {
			s := mustSender(t, ty.keys(slow.URL)+"      timeout: 300ms\n", testOptions())
			start := time.Now()
			err := send(t, s, oneAlert())
			if err == nil || IsPermanent(err) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Send = %v (permanent %v), want a retried deadline exceeded", err, IsPermanent(err))
			}
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("Send took %s with a 300ms timeout", took)
			}
			for _, sec := range ty.secrets {
				if strings.Contains(err.Error(), sec) {
					t.Errorf("error shows secret %q: %s", sec, err)
				}
			}
		})
	}
}

func TestHTTPChannels_RedirectRefused(t *testing.T) {
	for _, ty := range httpTypes() {
		t.Run(ty.name, func(t *testing.T) {
			elsewhere := newReceiver(t, nil)
			rc := newReceiver(t, echo(http.StatusFound, map[string]string{"Location": elsewhere.URL + "/moved?token=loc-secret-1"}))
			s := mustSender(t, ty.keys(rc.URL), testOptions())
			err := send(t, s, oneAlert())
			if err == nil || !IsPermanent(err) {
				t.Fatalf("Send = %v, want a permanent error", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, "redirected to "+elsewhere.URL+"/moved") || !strings.Contains(msg, "not followed") {
				t.Errorf("error %q does not name the redirect target", msg)
			}
			if strings.Contains(msg, "loc-secret-1") {
				t.Errorf("error shows the Location's token: %s", msg)
			}
			if n := len(elsewhere.requests()); n != 0 {
				t.Errorf("the redirect was followed: %d requests elsewhere", n)
			}
		})
	}
}

func TestHTTPChannels_CommonHeaders(t *testing.T) {
	for _, ty := range httpTypes() {
		t.Run(ty.name, func(t *testing.T) {
			rc := newReceiver(t, func(w http.ResponseWriter, got request) {
				if ty.name == "telegram" {
					_, _ = w.Write([]byte(`{"ok":true,"result":{}}`))
				}
			})
			s := mustSender(t, ty.keys(rc.URL), testOptions())
			if err := send(t, s, oneAlert()); err != nil {
				t.Fatalf("Send: %v", err)
			}
			r := rc.only(t)
			checkHeader(t, r.Header, "Idempotency-Key", oneAlert().ID)
			checkHeader(t, r.Header, "User-Agent", "dashd/1.2.3")
			if r.Method != http.MethodPost {
				t.Errorf("method %s, want POST", r.Method)
			}
		})
	}
}

func TestHTTPChannels_LongErrorBodyBounded(t *testing.T) {
	rc := newReceiver(t, func(w http.ResponseWriter, got request) {
		w.WriteHeader(500)
		_, _ = w.Write([]byte(strings.Repeat("a\x00\n", 200<<10)))
	})
	s := mustSender(t, "      type: webhook\n      url: "+rc.URL+"\n", testOptions())
	err := send(t, s, oneAlert())
	if err == nil {
		t.Fatal("Send succeeded")
	}
	if n := len(err.Error()); n > 1000 || strings.ContainsAny(err.Error(), "\x00\n") {
		t.Errorf("error is %d bytes or holds control characters: %.200q", n, err.Error())
	}
}
