package config

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Redaction hides credentials from what dashd shows: a check's Source on the
// check page and in the API, configuration problems on the dashboard banner
// and in /readyz (which may be public), and logs. It never changes what runs.
//
// A value made only of ${VAR} references reveals nothing and is always kept as
// written: the secret lives in the environment, which is where it belongs.

// Redacted replaces a hidden credential.
const Redacted = "***"

// hider performs redaction and, when non-nil, records every secret it hid so
// the same strings can be scrubbed from messages that quote them. The exported
// Redact* functions use a nil hider.
type hider struct {
	found []string
}

func (h *hider) hide(secret, marker string) string {
	if h != nil && secret != "" {
		h.found = append(h.found, secret)
	}
	return marker
}

// revealsNothing reports whether v can be shown as is: empty, or only ${VAR}
// references.
func revealsNothing(v string) bool {
	v = strings.TrimSpace(v)
	if v == "" {
		return true
	}
	for v != "" {
		if !strings.HasPrefix(v, "${") {
			return false
		}
		end := strings.IndexByte(v, '}')
		if end < 0 || !validEnvName(v[2:end]) {
			return false
		}
		v = strings.TrimSpace(v[end+1:])
	}
	return true
}

// secretWords make a name (a YAML key, a query parameter, a command-line flag,
// an environment variable) secret wherever they appear in it, ignoring case,
// '-', '_' and '.'.
var secretWords = []string{
	"password", "passwd", "passphrase", "secret", "token", "apikey", "privatekey",
	"accesskey", "credential", "signature", "sessionkey",
}

// secretNames are secret only as the whole (normalised) name: "key=" in a
// query string is a credential, "keyboard" is not.
var secretNames = map[string]bool{
	"key": true, "pass": true, "pwd": true, "auth": true, "sig": true,
	"authorization": true, "cookie": true, "session": true, "sessionid": true,
}

// notSecretSuffixes name where a secret is, not the secret itself
// (password_file, token_url, --password-stdin).
var notSecretSuffixes = []string{"file", "path", "url", "stdin", "env", "type", "length"}

// LooksSecret reports whether a name (a YAML key, a query parameter, a flag
// or an environment variable name) says its value is a credential: password,
// passwd, token, secret, api_key, private_key, client_secret, credentials,
// signature, key, auth, ... Names that point at a secret rather than hold
// one (password_file, token_url) are not.
func LooksSecret(name string) bool {
	n := normaliseName(name)
	if n == "" {
		return false
	}
	for _, s := range notSecretSuffixes {
		if strings.HasSuffix(n, s) && n != s {
			return false
		}
	}
	if secretNames[n] || strings.HasSuffix(n, "key") {
		return true
	}
	for _, w := range secretWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

func normaliseName(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch r {
		case '-', '_', '.', ' ':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// sensitiveHeaders are always secret, whatever LooksSecret says.
var sensitiveHeaders = map[string]bool{
	"authorization": true, "proxy-authorization": true, "cookie": true, "set-cookie": true,
	"x-api-key": true, "x-auth-token": true,
}

// headerWords make a header name sensitive wherever they appear in it.
var headerWords = []string{"token", "secret", "key", "password", "passwd", "auth", "cookie", "session", "credential", "signature"}

// SensitiveHeader reports whether an HTTP header carries credentials:
// Authorization, Proxy-Authorization, Cookie, Set-Cookie, X-Api-Key,
// X-Auth-Token, and any name containing token, secret, key, password, auth,
// cookie, session, credential or signature (ignoring case).
func SensitiveHeader(name string) bool {
	n := strings.ToLower(strings.TrimSpace(name))
	if sensitiveHeaders[n] {
		return true
	}
	for _, w := range headerWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// RedactHeader returns value as it may be shown for header name: unchanged
// for ordinary headers and ${VAR} references; for sensitive ones the
// credentials become *** and an authentication scheme stays readable
// ("Bearer ***").
func RedactHeader(name, value string) string {
	var h *hider
	return h.header(name, value)
}

func (h *hider) header(name, value string) string {
	if !SensitiveHeader(name) || revealsNothing(value) {
		return value
	}
	trimmed := strings.TrimSpace(value)
	if scheme, creds, ok := strings.Cut(trimmed, " "); ok && authScheme(scheme) {
		creds = strings.TrimSpace(creds)
		if revealsNothing(creds) {
			return value
		}
		return scheme + " " + h.hide(creds, Redacted)
	}
	return h.hide(trimmed, Redacted)
}

// authScheme reports whether s looks like an HTTP authentication scheme
// (Bearer, Basic, Token, Digest, AWS4-HMAC-SHA256, ...).
func authScheme(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case i > 0 && (r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'):
		default:
			return false
		}
	}
	return true
}

// RedactURL hides the credentials in one URL: the password of its userinfo
// (scheme://user:***@host), a long user-only userinfo (a token used as the
// user name), and the values of query and fragment parameters whose name
// looks secret (token, access_token, key, api_key, password, secret,
// signature, sig, auth, ...). Everything else, ${VAR} references included,
// is kept as written.
func RedactURL(s string) string {
	var h *hider
	return h.url(s)
}

// maxPlainUser is the longest user-only userinfo shown: longer ones are
// usually access tokens (https://ghp_xxx@github.com/).
const maxPlainUser = 16

func (h *hider) url(s string) string {
	var b strings.Builder
	rest := s
	if i := strings.Index(s, "://"); i >= 0 {
		b.WriteString(s[:i+3])
		rest = s[i+3:]
		end := strings.IndexAny(rest, "/?#")
		if end < 0 {
			end = len(rest)
		}
		authority := rest[:end]
		if at := strings.LastIndexByte(authority, '@'); at >= 0 {
			b.WriteString(h.userinfo(authority[:at]))
			b.WriteString(authority[at:])
		} else {
			b.WriteString(authority)
		}
		rest = rest[end:]
	}
	q, f := strings.IndexByte(rest, '?'), strings.IndexByte(rest, '#')
	if f >= 0 && q > f {
		q = -1 // a '?' inside the fragment
	}
	switch {
	case q >= 0 && f >= 0:
		b.WriteString(rest[:q+1])
		b.WriteString(h.params(rest[q+1 : f]))
		b.WriteByte('#')
		b.WriteString(h.params(rest[f+1:]))
	case q >= 0:
		b.WriteString(rest[:q+1])
		b.WriteString(h.params(rest[q+1:]))
	case f >= 0:
		b.WriteString(rest[:f+1])
		b.WriteString(h.params(rest[f+1:]))
	default:
		b.WriteString(rest)
	}
	return b.String()
}

func (h *hider) userinfo(u string) string {
	user, pass, ok := strings.Cut(u, ":")
	switch {
	case ok && !revealsNothing(pass):
		return user + ":" + h.hide(pass, Redacted)
	case !ok && len(u) > maxPlainUser && !revealsNothing(u):
		return h.hide(u, Redacted)
	}
	return u
}

// params redacts secret-named values in "a=1&token=x" (a query string, or a
// fragment such as "#access_token=x").
func (h *hider) params(q string) string {
	if !strings.Contains(q, "=") {
		return q
	}
	parts := strings.Split(q, "&")
	for i, p := range parts {
		name, value, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		if un, err := url.QueryUnescape(name); err == nil {
			name = un
		}
		if LooksSecret(name) && !revealsNothing(value) {
			parts[i] = p[:len(p)-len(value)] + h.hide(value, Redacted)
		}
	}
	return strings.Join(parts, "&")
}

// urlRE finds URLs inside free text (command lines, messages).
var urlRE = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>` + "`" + `]+`)

// RedactURLs applies RedactURL to every URL found in free text (a command
// line, an error message), leaving the rest unchanged.
func RedactURLs(s string) string {
	var h *hider
	return h.urls(s)
}

func (h *hider) urls(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	return urlRE.ReplaceAllStringFunc(s, h.url)
}

// RedactArgv returns a copy of a command's argv fit to show: the value of a
// secret-named flag (--password=x, --token x), of a secret-named NAME=value
// item or word (PGPASSWORD=x, "dbname=d password=x"), the password of
// -u/--user user:pass, sensitive header lines ("Authorization: Bearer x"),
// and URL credentials. Ambiguous short forms such as -pSECRET are left alone.
func RedactArgv(argv []string) []string {
	var h *hider
	return h.argv(argv)
}

// userFlags take "user:password" as their next argument (curl, wget, ...).
var userFlags = map[string]bool{"-u": true, "--user": true, "--proxy-user": true, "-U": true}

func (h *hider) argv(argv []string) []string {
	out := make([]string, len(argv))
	var nextSecret, nextUser bool
	for i, a := range argv {
		switch {
		case nextSecret:
			out[i] = a
			if !revealsNothing(a) {
				out[i] = h.hide(a, Redacted)
			}
		case nextUser && strings.Contains(a, ":"):
			out[i] = h.userinfo(a)
		default:
			out[i] = h.urls(h.argItem(a))
		}
		nextSecret, nextUser = false, false
		if out[i] != a || !strings.HasPrefix(a, "-") || strings.ContainsAny(a, "= ") {
			continue
		}
		nextUser = userFlags[a]
		nextSecret = !nextUser && LooksSecret(strings.TrimLeft(a, "-"))
	}
	return out
}

// argItem redacts one argument: a sensitive header line, or NAME=value words
// (flags with "=", environment assignments, key=value connection strings).
func (h *hider) argItem(a string) string {
	if name, value, ok := strings.Cut(a, ":"); ok && headerName(name) && SensitiveHeader(name) {
		lead := value[:len(value)-len(strings.TrimLeft(value, " "))]
		return name + ":" + lead + h.header(name, strings.TrimLeft(value, " "))
	}
	if !strings.Contains(a, "=") {
		return a
	}
	words := strings.Split(a, " ")
	for i, w := range words {
		name, value, ok := strings.Cut(w, "=")
		if ok && LooksSecret(strings.TrimLeft(name, "-")) && !revealsNothing(value) {
			words[i] = name + "=" + h.hide(value, Redacted)
		}
	}
	return strings.Join(words, " ")
}

// headerName reports whether s is an HTTP header field name token.
func headerName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// whole hides an entire value: a request body becomes "<redacted: N bytes>"
// (the size helps when comparing with what a server received), anything
// else ***.
func (h *hider) whole(v, key string) string {
	if revealsNothing(v) {
		return v
	}
	if bodyKeys[key] {
		return h.hide(v, fmt.Sprintf("<redacted: %d bytes>", len(v)))
	}
	return h.hide(v, Redacted)
}

// bodyKeys hold request bodies (http body, tcp send): shown only as their
// size, unless they are only ${VAR} references.
var bodyKeys = map[string]bool{"body": true, "send": true}
