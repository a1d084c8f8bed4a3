// Package channel delivers dashd's alert messages to their destinations:
// webhook, ntfy, slack (and Mattermost, Rocket.Chat), discord, telegram,
// email, command and alertmanager. The alert core (routing, grouping, the
// persistent outbox, retries) hands one model.AlertMessage at a time to a
// channel's Sender; this package knows each destination's format, its
// limits and what its answers mean.
//
// Each type lives in its own file: a config struct with yaml tags and a
// Validate method (problems carry file:line:column through config.Scope),
// an unexported Sender, and a build method. Types lists them all for
// config.Options.ChannelTypes; New builds a channel's Sender; Describe
// names its destination without secrets.
//
// # Configuration
//
// Every channel has the common keys name, type, timeout (one attempt,
// default 10s) and max_per_hour (default 60). The type's own keys sit next
// to them. Secrets belong in the environment: write ${VAR}.
//
//	alerts:
//	  channels:
//	    - name: ops-hook
//	      type: webhook
//	      url: https://hooks.example.org/dashd     # required, http(s)
//	      method: POST                             # or PUT
//	      headers: {Authorization: "Bearer ${HOOK_TOKEN}"}
//	      secret: ${HOOK_SECRET}                   # signs each request (below)
//	      body_template: '{"text": {{json .Title}}}' # replaces the default document
//	      content_type: application/json           # the body's type
//	    - name: phone
//	      type: ntfy
//	      url: https://ntfy.sh                     # the server (default)
//	      topic: dashd-ops-7f3a                    # required
//	      token: ${NTFY_TOKEN}                     # or username + password
//	      tags: [prod]                             # added to dashd's
//	    - name: chat
//	      type: slack                              # Mattermost, Rocket.Chat too
//	      url: ${SLACK_WEBHOOK_URL}                # required; its path is secret
//	      channel: "#ops"                          # optional overrides
//	      username: dashd
//	      icon_emoji: ":rotating_light:"
//	    - name: discord
//	      type: discord
//	      url: ${DISCORD_WEBHOOK_URL}              # required; its path is secret
//	      username: dashd                          # optional overrides
//	      avatar_url: https://example.org/dashd.png
//	    - name: tg
//	      type: telegram
//	      bot_token: ${TELEGRAM_BOT_TOKEN}         # required
//	      chat_id: -1001234567890                  # required; or @channelname
//	      api_url: https://api.telegram.org        # default
//	    - name: mail
//	      type: email
//	      host: smtp.example.org                   # required
//	      port: 587                                # default 587 / 465 (tls) / 25 (none)
//	      tls: starttls                            # starttls (default), tls, none
//	      username: dashd@example.org              # optional, with password
//	      password: ${SMTP_PASSWORD}
//	      from: "dashd <dashd@example.org>"        # required
//	      to: [ops@example.org, oncall@example.org] # required, 1 to 100
//	      helo: dash.example.org                   # default this host's name
//	    - name: script
//	      type: command
//	      command: [/usr/local/bin/notify, --team, ops] # required, argv list
//	    - name: am
//	      type: alertmanager
//	      url: http://127.0.0.1:9093               # required, base address
//	      labels: {team: ops}                      # added to every alert
//	      token: ${AM_TOKEN}                       # or username + password (a proxy's)
//
// Every HTTP type also takes ca_file (a PEM bundle trusted instead of the
// system roots) and insecure_skip_verify; so does email.
//
// # HTTP requests
//
// Every request carries Idempotency-Key: the message id, the same on every
// retry of one delivery, so a receiver can drop the duplicate a crash
// between send and mark may cause; and User-Agent: dashd/<version>.
// Redirects are not followed: a 3xx is a permanent error naming where it
// pointed. Connections are not kept alive. At most 64 KiB of an answer is
// read. Proxies come from HTTPS_PROXY/HTTP_PROXY/NO_PROXY, never for
// loopback addresses.
//
// # Webhook document
//
// Without body_template a webhook sends, and a command reads on stdin:
//
//	{
//	  "id": "dashd-db-1-ops-hook-17-19",    // the message id (Idempotency-Key)
//	  "host": "db-1",                       // the dashd host
//	  "title": "[FIRING] web is down (db-1)",
//	  "text": "...",                        // the plain-text message, title first
//	  "alerts": [{                          // model.Alert, one per alert
//	    "key": "check:web", "source": "check", "name": "web",
//	    "labels": {"host": "db-1", "check": "web", ...},
//	    "severity": "critical", "state": "firing",      // or "resolved"
//	    "summary": "web is down", "reason": "HTTP 503", // reason may be absent
//	    "starts_at": "2026-01-02T03:04:05Z",
//	    "ends_at": "...",                   // when resolved
//	    "url": "https://dash.example.org/..." // when alerts.external_url is set
//	  }],
//	  "reminder": false,                    // a repeat of problems still going on
//	  "test": false,                        // "send test message"
//	  "time": "2026-01-02T03:04:06Z"        // when the message was made
//	}
//
// body_template is a Go text/template executed on model.AlertMessage:
// fields .ID .Channel .Host .Alerts .Reminder .Test .ExternalURL .Time,
// methods .Title and .Text, and the functions json (a value as JSON,
// quotes included: {"text": {{json .Text}}}), upper, lower, join and
// rfc3339. It is parsed and run on a sample message when the
// configuration is loaded, so a typo is a file:line:col problem.
//
// # Webhook signatures
//
// With secret set, each request has two more headers:
//
//	X-Dashd-Timestamp: 1767323045
//	X-Dashd-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
//
// The timestamp is the Unix time of the attempt (a retry signs anew). A
// receiver recomputes the HMAC over the raw body, compares in constant
// time, and refuses timestamps more than a few minutes old (a replay):
//
//	ts := r.Header.Get("X-Dashd-Timestamp")
//	mac := hmac.New(sha256.New, secret)
//	mac.Write([]byte(ts + "."))
//	mac.Write(body)
//	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
//	ok := hmac.Equal([]byte(want), []byte(r.Header.Get("X-Dashd-Signature")))
//	t, _ := strconv.ParseInt(ts, 10, 64)
//	fresh := time.Since(time.Unix(t, 0)).Abs() < 5*time.Minute
//
// Sign computes the same value.
//
// # Formats of the other types
//
//   - ntfy: POST <url>/<topic>, the text as body; headers Title,
//     Priority (5 critical, 4 warning, 3 info, 2 when all resolved), Tags
//     (an emoji short code, dashd, the channel's tags), Click (the first
//     alert's link); non-ASCII header text RFC 2047 encoded.
//   - slack: {"text": title, "attachments": [one per alert, at most 20:
//     color, title, title_link, text (the reason), fields Where, Since,
//     Ended]} plus channel, username, icon_emoji when set; &, < and >
//     escaped.
//   - discord: {"content": title (2000 characters at most), "embeds": [one
//     per alert, at most 10: title, description, color, url, timestamp],
//     "allowed_mentions": {"parse": []}}: cut to Discord's limits with a
//     marker; alert text never pings anyone.
//   - telegram: POST <api_url>/bot<token>/sendMessage {"chat_id", "text",
//     "parse_mode": "HTML", "disable_web_page_preview": true}: the title in
//     bold, the text escaped, 4096 characters at most.
//   - email: Subject the title, text/plain UTF-8 quoted-printable body,
//     Message-ID <id@host> from the message id, Date, Auto-Submitted,
//     X-Dashd-Alert-Keys. AUTH PLAIN or LOGIN only over TLS (or to this
//     machine); starttls refuses a server that does not offer STARTTLS.
//   - command: the argv run without a shell, the webhook document on stdin,
//     DASHD_MESSAGE_ID, DASHD_CHANNEL and DASHD_TITLE in the environment;
//     killed with its process group at the channel's timeout.
//   - alertmanager: POST <url>/api/v2/alerts, a list with one alert per
//     dashd alert: labels (the alert's, alertname = its name, severity,
//     dashd_source, the channel's labels), annotations (summary,
//     description = the reason, dashd_url), startsAt, endsAt (a resolved
//     alert's end; while firing now + AlertmanagerWindow, so Alertmanager
//     resolves an alert dashd stopped talking about), generatorURL.
//
// # Errors
//
// A Sender's error is retried by the alert core with backoff unless
// IsPermanent says retrying cannot help:
//
//   - HTTP: 2xx delivered; 408, 425, 429 and 5xx retried (RetryAfter gives
//     the Retry-After wait, or Telegram's and Discord's retry_after); 3xx
//     and every other 4xx permanent. No answer at all (refused, timeout,
//     TLS) is retried.
//   - email: SMTP 4xx retried, 5xx permanent (a refused recipient, failed
//     authentication); see the email Sender for partial delivery.
//   - command: exit 0 delivered; 64-78 (sysexits.h) except 75 EX_TEMPFAIL
//     permanent; any other exit, a signal, or the timeout retried.
//
// Error texts never hold a channel's secrets: tokens, passwords, secret
// headers, and the paths of Slack, Discord and Telegram URLs are replaced
// by ***, even when a destination echoes them back.
package channel
