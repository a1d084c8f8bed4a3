package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Server configures the HTTP listener and what it accepts.
type Server struct {
	// Listen is host:port; --listen overrides it.
	Listen string `yaml:"listen"`
	// AllowedHosts lists the host names accepted in the Host header besides
	// loopback names, IP literals, the listen host and the machine's host
	// name: a guard against DNS rebinding, where a web page re-points its
	// own name at 127.0.0.1 to read a dashboard listening on loopback.
	// Entries are lower-case host names or "*.suffix" wildcards (which do
	// not match the suffix itself), without port or scheme.
	AllowedHosts []string `yaml:"allowed_hosts"`
	// Limits caps connections and streams so that no client, however many
	// connections it opens, can exhaust dashd's file descriptors.
	Limits Limits `yaml:"limits"`
	// TLS serves HTTPS with this certificate and key (PEM files), reloaded
	// on SIGHUP and when the files change; empty serves plain HTTP.
	TLS TLS `yaml:"tls"`
	// CORS lets pages on other origins read the read-only API (cors.go);
	// off by default.
	CORS CORS `yaml:"cors"`
}

// TLS names the certificate and key files of HTTPS.
type TLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// Enabled reports whether HTTPS is configured.
func (t TLS) Enabled() bool { return t.CertFile != "" }

// Limits caps connections and live streams, in total and per client
// address. Zero means "derive from RLIMIT_NOFILE at start", which the server
// does, leaving room for storage, checks and /proc.
type Limits struct {
	MaxConnections           int `yaml:"max_connections"`
	MaxConnectionsPerAddress int `yaml:"max_connections_per_address"`
	MaxStreams               int `yaml:"max_streams"`
	MaxStreamsPerAddress     int `yaml:"max_streams_per_address"`
}

// maxLimit is Linux's default ceiling for RLIMIT_NOFILE (fs.nr_open): no cap
// above it can ever be reached.
const maxLimit = 1 << 20

func (s *Server) validate(sc Scope) {
	if _, port, err := net.SplitHostPort(s.Listen); err != nil {
		sc.Errorf("listen", "must be host:port, e.g. 127.0.0.1:8080 (%v)", err)
	} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		sc.Errorf("listen", "port %q must be a number from 0 to 65535", port)
	}
	for i, h := range s.AllowedHosts {
		norm, problem := normaliseAllowedHost(h)
		if problem != "" {
			sc.Index("allowed_hosts", i).Errorf("", "%s", problem)
			continue
		}
		s.AllowedHosts[i] = norm
	}
	s.Limits.validate(sc.Child("limits"))
	s.CORS.validate(sc.Child("cors"))
	ts := sc.Child("tls")
	// The pair itself is loaded by the daemon at start (and by dashd
	// validate), not here: a reload caught in the middle of a renewal
	// would otherwise be rejected for a key that does not apply anyway.
	if (s.TLS.CertFile == "") != (s.TLS.KeyFile == "") {
		ts.Errorf("", "set both cert_file and key_file, or neither")
	}
}

func (l Limits) validate(sc Scope) {
	for _, f := range []struct {
		key string
		v   int
	}{
		{"max_connections", l.MaxConnections},
		{"max_connections_per_address", l.MaxConnectionsPerAddress},
		{"max_streams", l.MaxStreams},
		{"max_streams_per_address", l.MaxStreamsPerAddress},
	} {
		if f.v < 0 || f.v > maxLimit {
			sc.Errorf(f.key, "must be between 0 (derived from the open-file limit) and %d, got %d", maxLimit, f.v)
		}
	}
	for _, p := range []struct {
		small, large   string
		smallV, largeV int
		why            string
	}{
		{"max_connections_per_address", "max_connections", l.MaxConnectionsPerAddress, l.MaxConnections, "one address cannot use more than all connections"},
		{"max_streams_per_address", "max_streams", l.MaxStreamsPerAddress, l.MaxStreams, "one address cannot hold more than all streams"},
		{"max_streams", "max_connections", l.MaxStreams, l.MaxConnections, "every stream holds a connection"},
		{"max_streams_per_address", "max_connections_per_address", l.MaxStreamsPerAddress, l.MaxConnectionsPerAddress, "every stream holds a connection"},
	} {
		if p.smallV > 0 && p.largeV > 0 && p.smallV > p.largeV {
			sc.Errorf(p.small, "must not exceed %s (%d): %s; got %d", p.large, p.largeV, p.why, p.smallV)
		}
	}
}

// normaliseAllowedHost checks one allowed_hosts entry and returns it in the
// form HostAllowed compares (lower case, no trailing dot), or a problem.
func normaliseAllowedHost(h string) (string, string) {
	switch {
	case h == "":
		return "", "must not be empty"
	case strings.Contains(h, "://"):
		_, rest, _ := strings.Cut(h, "://")
		host, _, _ := strings.Cut(rest, "/")
		return "", fmt.Sprintf("%q has a scheme: write the host name alone, e.g. %q", h, stripPort(host))
	case h == "*":
		return "", "a lone * would accept any Host header and turn the DNS-rebinding guard off: list the names, or a wildcard such as *.example.org"
	}
	if ip := net.ParseIP(strings.Trim(h, "[]")); ip != nil {
		return strings.ToLower(strings.Trim(h, "[]")), "" // IP literals are always accepted; listing one is harmless
	}
	if host, port, err := net.SplitHostPort(h); err == nil {
		return "", fmt.Sprintf("%q has a port (%s): write %q; the Host header is accepted on any port", h, port, host)
	}
	if strings.Contains(h, "/") {
		return "", fmt.Sprintf("%q has a path: write the host name alone", h)
	}
	n := strings.TrimSuffix(strings.ToLower(h), ".")
	name := strings.TrimPrefix(n, "*.")
	if strings.Contains(name, "*") {
		return "", fmt.Sprintf("%q: a wildcard must be the whole first label, e.g. *.example.org", h)
	}
	if !validHostName(name) {
		return "", fmt.Sprintf("%q is not a host name (labels of letters, digits, '-' and '_', separated by dots)", h)
	}
	return n, ""
}

func stripPort(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		return host
	}
	return h
}

// validHostName reports whether s is a DNS name: 1-63 character labels of
// letters, digits, '-' (not at either end) and '_', 253 characters at most.
func validHostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// HostAllowed reports whether host (a Host header value, with or without a
// port) matches an entry of AllowedHosts: the same name, or a name under a
// "*.suffix" wildcard. Loopback names, IP literals, the listen host and the
// machine's host name are accepted by the caller, not here.
func (s Server) HostAllowed(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "" {
		return false
	}
	for _, a := range s.AllowedHosts {
		a = strings.TrimSuffix(strings.ToLower(a), ".")
		if suffix, ok := strings.CutPrefix(a, "*"); ok {
			if strings.HasSuffix(host, suffix) && len(host) > len(suffix) {
				return true
			}
		} else if host == a {
			return true
		}
	}
	return false
}
