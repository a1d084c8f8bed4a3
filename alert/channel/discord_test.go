package channel

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/dashd/dashd/internal/golden"
)

func TestDiscord_Request(t *testing.T) {
	rc := newReceiver(t, func(w http.ResponseWriter, got request) { w.WriteHeader(http.StatusNoContent) })
	s := mustSender(t, "      type: discord\n      url: "+rc.URL+"/api/webhooks/1/tok\n      username: dashd\n", testOptions())
	if err := send(t, s, mixedAlerts()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	r := rc.only(t)
	if r.Method != http.MethodPost || r.Path != "/api/webhooks/1/tok" {
		t.Errorf("request %s %s", r.Method, r.Path)
	}
	checkHeader(t, r.Header, "Content-Type", "application/json")
	golden.Assert(t, "discord_mixed.json", indentJSON(t, r.Body))
}

func TestDiscord_Limits(t *testing.T) {
	long := oneAlert()
	long.Alerts[0].Summary = strings.Repeat("s", 3000)
	long.Alerts[0].Reason = strings.Repeat("r", 9000)
	many := oneAlert()
	many.Alerts = nil
	for i := 0; i < 25; i++ {
		a := webAlert()
		a.Key = fmt.Sprintf("check:w%d", i)
		a.Summary = fmt.Sprintf("w%d %s", i, strings.Repeat("é", 400))
		a.Reason = strings.Repeat("ü", 2000)
		many.Alerts = append(many.Alerts, a)
	}
	tests := []struct {
		name     string
		embeds   int
		lastText string
	}{
		{"one long alert", 1, ""},
		{"25 alerts", 10, "… and 16 more"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t, nil)
			s := mustSender(t, "      type: discord\n      url: "+rc.URL+"/api/webhooks/1/tok\n", testOptions())
			m := long
			if i == 1 {
				m = many
			}
			if err := send(t, s, m); err != nil {
				t.Fatalf("Send: %v", err)
			}
			var got discordMessage
			if err := json.Unmarshal(rc.only(t).Body, &got); err != nil {
				t.Fatal(err)
			}
			if n := utf8.RuneCountInString(got.Content); n > discordMaxContent {
				t.Errorf("content has %d characters", n)
			}
			if len(got.Embeds) != tt.embeds {
				t.Fatalf("%d embeds, want %d", len(got.Embeds), tt.embeds)
			}
			total := 0
			for _, e := range got.Embeds {
				nt, nd := utf8.RuneCountInString(e.Title), utf8.RuneCountInString(e.Description)
				if nt > discordMaxTitle || nd > discordMaxDescription {
					t.Errorf("embed title %d, description %d characters", nt, nd)
				}
				total += nt + nd
			}
			if total > discordMaxEmbedTotal {
				t.Errorf("embeds hold %d characters, more than %d", total, discordMaxEmbedTotal)
			}
			if !strings.HasSuffix(got.Embeds[0].Description, truncatedMarker) || !strings.HasSuffix(got.Embeds[0].Title, "…") {
				t.Errorf("a cut text lacks the marker: title %q..., description ...%q", got.Embeds[0].Title[:20], got.Embeds[0].Description[len(got.Embeds[0].Description)-20:])
			}
			if tt.lastText != "" && got.Embeds[len(got.Embeds)-1].Title != tt.lastText {
				t.Errorf("last embed %q, want %q", got.Embeds[len(got.Embeds)-1].Title, tt.lastText)
			}
			if got.AllowedMentions.Parse == nil || len(got.AllowedMentions.Parse) != 0 {
				t.Errorf("allowed_mentions.parse = %v, want []", got.AllowedMentions.Parse)
			}
		})
	}
}

func TestDiscord_RetryAfterInBody(t *testing.T) {
	rc := newReceiver(t, func(w http.ResponseWriter, got request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"message": "You are being rate limited.", "retry_after": 2.5, "global": false}`))
	})
	s := mustSender(t, "      type: discord\n      url: "+rc.URL+"/api/webhooks/1/tok\n", testOptions())
	err := send(t, s, oneAlert())
	if wait, ok := RetryAfter(err); !ok || wait != 2500*time.Millisecond || IsPermanent(err) {
		t.Fatalf("Send = %v; RetryAfter %v %v, want 2.5s", err, wait, ok)
	}
}
