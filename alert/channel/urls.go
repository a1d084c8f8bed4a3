package channel

import (
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/dashd/dashd/config"
)

// urlShape says how a channel's URL may be shown.
type urlShape int

const (
	// plainURL hides userinfo passwords and secret query parameters
	// (config.RedactURL): a webhook, ntfy or Alertmanager address.
	plainURL urlShape = iota
	// secretPath also hides the whole path: Slack, Mattermost and Discord
	// webhook URLs carry their token in it.
	secretPath
)

// showURL returns raw as messages may show it.
func showURL(raw string, shape urlShape) string {
	if shape == plainURL {
		return config.RedactURL(raw)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return config.Redacted
	}
	out := u.Scheme + "://" + u.Host
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
		out += "/" + config.Redacted
	}
	return out
}

// validateHTTPURL reports a value under key that is not an absolute
// http(s) URL with a host. Messages show it as shape allows.
func validateHTTPURL(s config.Scope, key, raw string, shape urlShape) {
	if raw == "" {
		s.Required(key, true)
		return
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		s.Errorf(key, "must be an http:// or https:// URL with a host, got %q", showURL(raw, shape))
	case u.Fragment != "":
		s.Errorf(key, "must not have a #fragment (it is never sent), got %q", showURL(raw, shape))
	}
}

// hostOf is the host[:port] of a URL for Describe, "" when there is none.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}

// joinURL appends path to a base URL, with exactly one slash between.
func joinURL(base, path string) string {
	return strings.TrimRight(base, "/") + "/" + strings.TrimLeft(path, "/")
}

// isLoopback reports whether host (a name or an address, without port)
// is this machine: localhost, 127.0.0.0/8, ::1.
func isLoopback(host string) bool {
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// reservedHeaders are set by dashd itself; a channel's headers: may not
// replace them.
var reservedHeaders = []string{
	"Content-Length", "Transfer-Encoding", "Connection", "Host", "Te", "Trailer", "Upgrade",
	"Idempotency-Key", "X-Dashd-Signature", "X-Dashd-Timestamp",
}

// validateHeaders reports header names that are not HTTP tokens, values
// with line breaks, and headers dashd sets itself.
func validateHeaders(s config.Scope, headers map[string]string) {
	hs := s.Child("headers")
	for name, v := range headers {
		canon := http.CanonicalHeaderKey(name)
		switch {
		case !validHeaderName(name):
			hs.Errorf(name, "%q is not a valid header name", name)
		case strings.ContainsAny(v, "\r\n\x00"):
			hs.Errorf(name, "the value must be one line")
		case canon == "Content-Type":
			hs.Errorf(name, "set the body's type with content_type")
		default:
			for _, r := range reservedHeaders {
				if canon == r {
					hs.Errorf(name, "%s is set by dashd", r)
				}
			}
		}
	}
}

func validHeaderName(n string) bool {
	if n == "" {
		return false
	}
	for _, r := range n {
		if r > 0x7e || r <= 0x20 || strings.ContainsRune("\"(),/:;<=>?@[\\]{}", r) {
			return false
		}
	}
	return true
}
