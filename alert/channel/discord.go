package channel

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/model"
)

// DiscordSpec configures a Discord webhook channel.
type DiscordSpec struct {
	// URL is the webhook URL (https://discord.com/api/webhooks/ID/TOKEN);
	// its path is a secret and never shown.
	URL string `yaml:"url"`
	// Username and AvatarURL override the webhook's name and picture.
	Username           string `yaml:"username"`
	AvatarURL          string `yaml:"avatar_url"`
	CAFile             string `yaml:"ca_file"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// Discord's limits on a webhook message.
const (
	discordMaxContent     = 2000
	discordMaxEmbeds      = 10
	discordMaxTitle       = 256
	discordMaxDescription = 4096
	// discordMaxEmbedTotal bounds the characters of all embeds together.
	discordMaxEmbedTotal = 6000
)

func newDiscordSpec() *DiscordSpec { return &DiscordSpec{} }

// Validate reports problems with positions.
func (d *DiscordSpec) Validate(s config.Scope) {
	validateHTTPURL(s, "url", d.URL, secretPath)
	if d.AvatarURL != "" {
		validateHTTPURL(s, "avatar_url", d.AvatarURL, plainURL)
	}
	if utf8.RuneCountInString(d.Username) > 80 || strings.ContainsAny(d.Username, "\r\n") {
		s.Errorf("username", "must be one line of at most 80 characters")
	}
	validateTLS(s, d.CAFile, d.InsecureSkipVerify)
}

func (d *DiscordSpec) describe() string { return "discord to " + hostOf(d.URL) }

type discord struct {
	url, username, avatar string
	http                  *httpTarget
}

var _ Sender = (*discord)(nil)

func (d *DiscordSpec) build(_ config.Channel, o Options) (Sender, error) {
	t, err := newHTTPTarget(d.CAFile, d.InsecureSkipVerify, o, showURL(d.URL, secretPath), secretSegments(d.URL)...)
	if err != nil {
		return nil, err
	}
	return &discord{url: d.URL, username: d.Username, avatar: d.AvatarURL, http: t}, nil
}

type discordEmbed struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	Color       int    `json:"color"`
	URL         string `json:"url,omitempty"`
	Timestamp   string `json:"timestamp,omitempty"`
}

type discordMessage struct {
	Content   string         `json:"content"`
	Username  string         `json:"username,omitempty"`
	AvatarURL string         `json:"avatar_url,omitempty"`
	Embeds    []discordEmbed `json:"embeds"`
	// AllowedMentions with no parse list: text in an alert never pings
	// @everyone, a role or a user.
	AllowedMentions struct {
		Parse []string `json:"parse"`
	} `json:"allowed_mentions"`
}

// colorInt is a "#RRGGBB" color as Discord's integer.
func colorInt(c string) int {
	n, _ := strconv.ParseInt(strings.TrimPrefix(c, "#"), 16, 32)
	return int(n)
}

// discordBody renders the message: the title as content, one embed per
// alert (at most 10, the last saying how many more), each cut to Discord's
// limits with a marker. The descriptions share what the titles leave of
// the 6,000 characters all embeds may hold.
func (d *discord) discordBody(m model.AlertMessage) ([]byte, error) {
	content := m.Title()
	if m.Test {
		content += "\nThis is a test message: the channel works."
	}
	msg := discordMessage{
		Content:   truncateRunes(content, discordMaxContent, "…"),
		Username:  d.username,
		AvatarURL: d.avatar,
		Embeds:    []discordEmbed{},
	}
	msg.AllowedMentions.Parse = []string{}
	shownAlerts := m.Alerts
	if len(shownAlerts) > discordMaxEmbeds {
		shownAlerts = shownAlerts[:discordMaxEmbeds-1]
	}
	used := 0
	for _, a := range shownAlerts {
		title := truncateRunes(oneLine(fmt.Sprintf("%s %s: %s", strings.ToUpper(string(a.State)), a.Severity, a.Summary)), discordMaxTitle, "…")
		used += utf8.RuneCountInString(title)
		e := discordEmbed{Title: title, Color: colorInt(alertColor(a)), URL: webURL(a.URL)}
		at := a.StartsAt
		if !a.EndsAt.IsZero() {
			at = a.EndsAt
		}
		if !at.IsZero() {
			e.Timestamp = at.UTC().Format(time.RFC3339)
		}
		msg.Embeds = append(msg.Embeds, e)
	}
	if more := len(m.Alerts) - len(shownAlerts); more > 0 {
		title := fmt.Sprintf("… and %d more", more)
		used += utf8.RuneCountInString(title)
		msg.Embeds = append(msg.Embeds, discordEmbed{Title: title, Color: colorInt(colorInfo)})
	}
	if len(shownAlerts) > 0 {
		each := min(discordMaxDescription, (discordMaxEmbedTotal-used)/len(shownAlerts))
		for i, a := range shownAlerts {
			msg.Embeds[i].Description = truncateRunes(discordDescription(a), each, truncatedMarker)
		}
	}
	return marshalJSON(msg)
}

// discordDescription is an alert's detail lines, as in Text.
func discordDescription(a model.Alert) string {
	var b strings.Builder
	if a.Reason != "" {
		b.WriteString(a.Reason + "\n")
	}
	if w := where(a); w != "" {
		b.WriteString(w + "\n")
	}
	b.WriteString("since " + a.StartsAt.UTC().Format(time.RFC3339))
	if !a.EndsAt.IsZero() {
		b.WriteString(", ended " + a.EndsAt.UTC().Format(time.RFC3339))
	}
	return b.String()
}

// Send posts the message to the webhook. Discord's 429 answers carry the
// wait in Retry-After and in the body's retry_after (seconds).
func (d *discord) Send(ctx context.Context, m model.AlertMessage) error {
	b, err := d.discordBody(m)
	if err != nil {
		return Permanent(err)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	req := httpRequest{method: http.MethodPost, url: d.url, body: b, header: h}
	ans, err := d.http.do(ctx, m.ID, req)
	if err != nil {
		return d.http.scrub.wrap(err)
	}
	err = d.http.check(req.method, ans)
	if ans.status == http.StatusTooManyRequests {
		if _, ok := RetryAfter(err); !ok {
			var rl struct {
				RetryAfter float64 `json:"retry_after"`
			}
			if json.Unmarshal(ans.body, &rl) == nil {
				err = withRetryAfter(err, time.Duration(min(rl.RetryAfter, maxRetryAfter.Seconds())*float64(time.Second)))
			}
		}
	}
	return d.http.scrub.wrap(err)
}
