package channel

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/internal/golden"
)

const telegramKeys = "      type: telegram\n      bot_token: 123456:AAbbCC-dd_EE\n      chat_id: -1001234567890\n"

func TestTelegram_Request(t *testing.T) {
	rc := newReceiver(t, func(w http.ResponseWriter, got request) {
		_, _ = w.Write([]byte(`{"ok":true,"result":{"message_id":7}}`))
	})
	s := mustSender(t, telegramKeys+"      api_url: "+rc.URL+"/tg/\n", testOptions())
	if err := send(t, s, mixedAlerts()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	r := rc.only(t)
	if r.Method != http.MethodPost || r.Path != "/tg/bot123456:AAbbCC-dd_EE/sendMessage" {
		t.Errorf("request %s %s", r.Method, r.Path)
	}
	checkHeader(t, r.Header, "Content-Type", "application/json")
	golden.Assert(t, "telegram_mixed.json", indentJSON(t, r.Body))
	var got map[string]any
	if err := json.Unmarshal(r.Body, &got); err != nil {
		t.Fatal(err)
	}
	// chat_id goes as a number; the reason's markup is escaped.
	if id, ok := got["chat_id"].(float64); !ok || id != -1001234567890 {
		t.Errorf("chat_id %#v, want the number", got["chat_id"])
	}
	if text := got["text"].(string); !strings.Contains(text, "HTTP 503 &lt;Service Unavailable&gt; &amp; more") || !strings.HasPrefix(text, "<b>[FIRING:1]") {
		t.Errorf("text not escaped HTML with a bold title: %s", text)
	}
}

func TestTelegram_LongTextCut(t *testing.T) {
	rc := newReceiver(t, func(w http.ResponseWriter, got request) { _, _ = w.Write([]byte(`{"ok":true}`)) })
	s := mustSender(t, telegramKeys+"      api_url: "+rc.URL+"\n", testOptions())
	m := oneAlert()
	m.Alerts[0].Reason = strings.Repeat("<😀>", 3000) // 4 UTF-16 units each, escaped to 9 bytes
	if err := send(t, s, m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	var got telegramRequest
	if err := json.Unmarshal(rc.only(t).Body, &got); err != nil {
		t.Fatal(err)
	}
	// What Telegram counts: the text after HTML parsing.
	parsed := strings.NewReplacer("<b>", "", "</b>", "", "&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(got.Text)
	if n := utf16Len(parsed); n > telegramMaxText || n < telegramMaxText-10 {
		t.Errorf("parsed text is %d UTF-16 units, want at most (and near) %d", n, telegramMaxText)
	}
	if !strings.HasSuffix(got.Text, "(truncated)") || strings.Contains(got.Text, "&l\n") {
		t.Errorf("cut text ends %q", got.Text[len(got.Text)-40:])
	}
}

func TestTelegram_Errors(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		permanent bool
		wait      time.Duration
		contains  string
	}{
		{"rate limited", 429, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 35","parameters":{"retry_after":35}}`, false, 35 * time.Second, "Too Many Requests: retry after 35"},
		{"chat not found", 400, `{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`, true, 0, "HTTP 400 Bad Request: Bad Request: chat not found"},
		{"bad token", 401, `{"ok":false,"error_code":401,"description":"Unauthorized"}`, true, 0, "HTTP 401"},
		{"bot blocked", 403, `{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}`, true, 0, "bot was blocked"},
		{"group migrated", 400, `{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1009876}}`, true, 0, "set chat_id to it"},
		{"server error", 502, `<html>Bad Gateway</html>`, false, 0, "HTTP 502"},
		{"ok false on 200", 200, `{"ok":false,"description":"strange"}`, false, 0, "not sent: strange"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t, func(w http.ResponseWriter, got request) {
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			})
			s := mustSender(t, telegramKeys+"      api_url: "+rc.URL+"\n", testOptions())
			err := send(t, s, oneAlert())
			if err == nil {
				t.Fatal("Send succeeded")
			}
			wait, _ := RetryAfter(err)
			if IsPermanent(err) != tt.permanent || wait != tt.wait || !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("Send = %v (permanent %v, wait %v); want permanent %v, wait %v, containing %q", err, IsPermanent(err), wait, tt.permanent, tt.wait, tt.contains)
			}
			if strings.Contains(err.Error(), "AAbbCC-dd_EE") || !strings.Contains(err.Error(), "/bot***/sendMessage") {
				t.Errorf("error shows the token or not the redacted URL: %v", err)
			}
		})
	}
}
