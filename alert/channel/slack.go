package channel

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/model"
)

// SlackSpec configures a Slack incoming webhook; Mattermost and Rocket.Chat
// accept the same requests on their incoming webhooks.
type SlackSpec struct {
	// URL is the webhook URL; its path is a secret and never shown.
	URL string `yaml:"url"`
	// Channel, Username and IconEmoji override the webhook's defaults
	// where the server allows it ("#ops", "dashd", ":rotating_light:").
	Channel            string `yaml:"channel"`
	Username           string `yaml:"username"`
	IconEmoji          string `yaml:"icon_emoji"`
	CAFile             string `yaml:"ca_file"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// maxSlackAttachments bounds a message's attachments (one per alert); the
// last one says how many more alerts there are.
const maxSlackAttachments = 20

// maxSlackText bounds each text field (Slack cuts messages near 40,000
// characters).
const maxSlackText = 3000

func newSlackSpec() *SlackSpec { return &SlackSpec{} }

// Validate reports problems with positions.
func (sl *SlackSpec) Validate(s config.Scope) {
	validateHTTPURL(s, "url", sl.URL, secretPath)
	for key, v := range map[string]string{"channel": sl.Channel, "username": sl.Username, "icon_emoji": sl.IconEmoji} {
		if strings.ContainsAny(v, "\r\n") {
			s.Errorf(key, "must be one line")
		}
	}
	validateTLS(s, sl.CAFile, sl.InsecureSkipVerify)
}

func (sl *SlackSpec) describe() string { return "slack to " + hostOf(sl.URL) }

type slack struct {
	url                         string
	channel, username, iconEmoj string
	http                        *httpTarget
}

var _ Sender = (*slack)(nil)

func (sl *SlackSpec) build(_ config.Channel, o Options) (Sender, error) {
	t, err := newHTTPTarget(sl.CAFile, sl.InsecureSkipVerify, o, showURL(sl.URL, secretPath), secretSegments(sl.URL)...)
	if err != nil {
		return nil, err
	}
	return &slack{url: sl.URL, channel: sl.Channel, username: sl.Username, iconEmoj: sl.IconEmoji, http: t}, nil
}

// secretSegments are the parts of a webhook URL that hold its token: the
// URL itself, its path, and each path segment but the well-known words.
func secretSegments(raw string) []string {
	out := []string{raw, urlPassword(raw)}
	u, err := url.Parse(raw)
	if err != nil {
		return out
	}
	out = append(out, u.Path, u.RawQuery)
	for _, seg := range strings.FieldsFunc(u.Path+"/"+u.RawQuery, func(r rune) bool { return r == '/' || r == '&' || r == '=' }) {
		switch strings.ToLower(seg) {
		case "services", "hooks", "api", "webhooks", "slack", "github":
		default:
			out = append(out, seg)
		}
	}
	return out
}

// slackEscape escapes what Slack's mrkdwn treats as markup (&, <, >), so
// an alert's text cannot mention @channel or forge a link.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// Colors of an alert's attachment by what it is.
const (
	colorCritical = "#D32F2F"
	colorWarning  = "#F9A825"
	colorInfo     = "#1E88E5"
	colorResolved = "#2E7D32"
)

// alertColor is the attachment (or embed) color of an alert.
func alertColor(a model.Alert) string {
	if a.State != model.AlertFiring {
		return colorResolved
	}
	switch a.Severity {
	case config.SeverityCritical:
		return colorCritical
	case config.SeverityWarning:
		return colorWarning
	}
	return colorInfo
}

type slackField struct {
	Title string `json:"title"`
	Value string `json:"value"`
	Short bool   `json:"short"`
}

type slackAttachment struct {
	Fallback  string       `json:"fallback"`
	Color     string       `json:"color"`
	Title     string       `json:"title"`
	TitleLink string       `json:"title_link,omitempty"`
	Text      string       `json:"text,omitempty"`
	Fields    []slackField `json:"fields,omitempty"`
}

type slackMessage struct {
	Text        string            `json:"text"`
	Channel     string            `json:"channel,omitempty"`
	Username    string            `json:"username,omitempty"`
	IconEmoji   string            `json:"icon_emoji,omitempty"`
	Attachments []slackAttachment `json:"attachments"`
}

// slackBody renders the message: the title as text, one attachment per
// alert (colored by severity, green when resolved) with its reason, where
// and since when.
func (sl *slack) slackBody(m model.AlertMessage) ([]byte, error) {
	msg := slackMessage{
		Text:        slackEscape(truncateRunes(m.Title(), maxSlackText, "…")),
		Channel:     sl.channel,
		Username:    sl.username,
		IconEmoji:   sl.iconEmoj,
		Attachments: []slackAttachment{},
	}
	if m.Test {
		msg.Text += "\nThis is a test message: the channel works."
	}
	for i, a := range m.Alerts {
		if i == maxSlackAttachments-1 && len(m.Alerts) > maxSlackAttachments {
			more := fmt.Sprintf("… and %d more", len(m.Alerts)-i)
			msg.Attachments = append(msg.Attachments, slackAttachment{Fallback: more, Color: colorInfo, Title: more})
			break
		}
		title := fmt.Sprintf("%s %s: %s", strings.ToUpper(string(a.State)), a.Severity, a.Summary)
		att := slackAttachment{
			Fallback:  slackEscape(truncateRunes(oneLine(title), maxSlackText, "…")),
			Color:     alertColor(a),
			Title:     slackEscape(truncateRunes(oneLine(title), maxSlackText, "…")),
			TitleLink: webURL(a.URL),
			Text:      slackEscape(truncateRunes(a.Reason, maxSlackText, truncatedMarker)),
		}
		if w := where(a); w != "" {
			att.Fields = append(att.Fields, slackField{Title: "Where", Value: slackEscape(truncateRunes(w, maxSlackText, "…"))})
		}
		att.Fields = append(att.Fields, slackField{Title: "Since", Value: a.StartsAt.UTC().Format(time.RFC3339), Short: true})
		if !a.EndsAt.IsZero() {
			att.Fields = append(att.Fields, slackField{Title: "Ended", Value: a.EndsAt.UTC().Format(time.RFC3339), Short: true})
		}
		msg.Attachments = append(msg.Attachments, att)
	}
	return marshalJSON(msg)
}

// Send posts the message to the webhook.
func (sl *slack) Send(ctx context.Context, m model.AlertMessage) error {
	b, err := sl.slackBody(m)
	if err != nil {
		return Permanent(err)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return sl.http.send(ctx, m.ID, httpRequest{method: http.MethodPost, url: sl.url, body: b, header: h})
}
