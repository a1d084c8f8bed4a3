package channel

import (
	"context"
	"encoding/base64"
	"mime"
	"net/http"
	"regexp"
	"strings"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/model"
)

// NtfySpec configures an ntfy channel: the message's text posted to a topic
// of an ntfy server (https://ntfy.sh or your own), with its title,
// priority, tags and a click link in ntfy's headers.
type NtfySpec struct {
	// URL is the server (default https://ntfy.sh).
	URL   string `yaml:"url"`
	Topic string `yaml:"topic"`
	// Token is an access token (Authorization: Bearer); Username and
	// Password are basic authentication instead.
	Token    string `yaml:"token"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// Tags are added to the ones dashd sets (severity emoji, "dashd").
	Tags               []string `yaml:"tags"`
	CAFile             string   `yaml:"ca_file"`
	InsecureSkipVerify bool     `yaml:"insecure_skip_verify"`
}

// DefaultNtfyURL is the public ntfy server.
const DefaultNtfyURL = "https://ntfy.sh"

// ntfyTopicRE is what ntfy accepts as a topic name.
var ntfyTopicRE = regexp.MustCompile(`^[-_A-Za-z0-9]{1,64}$`)

// maxNtfyTitle bounds the Title header (ntfy shows one line).
const maxNtfyTitle = 250

func newNtfySpec() *NtfySpec { return &NtfySpec{URL: DefaultNtfyURL} }

// Validate reports problems with positions.
func (n *NtfySpec) Validate(s config.Scope) {
	validateHTTPURL(s, "url", n.URL, plainURL)
	switch {
	case n.Topic == "":
		s.Required("topic", true)
	case !ntfyTopicRE.MatchString(n.Topic):
		s.Errorf("topic", "must be 1 to 64 letters, digits, '-' or '_'")
	}
	if n.Token != "" && (n.Username != "" || n.Password != "") {
		s.Errorf("token", "use either token or username/password, not both")
	}
	if (n.Username == "") != (n.Password == "") {
		s.Errorf("username", "username and password go together")
	}
	for i, t := range n.Tags {
		if t == "" || strings.ContainsAny(t, ",\r\n") {
			s.Index("tags", i).Errorf("", "a tag must be a non-empty word without commas")
		}
	}
	validateTLS(s, n.CAFile, n.InsecureSkipVerify)
}

// describe leaves the topic out: on a public server, whoever knows it can
// read the messages.
func (n *NtfySpec) describe() string { return "ntfy to " + hostOf(n.URL) }

type ntfy struct {
	url  string
	auth string // the Authorization header, "" for none
	tags []string
	http *httpTarget
}

var _ Sender = (*ntfy)(nil)

func (n *NtfySpec) build(_ config.Channel, o Options) (Sender, error) {
	base := n.URL
	if base == "" {
		base = DefaultNtfyURL
	}
	auth := ""
	switch {
	case n.Token != "":
		auth = "Bearer " + n.Token
	case n.Username != "":
		auth = "Basic " + basicAuth(n.Username, n.Password)
	}
	// The topic is a secret on a shared server: errors show the server only.
	t, err := newHTTPTarget(n.CAFile, n.InsecureSkipVerify, o, showURL(joinURL(base, config.Redacted), plainURL),
		n.Token, n.Password, n.Topic, urlPassword(base), strings.TrimPrefix(auth, "Basic "))
	if err != nil {
		return nil, err
	}
	return &ntfy{url: joinURL(base, n.Topic), auth: auth, tags: n.Tags, http: t}, nil
}

// basicAuth is the credentials part of a Basic Authorization header.
func basicAuth(user, password string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
}

// ntfyPriority maps severities to ntfy's priorities: critical 5 (urgent),
// warning 4 (high), info 3 (default), all resolved 2 (low).
func ntfyPriority(m model.AlertMessage) string {
	switch worst(m) {
	case config.SeverityCritical:
		return "5"
	case config.SeverityWarning:
		return "4"
	case "":
		return "2"
	}
	return "3"
}

// ntfyTags are emoji short codes ntfy shows in front of the title, then
// "dashd" and the channel's own tags.
func (n *ntfy) ntfyTags(m model.AlertMessage) string {
	var tags []string
	switch worst(m) {
	case config.SeverityCritical:
		tags = append(tags, "rotating_light")
	case config.SeverityWarning:
		tags = append(tags, "warning")
	case "":
		tags = append(tags, "white_check_mark")
	default:
		tags = append(tags, "information_source")
	}
	tags = append(tags, "dashd")
	tags = append(tags, n.tags...)
	return strings.Join(tags, ",")
}

// headerText fits text for an ntfy header: one line, bounded, and RFC 2047
// encoded when it is not plain ASCII (ntfy decodes it).
func headerText(s string, limit int) string {
	return mime.BEncoding.Encode("utf-8", truncateRunes(oneLine(s), limit, "…"))
}

// Send posts the message's text to the topic.
func (n *ntfy) Send(ctx context.Context, m model.AlertMessage) error {
	h := http.Header{}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Title", headerText(m.Title(), maxNtfyTitle))
	h.Set("Priority", ntfyPriority(m))
	h.Set("Tags", headerText(n.ntfyTags(m), maxNtfyTitle))
	for _, a := range m.Alerts {
		if u := webURL(a.URL); u != "" {
			h.Set("Click", u)
			break
		}
	}
	if n.auth != "" {
		h.Set("Authorization", n.auth)
	}
	return n.http.send(ctx, m.ID, httpRequest{method: http.MethodPost, url: n.url, body: []byte(body(m)), header: h})
}
