package channel

import (
	"mime"
	"net/http"
	"testing"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/internal/golden"
	"github.com/dashd/dashd/model"
)

func TestNtfy_Request(t *testing.T) {
	resolved := oneAlert()
	resolved.Alerts = []model.Alert{diskAlert()}
	warning := oneAlert()
	warning.Alerts[0].Severity = config.SeverityWarning
	info := oneAlert()
	info.Alerts[0].Severity = config.SeverityInfo
	info.Alerts[0].URL = ""
	unicode := oneAlert()
	unicode.Alerts[0].Summary = "Größe überschritten\r\nzweite Zeile"
	tests := []struct {
		name     string
		auth     string
		msg      model.AlertMessage
		title    string
		priority string
		tags     string
		click    string
		authz    string
	}{
		{"critical with token", "      token: tk_abc\n", oneAlert(), "[FIRING] web is down (db-1)", "5", "rotating_light,dashd,prod", "https://dash.example.org/checks/web", "Bearer tk_abc"},
		{"warning with basic auth", "      username: bob\n      password: pa55\n", warning, "[FIRING] web is down (db-1)", "4", "warning,dashd,prod", "https://dash.example.org/checks/web", "Basic Ym9iOnBhNTU="},
		{"info without link", "", info, "[FIRING] web is down (db-1)", "3", "information_source,dashd,prod", "", ""},
		{"resolved", "", resolved, "[RESOLVED] /var 92.4% used (db-1)", "2", "white_check_mark,dashd,prod", "https://dash.example.org/host", ""},
		{"non-ASCII title", "", unicode, "[FIRING] Größe überschritten  zweite Zeile (db-1)", "5", "rotating_light,dashd,prod", "https://dash.example.org/checks/web", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t, nil)
			s := mustSender(t, "      type: ntfy\n      url: "+rc.URL+"/\n      topic: dashd_ops-1\n      tags: [prod]\n"+tt.auth, testOptions())
			if err := send(t, s, tt.msg); err != nil {
				t.Fatalf("Send: %v", err)
			}
			r := rc.only(t)
			if r.Method != http.MethodPost || r.Path != "/dashd_ops-1" {
				t.Errorf("request %s %s, want POST /dashd_ops-1", r.Method, r.Path)
			}
			var dec mime.WordDecoder
			title, err := dec.DecodeHeader(r.Header.Get("Title"))
			if err != nil || title != tt.title {
				t.Errorf("Title %q decodes to %q (%v), want %q", r.Header.Get("Title"), title, err, tt.title)
			}
			checkHeader(t, r.Header, "Priority", tt.priority)
			checkHeader(t, r.Header, "Tags", tt.tags)
			checkHeader(t, r.Header, "Click", tt.click)
			checkHeader(t, r.Header, "Authorization", tt.authz)
			checkHeader(t, r.Header, "Content-Type", "text/plain; charset=utf-8")
			if tt.name == "critical with token" {
				golden.Assert(t, "ntfy_body.txt", r.Body)
			}
		})
	}
}
