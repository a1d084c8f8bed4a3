package config

import (
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Auth modes.
const (
	AuthNone  = "none"
	AuthLocal = "local"
	AuthProxy = "proxy"
	AuthOIDC  = "oidc"
)

// Roles, from the least to the most trusted.
const (
	RoleViewer   = "viewer"   // reads dashboards, checks, chat, alerts
	RoleOperator = "operator" // also posts in chat, silences, acknowledges, runs checks
	RoleAdmin    = "admin"    // everything, the audit log included
)

// Token scopes.
const (
	ScopeRead    = "read"    // the JSON API and pages' data, read only
	ScopeMetrics = "metrics" // /metrics only
	ScopeWrite   = "write"   // the API, writes included (silences...)
)

// Auth says who may see and do what.
type Auth struct {
	// Mode is none, local, proxy or oidc.
	Mode string `yaml:"mode"`
	// AllowUnauthenticated lets mode none listen on a non-loopback address;
	// the dashboard then shows a warning banner.
	AllowUnauthenticated bool         `yaml:"allow_unauthenticated"`
	Users                []User       `yaml:"users"`
	Tokens               []Token      `yaml:"tokens"`
	Proxy                AuthProxyCfg `yaml:"proxy"`
	OIDC                 OIDC         `yaml:"oidc"`
	Session              Session      `yaml:"session"`
	// Public lists what anyone may read without signing in: "badges"
	// (default), "healthz" (default), "metrics", "api", "status".
	Public []string `yaml:"public"`
}

// User is a local account.
type User struct {
	Name string `yaml:"name"`
	// PasswordHash is what `dashd passwd` prints (argon2id or bcrypt);
	// never a plaintext password.
	PasswordHash string `yaml:"password_hash"`
	Role         string `yaml:"role"`
}

// Token is an API token for machines (Authorization: Bearer).
type Token struct {
	Name  string `yaml:"name"`
	Hash  string `yaml:"hash"`
	Scope string `yaml:"scope"`
}

// AuthProxyCfg is the trusted proxy header mode: a reverse proxy that
// authenticates (oauth2-proxy, Authelia, Authentik, Caddy forward_auth)
// names the user in a header.
type AuthProxyCfg struct {
	// UserHeader names the user (default Remote-User).
	UserHeader string `yaml:"user_header"`
	// GroupsHeader lists the user's groups, comma separated (default
	// Remote-Groups).
	GroupsHeader string `yaml:"groups_header"`
	// Trusted lists the proxies' addresses or CIDR prefixes; the headers
	// of anyone else are ignored (and stripped).
	Trusted []string `yaml:"trusted"`
	// Roles maps groups to roles; DefaultRole applies to a named user in
	// none of them.
	Roles       RoleGroups `yaml:"roles"`
	DefaultRole string     `yaml:"default_role"`

	// TrustedPrefixes is Trusted parsed by validation.
	TrustedPrefixes []netip.Prefix `yaml:"-"`
}

// RoleGroups maps roles to the groups that grant them; a user gets the
// highest role any of their groups grants.
type RoleGroups struct {
	Admin    []string `yaml:"admin"`
	Operator []string `yaml:"operator"`
	Viewer   []string `yaml:"viewer"`
}

// OIDC is sign-in with an OpenID Connect provider.
type OIDC struct {
	Issuer       string `yaml:"issuer"`
	ClientID     string `yaml:"client_id"`
	ClientSecret string `yaml:"client_secret"`
	// RedirectURL is dashd's callback as the provider knows it:
	// https://dash.example.org/auth/callback.
	RedirectURL string   `yaml:"redirect_url"`
	Scopes      []string `yaml:"scopes"`
	// GroupsClaim names the ID token claim listing the user's groups
	// (default groups).
	GroupsClaim string     `yaml:"groups_claim"`
	Roles       RoleGroups `yaml:"roles"`
	DefaultRole string     `yaml:"default_role"`
}

// Session bounds signed-in browser sessions.
type Session struct {
	// Idle ends a session not used for this long (default 12h).
	Idle Duration `yaml:"idle"`
	// Absolute ends any session this long after sign-in (default 7d).
	Absolute Duration `yaml:"absolute"`
}

// DefaultAuth is mode none: today's single-host behaviour.
func DefaultAuth() Auth {
	return Auth{
		Mode:    AuthNone,
		Proxy:   AuthProxyCfg{UserHeader: "Remote-User", GroupsHeader: "Remote-Groups", DefaultRole: RoleViewer},
		OIDC:    OIDC{GroupsClaim: "groups", Scopes: []string{"openid", "profile", "email"}, DefaultRole: RoleViewer},
		Session: Session{Idle: Duration(12 * time.Hour), Absolute: Duration(7 * 24 * time.Hour)},
		Public:  []string{"badges", "healthz"},
	}
}

// Public surfaces.
func publicSurfaces() []string { return []string{"badges", "healthz", "metrics", "api", "status"} }

// IsPublic reports whether a surface may be read without signing in.
func (a Auth) IsPublic(surface string) bool {
	for _, p := range a.Public {
		if p == surface {
			return true
		}
	}
	return false
}

// RoleRank orders roles: a larger rank may do more. Unknown roles rank 0.
func RoleRank(role string) int {
	switch role {
	case RoleViewer:
		return 1
	case RoleOperator:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

func validRole(r string) bool { return RoleRank(r) > 0 }

func (a *Auth) validate(sc Scope) {
	switch a.Mode {
	case AuthNone, AuthLocal, AuthProxy, AuthOIDC:
	default:
		sc.Errorf("mode", "must be none, local, proxy or oidc, got %q", a.Mode)
	}
	seen := map[string]int{}
	for i, u := range a.Users {
		us := sc.Index("users", i)
		us.Required("name", u.Name == "")
		if first, dup := seen[u.Name]; dup && u.Name != "" {
			us.Errorf("name", "duplicate user %q (first is users[%d])", u.Name, first)
		}
		seen[u.Name] = i
		switch {
		case u.PasswordHash == "":
			us.Errorf("password_hash", "missing required key: print one with `dashd passwd`")
		case !looksLikeHash(u.PasswordHash):
			us.Errorf("password_hash", "is not a password hash (argon2id or bcrypt): print one with `dashd passwd`; never put a password here")
		}
		if !validRole(u.Role) {
			us.Errorf("role", "must be viewer, operator or admin, got %q", u.Role)
		}
	}
	tseen := map[string]bool{}
	for i, t := range a.Tokens {
		ts := sc.Index("tokens", i)
		ts.Required("name", t.Name == "")
		if tseen[t.Name] && t.Name != "" {
			ts.Errorf("name", "duplicate token name %q", t.Name)
		}
		tseen[t.Name] = true
		if !looksLikeHash(t.Hash) {
			ts.Errorf("hash", "is not a hash (argon2id or bcrypt): print one with `echo -n TOKEN | dashd passwd`")
		}
		switch t.Scope {
		case ScopeRead, ScopeMetrics, ScopeWrite:
		default:
			ts.Errorf("scope", "must be read, metrics or write, got %q", t.Scope)
		}
	}
	for i, p := range a.Public {
		ok := false
		for _, s := range publicSurfaces() {
			ok = ok || p == s
		}
		if !ok {
			sc.Index("public", i).Errorf("", "unknown surface %q (badges, healthz, metrics, api, status)", p)
		}
	}
	if a.Session.Idle.D() < time.Minute || a.Session.Absolute.D() < a.Session.Idle.D() || a.Session.Absolute.D() > 400*24*time.Hour {
		sc.Child("session").Errorf("", "idle must be at least 1m and absolute at least idle and at most 400d")
	}
	ps := sc.Child("proxy")
	a.Proxy.TrustedPrefixes = nil
	for i, t := range a.Proxy.Trusted {
		p, err := netip.ParsePrefix(t)
		if err != nil {
			addr, aerr := netip.ParseAddr(t)
			if aerr != nil {
				ps.Index("trusted", i).Errorf("", "%q is not an address or CIDR prefix", t)
				continue
			}
			p = netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen())
		}
		a.Proxy.TrustedPrefixes = append(a.Proxy.TrustedPrefixes, p.Masked())
	}
	roleGroups(ps.Child("roles"), a.Proxy.Roles)
	if !validRole(a.Proxy.DefaultRole) && a.Proxy.DefaultRole != "" {
		ps.Errorf("default_role", "must be viewer, operator or admin, got %q", a.Proxy.DefaultRole)
	}
	os := sc.Child("oidc")
	roleGroups(os.Child("roles"), a.OIDC.Roles)
	switch a.Mode {
	case AuthLocal:
		if len(a.Users) == 0 {
			sc.Errorf("users", "mode local needs at least one user (name, password_hash from `dashd passwd`, role)")
		}
	case AuthProxy:
		if len(a.Proxy.Trusted) == 0 {
			ps.Errorf("trusted", "mode proxy needs the proxies' addresses: their headers are believed from nobody else")
		}
		if a.Proxy.UserHeader == "" {
			ps.Required("user_header", true)
		}
	case AuthOIDC:
		os.Required("issuer", a.OIDC.Issuer == "")
		os.Required("client_id", a.OIDC.ClientID == "")
		os.Required("redirect_url", a.OIDC.RedirectURL == "")
		for _, k := range []struct{ key, v string }{{"issuer", a.OIDC.Issuer}, {"redirect_url", a.OIDC.RedirectURL}} {
			if k.v == "" {
				continue
			}
			if u, err := url.Parse(k.v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				os.Errorf(k.key, "must be an http(s) URL, got %q", k.v)
			}
		}
		if !validRole(a.OIDC.DefaultRole) && a.OIDC.DefaultRole != "" {
			os.Errorf("default_role", "must be viewer, operator or admin, got %q", a.OIDC.DefaultRole)
		}
	}
}

// ExposedWithoutAuth says why a configuration must not start: auth is off
// and dashd would listen beyond loopback without the operator saying so.
// It is checked at start, after --listen, not at validation.
func (c *Config) ExposedWithoutAuth() string {
	if c.Auth.Mode != AuthNone || c.Auth.AllowUnauthenticated || IsLoopbackListen(c.Server.Listen) {
		return ""
	}
	return "listening on " + c.Server.Listen + " (not a loopback address) with auth.mode none: anyone who reaches the port could read " +
		"and act on the dashboard. Set auth.mode to local, proxy or oidc, or state the intent with auth.allow_unauthenticated: true"
}

func roleGroups(sc Scope, r RoleGroups) {
	for key, list := range map[string][]string{"admin": r.Admin, "operator": r.Operator, "viewer": r.Viewer} {
		for i, g := range list {
			if strings.TrimSpace(g) == "" {
				sc.Index(key, i).Errorf("", "empty group name")
			}
		}
	}
}

// looksLikeHash reports whether s is a PHC argon2id string or a bcrypt
// hash: a plaintext password is never one.
func looksLikeHash(s string) bool {
	return strings.HasPrefix(s, "$argon2id$") || strings.HasPrefix(s, "$2a$") || strings.HasPrefix(s, "$2b$") || strings.HasPrefix(s, "$2y$")
}

// IsLoopbackListen reports whether a listen address only accepts local
// connections (127.0.0.0/8, ::1, localhost).
func IsLoopbackListen(listen string) bool {
	host := listen
	if i := strings.LastIndex(listen, ":"); i >= 0 {
		host = listen[:i]
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}
