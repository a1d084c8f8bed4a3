package config

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// CORS lets web pages served from other origins read dashd's read-only
// API (/api/v1 reads, badges) from a browser: an internal portal that
// shows check states, say. It is off (no origin listed) by default.
//
// Only exact origins are listed ("https://portal.example.org", with a
// port when it is not the scheme's default); a wildcard is refused, and
// credentials are never allowed, so a page elsewhere cannot read the API
// with the cookie session of a signed-in user: with sign-in on, such a
// page needs "api" in auth.public or its own API token. Writes are never
// offered cross-origin.
type CORS struct {
	AllowedOrigins []string `yaml:"allowed_origins"`
}

// Enabled reports whether any origin may read cross-origin.
func (c CORS) Enabled() bool { return len(c.AllowedOrigins) > 0 }

// Allows reports whether a request's Origin header is one of the listed
// origins (compared as normalised by validation: lower-case scheme and
// host, no trailing slash).
func (c CORS) Allows(origin string) bool {
	if origin == "" {
		return false
	}
	n, problem := normaliseOrigin(origin)
	return problem == "" && slices.Contains(c.AllowedOrigins, n)
}

func (c *CORS) validate(sc Scope) {
	for i, o := range c.AllowedOrigins {
		n, problem := normaliseOrigin(o)
		if problem != "" {
			sc.Index("allowed_origins", i).Errorf("", "%s", problem)
			continue
		}
		c.AllowedOrigins[i] = n
	}
}

// normaliseOrigin checks one origin and returns it as browsers send it in
// Origin (scheme://host[:port], lower case), or a problem.
func normaliseOrigin(o string) (string, string) {
	if o == "*" || strings.Contains(o, "*") {
		return "", fmt.Sprintf("%q: list exact origins such as https://portal.example.org; wildcards are not accepted", o)
	}
	u, err := url.Parse(o)
	if err != nil || u.Host == "" {
		return "", fmt.Sprintf("%q is not an origin such as https://portal.example.org", o)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Sprintf("%q: the scheme must be http or https", o)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Sprintf("%q: an origin is scheme://host[:port] alone, without path, query or user", o)
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host), ""
}
