package channel

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/model"
)

// WebhookSpec configures a webhook channel: an HTTP request per message,
// with the default JSON document or a body of the operator's template, and
// an optional HMAC-SHA256 signature.
type WebhookSpec struct {
	URL string `yaml:"url"`
	// Method is POST (default) or PUT.
	Method string `yaml:"method"`
	// Headers are added to every request (Authorization: "Bearer ${TOKEN}").
	Headers map[string]string `yaml:"headers"`
	// BodyTemplate replaces the default JSON document: a Go text/template
	// over the model.AlertMessage.
	BodyTemplate string `yaml:"body_template"`
	// ContentType is the body's media type (default application/json).
	ContentType string `yaml:"content_type"`
	// Secret signs every request (X-Dashd-Signature, X-Dashd-Timestamp).
	Secret             string `yaml:"secret"`
	CAFile             string `yaml:"ca_file"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// Defaults and limits of a webhook channel.
const (
	DefaultWebhookContentType = "application/json"
	// maxTemplateBody bounds what a body_template may produce.
	maxTemplateBody = 1 << 20
	// SignatureHeader and TimestampHeader carry a signed webhook's
	// signature and the time it was made.
	SignatureHeader = "X-Dashd-Signature"
	TimestampHeader = "X-Dashd-Timestamp"
)

func newWebhookSpec() *WebhookSpec {
	return &WebhookSpec{Method: http.MethodPost, ContentType: DefaultWebhookContentType}
}

// Validate reports problems with positions.
func (w *WebhookSpec) Validate(s config.Scope) {
	validateHTTPURL(s, "url", w.URL, plainURL)
	w.Method = strings.ToUpper(w.Method)
	if w.Method != http.MethodPost && w.Method != http.MethodPut {
		s.Errorf("method", "must be POST or PUT, got %q", w.Method)
	}
	validateHeaders(s, w.Headers)
	if _, _, err := mime.ParseMediaType(w.ContentType); err != nil || strings.ContainsAny(w.ContentType, "\r\n") {
		s.Errorf("content_type", "%q is not a media type such as application/json", w.ContentType)
	}
	if w.BodyTemplate != "" {
		if err := checkTemplate(w.BodyTemplate); err != nil {
			s.Errorf("body_template", "%v", err)
		}
	}
	if s.Has("secret") && w.Secret == "" {
		s.Errorf("secret", "must not be empty (leave the key out to send unsigned requests)")
	}
	validateTLS(s, w.CAFile, w.InsecureSkipVerify)
}

func (w *WebhookSpec) describe() string { return "webhook to " + hostOf(w.URL) }

// templateFuncs are the functions a body_template may call besides Go's
// built-ins: json (a value as JSON, for strings inside a JSON body), upper,
// lower, join (a list with a separator) and rfc3339 (a time).
func templateFuncs() template.FuncMap {
	return template.FuncMap{
		"json": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
		"upper": strings.ToUpper,
		"lower": strings.ToLower,
		"join":  func(list []string, sep string) string { return strings.Join(list, sep) },
		"rfc3339": func(t time.Time) string {
			return t.UTC().Format(time.RFC3339)
		},
	}
}

func parseTemplate(src string) (*template.Template, error) {
	return template.New("body_template").Funcs(templateFuncs()).Option("missingkey=error").Parse(src)
}

// checkTemplate parses a body template and runs it on a sample message, so
// a field that does not exist is found at config time, not at 3 a.m.
func checkTemplate(src string) error {
	t, err := parseTemplate(src)
	if err != nil {
		return fmt.Errorf("bad template: %s", strings.TrimPrefix(err.Error(), "template: "))
	}
	if _, err := render(t, sampleMessage()); err != nil {
		return fmt.Errorf("template fails on a sample message: %s", strings.TrimPrefix(err.Error(), "template: "))
	}
	return nil
}

// sampleMessage is a message with every field set, for checkTemplate.
func sampleMessage() model.AlertMessage {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return model.AlertMessage{
		ID: "sample", Channel: "sample", Host: "host", ExternalURL: "https://dash.example.org", Time: at,
		Alerts: []model.Alert{{
			Key: "check:web", Source: model.AlertSourceCheck, Name: "web",
			Labels:   map[string]string{"host": "host", "check": "web", "severity": config.SeverityCritical},
			Severity: config.SeverityCritical, State: model.AlertFiring, Summary: "web is down", Reason: "HTTP 503",
			StartsAt: at, URL: "https://dash.example.org/checks/web",
		}},
	}
}

// render runs a body template, refusing output above maxTemplateBody.
func render(t *template.Template, m model.AlertMessage) ([]byte, error) {
	var buf cappedWriter
	buf.max = maxTemplateBody
	if err := t.Execute(&buf, m); err != nil {
		if errors.Is(err, errTooLong) {
			return nil, fmt.Errorf("body_template produced more than %d bytes", maxTemplateBody)
		}
		return nil, err
	}
	return buf.Bytes(), nil
}

var errTooLong = errors.New("too long")

// cappedWriter is a buffer that fails once it would grow past max.
type cappedWriter struct {
	bytes.Buffer
	max int
}

func (c *cappedWriter) Write(p []byte) (int, error) {
	if c.Len()+len(p) > c.max {
		return 0, errTooLong
	}
	return c.Buffer.Write(p)
}

type webhook struct {
	url, method, contentType string
	headers                  http.Header
	tmpl                     *template.Template
	secret                   []byte
	http                     *httpTarget
}

var _ Sender = (*webhook)(nil)

func (w *WebhookSpec) build(_ config.Channel, o Options) (Sender, error) {
	wh := &webhook{url: w.URL, method: strings.ToUpper(w.Method), contentType: w.ContentType, headers: http.Header{}, secret: []byte(w.Secret)}
	if wh.method == "" {
		wh.method = http.MethodPost
	}
	if wh.contentType == "" {
		wh.contentType = DefaultWebhookContentType
	}
	secrets := []string{w.Secret, urlPassword(w.URL)}
	for k, v := range w.Headers {
		wh.headers.Set(k, v)
		if config.SensitiveHeader(k) {
			secrets = append(secrets, v)
			if _, cred, ok := strings.Cut(v, " "); ok {
				secrets = append(secrets, strings.TrimSpace(cred))
			}
		}
	}
	if w.BodyTemplate != "" {
		t, err := parseTemplate(w.BodyTemplate)
		if err != nil {
			return nil, fmt.Errorf("body_template: %w", err)
		}
		wh.tmpl = t
	}
	t, err := newHTTPTarget(w.CAFile, w.InsecureSkipVerify, o, showURL(w.URL, plainURL), secrets...)
	if err != nil {
		return nil, err
	}
	wh.http = t
	return wh, nil
}

// urlPassword is the password of a URL's userinfo, "" when none.
func urlPassword(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return ""
	}
	p, _ := u.User.Password()
	return p
}

// Send posts the message.
func (w *webhook) Send(ctx context.Context, m model.AlertMessage) error {
	var body []byte
	var err error
	if w.tmpl != nil {
		body, err = render(w.tmpl, m)
		if err != nil {
			// The same template fails the same way on a retry.
			return Permanent(w.http.scrub.wrap(fmt.Errorf("body_template: %w", err)))
		}
	} else if body, err = payloadJSON(m); err != nil {
		return Permanent(err)
	}
	h := w.headers.Clone()
	h.Set("Content-Type", w.contentType)
	if len(w.secret) > 0 {
		ts := strconv.FormatInt(w.http.now().Unix(), 10)
		h.Set(TimestampHeader, ts)
		h.Set(SignatureHeader, Sign(w.secret, ts, body))
	}
	return w.http.send(ctx, m.ID, httpRequest{method: w.method, url: w.url, body: body, header: h})
}

// Sign returns the X-Dashd-Signature value of a webhook request:
// "sha256=" and the hex HMAC-SHA256, keyed with the channel's secret, of
// the X-Dashd-Timestamp value, a dot, and the raw body. Receivers compute
// the same and compare in constant time (see the package documentation).
func Sign(secret []byte, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(timestamp))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}
