package channel

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/config"
)

// Problems are checked with their file:line:col. In channelYAML the
// channel's mapping starts at 3:7; its keys sit at column 7 from line 4
// on, so a value is at column 9 + len(key).

func TestConfig_Problems(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		keys string
		want string // a problem line starts with it
		// hidden must not appear in any problem.
		hidden string
	}{
		// webhook
		{"webhook without url", "      type: webhook\n", "c.yaml:3:7: alerts.channels[0].url: missing required key", ""},
		{"webhook url not http", "      type: webhook\n      url: ftp://x/y\n", `c.yaml:5:12: alerts.channels[0].url: must be an http:// or https:// URL with a host, got "ftp://x/y"`, ""},
		{"webhook url password hidden", "      type: webhook\n      url: ftp://u:hunter22@x/\n", `c.yaml:5:12: alerts.channels[0].url: must be an http:// or https:// URL with a host, got "ftp://u:***@x/"`, "hunter22"},
		{"webhook method", "      type: webhook\n      url: http://x\n      method: DELETE\n", `c.yaml:6:15: alerts.channels[0].method: must be POST or PUT, got "DELETE"`, ""},
		{"webhook template syntax", "      type: webhook\n      url: http://x\n      body_template: '{{.Title}'\n", `c.yaml:6:22: alerts.channels[0].body_template: bad template: body_template:1: bad character U+007D`, ""},
		{"webhook template field", "      type: webhook\n      url: http://x\n      body_template: '{{.Titel}}'\n", `c.yaml:6:22: alerts.channels[0].body_template: template fails on a sample message: body_template:1:2: executing "body_template" at <.Titel>: can't evaluate field Titel`, ""},
		{"webhook template function", "      type: webhook\n      url: http://x\n      body_template: '{{shout .Title}}'\n", `c.yaml:6:22: alerts.channels[0].body_template: bad template: body_template:1: function "shout" not defined`, ""},
		{"webhook reserved header", "      type: webhook\n      url: http://x\n      headers:\n        Content-Length: \"3\"\n", "c.yaml:7:25: alerts.channels[0].headers.Content-Length: Content-Length is set by dashd", ""},
		{"webhook content type header", "      type: webhook\n      url: http://x\n      headers:\n        content-type: text/plain\n", "c.yaml:7:23: alerts.channels[0].headers.content-type: set the body's type with content_type", ""},
		{"webhook bad header name", "      type: webhook\n      url: http://x\n      headers:\n        \"X Bad\": v\n", `c.yaml:7:18: alerts.channels[0].headers.X Bad: "X Bad" is not a valid header name`, ""},
		{"webhook bad content type", "      type: webhook\n      url: http://x\n      content_type: \"json/\"\n", `c.yaml:6:21: alerts.channels[0].content_type: "json/" is not a media type`, ""},
		{"webhook empty secret", "      type: webhook\n      url: http://x\n      secret: \"\"\n", "c.yaml:6:15: alerts.channels[0].secret: must not be empty", ""},
		{"missing ca_file", "      type: webhook\n      url: http://x\n      ca_file: " + filepath.Join(dir, "nope.pem") + "\n", "c.yaml:6:16: alerts.channels[0].ca_file: cannot read " + filepath.Join(dir, "nope.pem") + ": no such file or directory", ""},
		{"ca_file without PEM", "      type: webhook\n      url: http://x\n      ca_file: " + notPEM + "\n", "c.yaml:6:16: alerts.channels[0].ca_file: " + notPEM + " holds no PEM certificate", ""},
		{"ca_file with insecure", "      type: webhook\n      url: http://x\n      ca_file: " + notPEM + "\n      insecure_skip_verify: true\n", "c.yaml:6:16: alerts.channels[0].ca_file: has no effect with insecure_skip_verify: true", ""},
		{"unknown key", "      type: webhook\n      urll: http://x\n", `c.yaml:5:7: alerts.channels[0].urll: unknown key (did you mean "url"?)`, ""},
		// ntfy
		{"ntfy without topic", "      type: ntfy\n", "c.yaml:3:7: alerts.channels[0].topic: missing required key", ""},
		{"ntfy bad topic", "      type: ntfy\n      topic: a/b\n", "c.yaml:5:14: alerts.channels[0].topic: must be 1 to 64 letters", ""},
		{"ntfy token and user", "      type: ntfy\n      topic: t\n      token: tk_0123456789\n      username: u\n      password: p\n", "c.yaml:6:14: alerts.channels[0].token: use either token or username/password", "tk_0123456789"},
		{"ntfy user without password", "      type: ntfy\n      topic: t\n      username: u\n", "c.yaml:6:17: alerts.channels[0].username: username and password go together", ""},
		// slack and discord: the URL's path is secret even in problems
		{"slack url without scheme", "      type: slack\n      url: hooks.slack.com/services/T1/B2/sekrit-path-token\n", `c.yaml:5:12: alerts.channels[0].url: must be an http:// or https:// URL with a host, got "***"`, "sekrit-path-token"},
		{"slack url with fragment", "      type: slack\n      url: https://hooks.slack.com/services/T1/B2/sekrit-path-token#x\n", `c.yaml:5:12: alerts.channels[0].url: must not have a #fragment (it is never sent), got "https://hooks.slack.com/***"`, "sekrit-path-token"},
		{"slack multi-line channel", "      type: slack\n      url: https://h/x\n      channel: \"a\\nb\"\n", "c.yaml:6:16: alerts.channels[0].channel: must be one line", ""},
		{"discord without url", "      type: discord\n", "c.yaml:3:7: alerts.channels[0].url: missing required key", ""},
		{"discord ftp url", "      type: discord\n      url: ftp://discord.com/api/webhooks/1/sekrit-path-token\n", `c.yaml:5:12: alerts.channels[0].url: must be an http:// or https:// URL with a host, got "ftp://discord.com/***"`, "sekrit-path-token"},
		{"discord bad avatar", "      type: discord\n      url: https://h/x\n      avatar_url: pic.png\n", `c.yaml:6:19: alerts.channels[0].avatar_url: must be an http:// or https:// URL with a host, got "pic.png"`, ""},
		// telegram
		{"telegram without token", "      type: telegram\n      chat_id: 1\n", "c.yaml:3:7: alerts.channels[0].bot_token: missing required key", ""},
		{"telegram bad token", "      type: telegram\n      bot_token: not-a-token-secret99\n      chat_id: 1\n", "c.yaml:5:18: alerts.channels[0].bot_token: is not a bot token", "not-a-token-secret99"},
		{"telegram without chat", "      type: telegram\n      bot_token: 1:abc\n", "c.yaml:3:7: alerts.channels[0].chat_id: missing required key", ""},
		{"telegram bad chat", "      type: telegram\n      bot_token: 1:abc\n      chat_id: \"my chat\"\n", `c.yaml:6:16: alerts.channels[0].chat_id: must be a chat number such as -1001234567890 or a channel's @name, got "my chat"`, ""},
		{"telegram bad api url", "      type: telegram\n      bot_token: 1:abc\n      chat_id: 1\n      api_url: api.telegram.org\n", `c.yaml:7:16: alerts.channels[0].api_url: must be an http:// or https:// URL with a host`, ""},
		// email
		{"email without host", "      type: email\n      from: a@example.org\n      to: [b@example.org]\n", "c.yaml:3:7: alerts.channels[0].host: missing required key", ""},
		{"email host with port", "      type: email\n      host: smtp.example.org:587\n      from: a@example.org\n      to: [b@example.org]\n", `c.yaml:5:13: alerts.channels[0].host: must be a host name or address alone (the port goes in port:), got "smtp.example.org:587"`, ""},
		{"email no TLS to another host", "      type: email\n      host: smtp.example.org\n      tls: none\n      from: a@example.org\n      to: [b@example.org]\n", "c.yaml:6:12: alerts.channels[0].tls: none sends mail (and any password) in clear text: only allowed for a server on this machine", ""},
		{"email unknown TLS mode", "      type: email\n      host: smtp.example.org\n      tls: ssl\n      from: a@example.org\n      to: [b@example.org]\n", `c.yaml:6:12: alerts.channels[0].tls: must be starttls, tls or none, got "ssl"`, ""},
		{"email password without user", "      type: email\n      host: smtp.example.org\n      password: pw-secret-5678\n      from: a@example.org\n      to: [b@example.org]\n", "c.yaml:3:7: alerts.channels[0].username: username and password go together", "pw-secret-5678"},
		{"email bad from", "      type: email\n      host: smtp.example.org\n      from: dashd\n      to: [b@example.org]\n", `c.yaml:6:13: alerts.channels[0].from: "dashd" is not a mail address such as ops@example.org`, ""},
		{"email without recipients", "      type: email\n      host: smtp.example.org\n      from: a@example.org\n", "c.yaml:3:7: alerts.channels[0].to: must list at least one recipient", ""},
		{"email bad recipient", "      type: email\n      host: smtp.example.org\n      from: a@example.org\n      to: [b@example.org, \"c@\"]\n", `c.yaml:7:27: alerts.channels[0].to[1]: "c@" is not a mail address`, ""},
		{"email bad port", "      type: email\n      host: smtp.example.org\n      port: 70000\n      from: a@example.org\n      to: [b@example.org]\n", "c.yaml:6:13: alerts.channels[0].port: must be between 1 and 65535, got 70000", ""},
		// command
		{"command shell string", "      type: command\n      command: notify --all\n", "c.yaml:5:16: alerts.channels[0].command: must be a list (program, then arguments), never a shell string", ""},
		{"command missing", "      type: command\n", "c.yaml:3:7: alerts.channels[0].command: missing required key", ""},
		{"command empty program", "      type: command\n      command: [\"\", x]\n", "c.yaml:5:17: alerts.channels[0].command[0]: the program must not be empty", ""},
		{"command line in one item", "      type: command\n      command: [\"notify | tee\"]\n", "c.yaml:5:17: alerts.channels[0].command[0]: looks like a shell command line", ""},
		// alertmanager
		{"alertmanager without url", "      type: alertmanager\n", "c.yaml:3:7: alerts.channels[0].url: missing required key", ""},
		{"alertmanager bad label", "      type: alertmanager\n      url: http://127.0.0.1:9093\n      labels: {\"1team\": ops}\n", `c.yaml:6:25: alerts.channels[0].labels.1team: "1team" is not a label name`, ""},
		{"alertmanager token and basic", "      type: alertmanager\n      url: http://x\n      token: am-tok-4444\n      username: u\n      password: p\n", "c.yaml:6:14: alerts.channels[0].token: use either token or username/password", "am-tok-4444"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, probs := parseConfig(t, channelYAML(tt.keys))
			found := false
			for _, p := range probs {
				found = found || strings.HasPrefix(p, tt.want)
				if tt.hidden != "" && strings.Contains(p, tt.hidden) {
					t.Errorf("problem shows %q: %s", tt.hidden, p)
				}
			}
			if !found {
				t.Errorf("no problem starting with\n  %s\ngot\n  %s", tt.want, strings.Join(probs, "\n  "))
			}
		})
	}
}

func TestConfig_ValidAndDefaults(t *testing.T) {
	cfg, probs := parseConfig(t, `alerts:
  channels:
    - name: hook
      type: webhook
      url: http://127.0.0.1:9999/hook
      method: put
    - name: phone
      type: ntfy
      topic: dashd-ops
    - name: tg
      type: telegram
      bot_token: 123:abc
      chat_id: "@dashd_alerts"
    - name: mail
      type: email
      host: ::1
      tls: none
      username: u
      password: p
      from: a@example.org
      to: [b@example.org]
    - name: smtps
      type: email
      host: smtp.example.org
      tls: tls
      from: a@example.org
      to: [b@example.org, c@example.org]
    - name: script
      type: command
      command: [/usr/local/bin/notify, --team, ops]
      timeout: 3s
    - name: am
      type: alertmanager
      url: http://127.0.0.1:9093
    - name: chat
      type: slack
      url: https://hooks.slack.com/services/T1/B2/XYZ
    - name: disc
      type: discord
      url: https://discord.com/api/webhooks/1/tok
`)
	if probs != nil {
		t.Fatalf("problems:\n%s", strings.Join(probs, "\n"))
	}
	ch := cfg.Alerts.Channels
	if w := ch[0].Spec.(*WebhookSpec); w.Method != "PUT" || w.ContentType != DefaultWebhookContentType {
		t.Errorf("webhook defaults: %+v", w)
	}
	if n := ch[1].Spec.(*NtfySpec); n.URL != DefaultNtfyURL {
		t.Errorf("ntfy url %q", n.URL)
	}
	if tg := ch[2].Spec.(*TelegramSpec); tg.APIURL != DefaultTelegramAPI {
		t.Errorf("telegram api_url %q", tg.APIURL)
	}
	if ch[5].Timeout.D() != 3*time.Second || ch[6].Timeout.D() != config.DefaultChannelTimeout {
		t.Errorf("timeouts %s, %s", ch[5].Timeout, ch[6].Timeout)
	}
	wantDescribe := []string{
		"webhook to 127.0.0.1:9999",
		"ntfy to ntfy.sh",
		"telegram to chat @dashd_alerts via api.telegram.org",
		"email to 1 recipient via [::1]:25",
		"email to 2 recipients via smtp.example.org:465",
		"command notify",
		"alertmanager at 127.0.0.1:9093",
		"slack to hooks.slack.com",
		"discord to discord.com",
	}
	for i, want := range wantDescribe {
		if got := Describe(ch[i]); got != want {
			t.Errorf("Describe(%s) = %q, want %q", ch[i].Name, got, want)
		}
		if _, err := New(ch[i], Options{}); err != nil {
			t.Errorf("New(%s): %v", ch[i].Name, err)
		}
	}
}

func TestNew_RefusesUnbuiltSpec(t *testing.T) {
	if _, err := New(config.Channel{Name: "x", Type: "pager"}, Options{}); err == nil || !strings.Contains(err.Error(), `alert channel "x"`) {
		t.Errorf("New without a spec = %v", err)
	}
	if got := Describe(config.Channel{Type: "pager"}); got != "pager" {
		t.Errorf("Describe without a spec = %q", got)
	}
}

func TestTypes_OneEntryPerFile(t *testing.T) {
	for name, mk := range Types() {
		if _, ok := mk().(spec); !ok {
			t.Errorf("type %s: spec %T cannot build a Sender", name, mk())
		}
		if _, err := os.Stat(name + ".go"); err != nil {
			t.Errorf("type %s has no file %s.go", name, name)
		}
	}
}
